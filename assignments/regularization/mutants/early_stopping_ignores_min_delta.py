class EarlyStopping(EarlyStopping):
    def __init__(self, patience, min_delta=0.0, mode="min"):
        super().__init__(patience, 0.0, mode)  # any gain counts as an improvement
        self.min_delta_given = min_delta
