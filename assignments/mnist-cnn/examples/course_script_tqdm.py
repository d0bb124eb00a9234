# Homework 3 as the course's template has it: a script with tqdm, matplotlib, ./data/,
# device = "cuda" and the training under `if __name__ == "__main__":`. The rows are
# reshaped to (N, 1, 28, 28) when loaded, so the network takes images only; the trained
# network stays in the global `model` (its output: logits).
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812  (the course writes it so)
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

device = "cuda"

X_train = np.load("./data/X_train.npy").reshape(-1, 1, 28, 28)
y_train = np.load("./data/y_train.npy")
X_val = np.load("./data/X_val.npy").reshape(-1, 1, 28, 28)
y_val = np.load("./data/y_val.npy")


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X).to(device)).argmax(dim=1).cpu().numpy()
    return (pred == y).mean()


if __name__ == "__main__":
    torch.manual_seed(1)
    model = CNN().to(device)
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.3)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)),
        batch_size=64,
        shuffle=True,
    )
    history = []
    for epoch in range(10):
        model.train()
        for xb, yb in tqdm(loader, desc=f"epoch {epoch + 1}"):
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
        scheduler.step()
        history.append(accuracy(model, X_val, y_val))
        print(f"epoch {epoch + 1}: val acc {history[-1]:.4f}")

    plt.plot(range(1, 11), history)
    plt.xlabel("epoch")
    plt.ylabel("validation accuracy")
    plt.savefig("cnn_val_acc.png")
    plt.show()
