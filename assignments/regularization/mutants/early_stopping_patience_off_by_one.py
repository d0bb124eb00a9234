class EarlyStopping(EarlyStopping):
    def step(self, metric):
        super().step(metric)
        self.should_stop = self.num_bad_epochs > self.patience  # one epoch too late
        return self.should_stop
