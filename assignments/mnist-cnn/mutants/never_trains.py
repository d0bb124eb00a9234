# The model never trains: the optimiser is built over a new Net()'s parameters, so every
# step() moves a network nobody uses; the model the grader scores stays at chance.
def train(model, X_train, y_train, epochs=10):
    model.to(device)
    data = TensorDataset(
        torch.as_tensor(X_train, dtype=torch.float32).reshape(-1, 1, 28, 28),
        torch.as_tensor(y_train, dtype=torch.long),
    )
    loader = DataLoader(
        data, batch_size=BATCH_SIZE, shuffle=True, generator=torch.Generator().manual_seed(0)
    )
    optimizer = torch.optim.Adam(Net().parameters(), lr=LEARNING_RATE)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model
