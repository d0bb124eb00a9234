# ruff: noqa: F821  (appended to a submission that defines np and Network)
# The script form of homework 1: the file trains its network while it is loaded (one
# epoch here, to keep the test short) and leaves it in the global `net`, which the
# grader then tests instead of training one itself.
_x = np.load("mnist/X_train.npy")
_y = np.eye(10)[np.load("mnist/y_train.npy")]
net = Network(784, 128, 10, lr=0.1)
for _start in range(0, len(_x), 64):
    net.step(_x[_start : _start + 64], _y[_start : _start + 64])
