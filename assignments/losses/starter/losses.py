"""Homework: loss functions and their gradients, in NumPy only.

Every function returns a pair ``(loss, grad)``: ``loss`` is a number (the mean
over the batch, as torch.nn's losses reduce by default) and ``grad`` is
d loss / d (first argument), an array shaped like the first argument.

Reductions, as torch's defaults:
- elementwise losses (mse, mae, smooth L1, BCE, BCE with logits) average over
  ALL elements of their (any-shaped) inputs, not over the rows only;
- classification losses (cross-entropy, NLL, focal) take (N, C) scores and N
  integer labels in [0, C) and average over the N samples.

Every function also takes ``reduction`` as torch's losses do: "mean" (the
default, as above), "sum" (the sum of the terms, and its gradient), or "none"
(the array of terms: shaped like the input for the elementwise losses, (N,) for
the classification ones; with the gradient of their sum).

Only the values returned are graded. Hidden checks call the logits losses with
logits as large as +-1000 (where exp overflows to inf) and BCE with
probabilities of exactly 0 and 1: the values must be right and finite there
(torch's BCELoss clamps each log term at -100). A warning that changes no
value costs nothing; a NaN or an inf does.
"""

import numpy as np  # noqa: F401  (you will need it)


def mse_loss(pred, target, reduction="mean"):
    """mean((pred - target)^2), as torch.nn.MSELoss.

    pred, target: arrays of the same (any) shape. Returns (loss, dloss/dpred).
    """
    raise NotImplementedError


def mae_loss(pred, target, reduction="mean"):
    """mean(|pred - target|), as torch.nn.L1Loss; the gradient uses sign(0) = 0.

    Returns (loss, dloss/dpred).
    """
    raise NotImplementedError


def smooth_l1_loss(pred, target, beta=1.0, reduction="mean"):
    """Smooth L1 (Huber-like), as torch.nn.SmoothL1Loss(beta=beta).

    Per element, d = pred - target: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta; averaged over all elements. Returns (loss, dloss/dpred).
    """
    raise NotImplementedError


def bce_loss(prob, target, reduction="mean"):
    """Binary cross-entropy on probabilities, as torch.nn.BCELoss.

    Per element: -(t log p + (1 - t) log(1 - p)), each log clamped at -100 (so
    p = 0 or p = 1 gives a finite loss). prob in [0, 1]; target the same shape.
    Returns (loss, dloss/dprob); the gradient is graded for 0 < p < 1 only.
    """
    raise NotImplementedError


def bce_with_logits_loss(logits, target, reduction="mean"):
    """sigmoid + binary cross-entropy in one stable step, as torch.nn.BCEWithLogitsLoss.

    Must be right for logits of any size (e.g. +-1000). Returns (loss, dloss/dlogits).
    """
    raise NotImplementedError


def cross_entropy_loss(logits, labels, reduction="mean"):
    """Softmax cross-entropy, as torch.nn.CrossEntropyLoss with class-index labels.

    logits: (N, C); labels: (N,) integers in [0, C). Returns (mean over N of
    -log softmax(logits)[label], dloss/dlogits of shape (N, C)). Must be right
    for logits as large as +-1000.
    """
    raise NotImplementedError


def nll_loss(log_probs, labels, reduction="mean"):
    """Negative log-likelihood, as torch.nn.NLLLoss: mean over N of -log_probs[i, labels[i]].

    log_probs: (N, C); labels: (N,). Returns (loss, dloss/dlog_probs of shape (N, C)).
    """
    raise NotImplementedError


def focal_loss(logits, labels, gamma=2.0, reduction="mean"):
    """Multi-class focal loss: mean over N of -(1 - p_t)^gamma log p_t.

    p_t = softmax(logits)[i, labels[i]]; gamma >= 0 (gamma = 0 is cross-entropy).
    Returns (loss, dloss/dlogits of shape (N, C)). Must be right for logits as
    large as +-1000.
    """
    raise NotImplementedError
