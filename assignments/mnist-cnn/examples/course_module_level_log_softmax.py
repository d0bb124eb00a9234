# Homework 3 written top to bottom, as many students do: the data from ./mnist/, the model
# sent with .cuda(), trained at module level (no __main__ block) with NLLLoss on a
# log-softmax output; the network takes the flat rows and reshapes them itself.
import numpy as np
import torch
from torch import nn

X_train = torch.tensor(np.load("./mnist/X_train.npy"))
y_train = torch.tensor(np.load("./mnist/y_train.npy"))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.2), nn.Linear(120, 10)
        )

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        return torch.log_softmax(self.head(self.conv(x)), dim=1)


torch.manual_seed(7)
model = Net().cuda()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.7)
loss_fn = nn.NLLLoss()
for epoch in range(10):
    model.train()
    perm = torch.randperm(len(X_train))
    for i in range(0, len(perm), 100):
        idx = perm[i : i + 100]
        xb, yb = X_train[idx].cuda(), y_train[idx].cuda()
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
    scheduler.step()
    print("epoch", epoch + 1, "loss", round(loss.item(), 4))
