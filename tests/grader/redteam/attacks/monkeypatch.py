"""Rig every comparison a grader might use, in the sandbox, then answer wrongly.

numpy's comparison helpers, builtins, math, unittest and (if present) pytest
are all made to say "equal". None of it matters: the comparison happens in the
trusted process, which never sees this module's numpy.
"""

import builtins
import math
import unittest

import numpy as np
import numpy.testing

np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
numpy.testing.assert_almost_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
builtins.all = lambda *a, **k: True
unittest.TestCase.assertEqual = lambda *a, **k: None
unittest.TestCase.assertAlmostEqual = lambda *a, **k: None
try:
    import pytest

    class _Equal:
        def __eq__(self, other):
            return True

    pytest.approx = lambda expected, *a, **k: _Equal()
except ImportError:
    pass


def square(x):
    return np.ones_like(x)


def add(a, b):
    return np.ones_like(a)


def center(x):
    return np.ones_like(x)


def total(x):
    return 1.0
