# A learning rate so high that training diverges: Adam at 10 instead of 1e-3.
LEARNING_RATE = 10.0
