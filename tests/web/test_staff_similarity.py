"""The similarity report's engine: renamed copies found, starter and common code ignored."""

from __future__ import annotations

import itertools

from web.staff.similarity import document, rank_pairs, tokens_of, winnow

STARTER = '''
"""Homework: activations."""
import numpy as np


def load_inputs(path):
    """Given to everyone: read the inputs."""
    with open(path) as fh:
        rows = [line.split(",") for line in fh if line.strip()]
    values = np.array([[float(v) for v in row] for row in rows], dtype=np.float64)
    return values.reshape(len(rows), -1)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    raise NotImplementedError
'''

ALICE = (
    STARTER.split("def sigmoid")[0]
    + """
def sigmoid(x):
    # stable for large |x|: never exponentiate a positive number
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def softmax(logits, axis=-1):
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
"""
)

# Alice's code with every name changed, comments reworded, a docstring added.
BOB_RENAMED = (
    STARTER.split("def sigmoid")[0]
    + '''
def sigmoid(z):
    """My own sigmoid, honest."""
    z = np.asarray(z, dtype=np.float64)
    result = np.empty_like(z)
    mask = z >= 0
    result[mask] = 1.0 / (1.0 + np.exp(-z[mask]))
    expz = np.exp(z[~mask])
    result[~mask] = expz / (1.0 + expz)
    return result


def softmax(scores, axis=-1):
    s = scores - np.max(scores, axis=axis, keepdims=True)
    ez = np.exp(s)
    return ez / np.sum(ez, axis=axis, keepdims=True)
'''
)

# An honest, different solution of the same functions.
CAROL = (
    STARTER.split("def sigmoid")[0]
    + """
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def softmax(logits, axis=-1):
    m = logits.max(axis=axis, keepdims=True)
    logsum = m + np.log(np.exp(logits - m).sum(axis=axis, keepdims=True))
    return np.exp(logits - logsum)
"""
)


def test_renaming_variables_and_comments_changes_no_token() -> None:
    assert [t.kind for t in tokens_of(ALICE)] == [t.kind for t in tokens_of(BOB_RENAMED)]
    assert [t.kind for t in tokens_of(ALICE)] != [t.kind for t in tokens_of(CAROL)]


def test_renamed_copy_ranks_first_and_is_fully_similar() -> None:
    pairs = rank_pairs(
        {
            "alice": {"activations.py": ALICE},
            "bob": {"activations.py": BOB_RENAMED},
            "carol": {"activations.py": CAROL},
        },
        {"activations.py": STARTER},
    )
    top = pairs[0]
    assert {top.a, top.b} == {"alice", "bob"}
    assert top.similarity == 1.0
    others = [p for p in pairs if {p.a, p.b} != {"alice", "bob"}]
    assert all(p.similarity < 0.3 for p in others)


def test_starter_code_is_not_evidence() -> None:
    subs = {"alice": {"activations.py": ALICE}, "carol": {"activations.py": CAROL}}
    # Without the starter, the given load_inputs makes them look alike ...
    without = rank_pairs(subs)
    assert without and without[0].shared > 0
    # ... with it removed, nothing they were both given counts.
    with_starter = rank_pairs(subs, {"activations.py": STARTER})
    assert all(p.similarity < 0.2 for p in with_starter)
    assert max((p.similarity for p in with_starter), default=0.0) < without[0].similarity


def test_fragments_point_at_the_copied_lines_on_both_sides() -> None:
    pairs = rank_pairs(
        {"alice": {"activations.py": ALICE}, "bob": {"activations.py": BOB_RENAMED}},
        {"activations.py": STARTER},
    )
    (pair,) = pairs
    alice_lines = ALICE.splitlines()
    sigmoid_at = next(i for i, s in enumerate(alice_lines, 1) if s.startswith("def sigmoid"))
    softmax_at = next(i for i, s in enumerate(alice_lines, 1) if s.startswith("def softmax"))
    covered = set()
    for f in pair.fragments:
        assert f.file_a == f.file_b == "activations.py"
        covered |= set(range(f.a_start, f.a_end + 1))
    # the copied bodies are covered; the starter's load_inputs is not
    assert {sigmoid_at + 3, softmax_at + 2} <= covered
    load_at = next(i for i, s in enumerate(alice_lines, 1) if "rows = [line" in s)
    assert load_at not in covered


def test_common_code_of_the_class_is_ignored() -> None:
    common = "def helper(a, b):\n    c = np.dot(a, b) + np.sum(a * b, axis=0)\n    return c * 2\n"
    # Six students all write the notes' formula, and otherwise write their own code.
    own = [
        f"def f(x):\n    y = x ** {n} + np.log1p(x) * {n}\n"
        f"    return np.clip(y, -{n}, {n})[::{n}]\n"
        for n in range(2, 8)
    ]
    subs = {f"s{n}": {"a.py": common + own[n]} for n in range(6)}
    # Counted as evidence, the shared formula makes every pair look alike ...
    assert min(p.similarity for p in rank_pairs(subs, common_share=1.0)) > 0.3
    # ... recognised as the class's common code, it makes none.
    assert rank_pairs(subs) == []


def test_a_file_that_does_not_parse_is_still_compared() -> None:
    broken = ALICE + "\ndef oops(:\n"
    pairs = rank_pairs(
        {"alice": {"activations.py": broken}, "bob": {"activations.py": BOB_RENAMED + "\n)"}},
        {"activations.py": STARTER},
    )
    assert pairs and pairs[0].similarity > 0.5


def test_winnowing_guarantee_any_long_shared_run_is_found() -> None:
    doc = document("x", {"a.py": CAROL})
    fps = winnow(doc.tokens)
    starts = sorted(f.start for f in fps)
    # consecutive fingerprints are never more than a window apart
    assert all(b - a <= 8 for a, b in itertools.pairwise(starts))
