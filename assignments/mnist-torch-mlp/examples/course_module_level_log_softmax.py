# Homework 2 trained at module level (no __main__ block), from ./mnist/, with .cuda(),
# torch.device("cuda"), torch.cuda.manual_seed and synchronize; one-hot labels turned
# back into classes; forward() returns log-probabilities and the loss is NLLLoss;
# SGD with momentum, a hand-written batch loop; the network is the global `net`.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 (the course's idiom)

torch.manual_seed(0)
torch.cuda.manual_seed_all(0)
device = torch.device("cuda")

X_train = np.load("./mnist/X_train.npy")
Y_train = np.eye(10)[np.load("./mnist/y_train.npy")]  # one-hot, as in homework 1


class Net(nn.Module):
    def __init__(self, hidden=200):
        super(Net, self).__init__()  # noqa: UP008 (as the course writes it)
        self.hidden = nn.Linear(28 * 28, hidden)
        self.out = nn.Linear(hidden, 10)

    def forward(self, x):
        return F.log_softmax(self.out(F.relu(self.hidden(x))), dim=1)


net = Net().cuda()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.NLLLoss()

X = torch.tensor(X_train).to(device)
y = torch.tensor(Y_train.argmax(axis=1)).to(device)
for epoch in range(10):
    perm = torch.randperm(len(X), device=device)
    total = 0.0
    for i in range(0, len(X), 64):
        idx = perm[i : i + 64]
        optimizer.zero_grad()
        loss = loss_fn(net(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    torch.cuda.synchronize()
    print("epoch", epoch, "loss", total / len(X))
