"""The checkers of notebook 01's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import sympy as sp

from lnnlib.exercises import nb01 as ex


def test_second_minimum():
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    first = [W1, W2]

    def check(answer):
        return ex.check_second_minimum(answer, first)

    # right answers: any other minimum whose midpoint is not one (the property, checked independently here)
    A = np.eye(4) + 0.5 * rng.standard_normal((4, 4))
    for b in ([-W1, -W2], (A @ W1, W2 @ np.linalg.inv(A)), [2 * W1, W2 / 2]):
        middle = ((W2 + b[1]) / 2) @ ((W1 + b[0]) / 2)
        assert np.linalg.norm(middle - W2 @ W1) > 1e-3
        assert check(b) == "Exercise 1.1: correct."
    assert "W_2 first" in check([-W2, -W1])
    assert "not a global minimum" in check([W1, -W2])
    assert "first minimum again" in check([W1.copy(), W2.copy()])
    # move W_1 along the null space of W_2: still a minimum, and so is the midpoint
    null = np.linalg.svd(W2)[2][2:].T  # 4 x 2, W2 @ null = 0
    assert np.allclose(W2 @ null, 0)
    assert "midpoint of your two minima is a global minimum too" in check([W1 + null @ rng.standard_normal((2, 3)), W2])
    # junk
    for junk in ("abc", None, W1, [W1], [W1, W2, W1], [np.full((4, 3), np.nan), W2], [W1, "x"], [1j * W1, W2]):
        message = check(junk)
        assert message.startswith("Exercise 1.1: ") and "correct." not in message, junk
    assert "shape (3, 4)" in check([W1.T, W2])
    assert "NaN" in check([np.full((4, 3), np.nan), W2])
    assert "complex" in check([1j * W1, W2])
    assert "not attempted yet" in check([..., ...])
    assert "not attempted yet" in check(...)


def test_bottleneck_limit():
    rng = np.random.default_rng(1)
    Phi = rng.standard_normal((4, 6))

    def check(answer):
        return ex.check_bottleneck_limit(answer, Phi)

    # independent oracle: the best rank-2 matrix from the eigenvectors of Phi^T Phi (Eckart-Young)
    lam, V = np.linalg.eigh(Phi.T @ Phi)
    V2 = V[:, -2:]
    best = Phi @ V2 @ V2.T
    assert check(best) == "Exercise 1.2: correct."
    assert check(best + 1e-8) == "Exercise 1.2: correct."  # a converged GD run
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    assert "Phi itself has rank 4" in check(Phi)
    assert "rank 3, one too many" in check((U[:, :3] * s[:3]) @ Vt[:3])
    assert "rank 1" in check((U[:, :1] * s[:1]) @ Vt[:1])
    assert "smallest singular values" in check((U[:, 2:] * s[2:]) @ Vt[2:])
    assert "has rank 4, but no network" in check(Phi + np.eye(4, 6))
    assert "rank at most 2 but is not the closest" in check(0.9 * best + 0.1 * (U[:, :2] * s[:2]) @ Vt[[1, 0]])
    assert "transposed" in check(best.T)
    for junk in ("abc", None, np.full((4, 6), np.nan), np.ones((4, 5)), [[1.0, ...]]):
        message = check(junk)
        assert message.startswith("Exercise 1.2: ") and "correct." not in message, junk
    assert "NaN" in check(np.full((4, 6), np.nan))
    assert "not attempted yet" in check(...)


def test_plateau_time():
    y, a0 = 2.0, 0.01

    def check(answer):
        return ex.check_plateau_time(answer, y, a0)

    # independent oracle: bisection on the logistic curve
    def w(t):
        return y / (1 + (y / a0**2 - 1) * np.exp(-2 * y * t))

    lo, hi = 0.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if w(mid) < y / 2 else (lo, mid)
    assert check(lo) == "Exercise 1.3: correct."
    assert check(np.float64(lo)) == "Exercise 1.3: correct."
    assert check(sp.log(19999) / 4) == "Exercise 1.3: correct."  # a sympy number
    assert "drop the 2" in check(np.log(19999) / 2)
    assert "starts at a0^2" in check(np.log(199) / 4)
    assert "depth-1 model" in check(np.log(1.9999))
    assert "log10" in check(np.log10(19999) / 4)
    assert "wrong sign" in check(-lo)
    assert "not the time" in check(1.0)
    t = sp.Symbol("t")
    assert "symbols t" in check(t / 4)
    for junk in ("abc", None, [lo, lo], np.nan, 1j, sp.I):
        message = check(junk)
        assert message.startswith("Exercise 1.3: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "not attempted yet" in check(...)
    # section 3's start a0 = 0.1 (with a0 = 0.01 its time coincides with the unsquared-a0 mistake)
    assert "a0 = 0.1" in ex.check_plateau_time(np.log(199) / 4, 2.0, 0.001)
