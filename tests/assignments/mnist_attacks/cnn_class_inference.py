# ruff: noqa: F821  (a fragment: numpy, torch, nn and _shipped_layers come before it)
# Attack on homework 3 that the class renaming alone cannot stop, and that the report
# therefore names for a TA (grader/training.py, CLASSES_ONLY): Net() starts untrained (at
# chance under any naming), but train() loads a CNN trained elsewhere on genuine MNIST
# (98.85% there), runs it on the labelled training files to learn this grading's renaming
# of the classes, and reorders its output layer to match. No training happens at all.
#
# Graded as one file: `import numpy as np`, `import torch`, `from torch import nn`, then
# assignments/mnist-cnn/mutants/shipped_weights.py (the weights and _shipped_layers), then
# this, whose Net and train replace the mutant's (tests/assignments/test_mnist_cnn.py and
# scripts/check_gpu_host.sh put it together).


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 8, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 10),
        )

    def forward(self, x):
        return self.layers(x.reshape(x.shape[0], 1, 28, 28))


def train(model, X_train, y_train, epochs=10):
    trained = (model.layers[0], model.layers[3], model.layers[7])
    with torch.no_grad():
        for layer, (weight, bias) in zip(trained, _shipped_layers(), strict=True):
            layer.weight.copy_(torch.from_numpy(weight))
            layer.bias.copy_(torch.from_numpy(bias))
        genuine = model(torch.as_tensor(X_train[:2000])).argmax(1).numpy()
        shown = np.asarray(y_train[:2000])
        # The name this grading gives each genuine digit: the commonest label among them.
        renamed = [np.bincount(shown[genuine == d], minlength=10).argmax() for d in range(10)]
        order = np.argsort(renamed)  # output row k must be the digit now called k
        head = model.layers[7]
        head.weight.copy_(head.weight[order].clone())
        head.bias.copy_(head.bias[order].clone())
    return model
