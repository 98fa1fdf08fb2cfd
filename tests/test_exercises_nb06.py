"""The checkers of notebook 06's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest
import sympy as sp

from lnnlib.exercises import nb06 as ex

Y, W0 = (8.0, 1.0), (0.01, 0.01)


def threshold_by_iteration(p):
    """Independent oracle: the largest rate whose first GD step on r_1 = w_1(0) - y_1 does not grow |r_1|,
    found by bisection on the map r -> r (1 - eta/2 |r|^(p-2))."""
    r = W0[0] - Y[0]
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if abs(r * (1 - mid / 2 * abs(r) ** (p - 2))) <= abs(r) else (lo, mid)
    return lo


@pytest.mark.parametrize("p", [4, 6])
def test_divergence_threshold(p):
    def check(answer):
        return ex.check_divergence_threshold(answer, Y, W0, p)

    right = threshold_by_iteration(p)
    assert check(right) == "Exercise 6.1: correct."
    assert check(sp.Integer(4) / sp.Rational(799, 100) ** (p - 2)) == "Exercise 6.1: correct."  # a sympy number
    r1, r2 = 7.99, 0.99
    assert "not p" in check(4 / r1**p)
    assert "has a 4" in check(2 / r1 ** (p - 2))
    assert "quadratic loss" in check(4 / ((p - 1) * r1 ** (p - 2)))
    assert "you used y_1" in check(4 / 8.0 ** (p - 2))
    assert "slow coordinate" in check(4 / r2 ** (p - 2))
    if p != 4:
        assert "threshold for p = 4" in check(4 / r1**2)
    assert "wrong sign" in check(-right)
    assert "not the threshold" in check(0.5)
    assert "symbols eta" in check(sp.Symbol("eta") / 2)
    for junk in ("abc", None, [right, right], np.nan, sp.I):
        message = check(junk)
        assert message.startswith("Exercise 6.1: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "not attempted yet" in check(...)


def test_balance_drift():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    lr, steps = 0.05, 200

    def check(answer):
        return ex.check_balance_drift(answer, X, y, p=4, lr=lr, steps=steps)

    # independent oracle: the two layers' gradient steps written out, loss (1 / 4m) sum (x_i . w - y_i)^4
    v, omega = np.zeros(4), 1.0
    for _ in range(steps):
        r = X @ (omega * v) - y
        g = X.T @ r**3 / len(y)  # gradient of the loss at w = omega v
        v, omega = v - lr * omega * g, omega - lr * (v @ g)
    right = omega**2 - v @ v
    assert abs(right - 1) > 1e-3  # the run moved it: the mistake "start value" is distinguishable
    assert check(right) == "Exercise 6.2: correct."
    assert check(np.float64(right)) == "Exercise 6.2: correct."
    assert "value at the start" in check(1.0)
    assert "square both" in check(omega - np.linalg.norm(v))
    assert "wrong sign" in check(-right)
    assert "not omega_2^2 - ||v||^2 after the run" in check(0.5)
    for junk in ("abc", None, [right, right], np.nan, True):
        message = check(junk)
        assert message.startswith("Exercise 6.2: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "not attempted yet" in check(...)


def test_unbalanced_choice():
    assert ex.check_unbalanced_choice("b") == "Exercise 6.3: correct."
    assert "balanced start too" in ex.check_unbalanced_choice("a")
    assert "any loss" in ex.check_unbalanced_choice("c")
    assert "both resolutions" in ex.check_unbalanced_choice("d")
    for junk in ("e", 3, None, ["b"], np.array(["b"])):
        message = ex.check_unbalanced_choice(junk)
        assert message.startswith("Exercise 6.3: ") and "not one of the options" in message, junk
    assert "not attempted yet" in ex.check_unbalanced_choice(...)
