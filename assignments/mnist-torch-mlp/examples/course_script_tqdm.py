# Homework 2 as the course's template has it: a script with tqdm, matplotlib, ./data/,
# device = "cuda" and the training under `if __name__ == "__main__":`; the trained
# network stays in the global `model` (its output: logits).
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

device = "cuda"

X_train = np.load("./data/X_train.npy")
y_train = np.load("./data/y_train.npy")
X_val = np.load("./data/X_val.npy")
y_val = np.load("./data/y_val.npy")
X_test = np.load("./data/X_test.npy")
y_test = np.load("./data/y_test.npy")


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X).to(device)).argmax(dim=1).cpu().numpy()
    return (pred == y).mean()


if __name__ == "__main__":
    torch.manual_seed(42)
    model = MLP().to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    train_loader = DataLoader(
        TensorDataset(torch.from_numpy(X_train), torch.from_numpy(y_train)),
        batch_size=64,
        shuffle=True,
    )
    losses, accs = [], []
    for epoch in tqdm(range(10), desc="epochs"):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item()
        losses.append(running / len(train_loader))
        accs.append(evaluate(model, X_val, y_val))
        print(f"epoch {epoch + 1}: loss {losses[-1]:.4f}  val acc {accs[-1]:.4f}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(losses)
    ax1.set_title("training loss")
    ax2.plot(accs)
    ax2.set_title("validation accuracy")
    plt.savefig("curves.png")
    plt.show()
    print(f"test accuracy: {evaluate(model, X_test, y_test):.4f}")
