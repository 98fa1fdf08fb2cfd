"""The checkers of notebook 02's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import sympy as sp

import lnnlib as L
from lnnlib.exercises import nb02 as ex


def test_norm_difference_drift():
    rng = np.random.default_rng(0)
    start = L.gaussian_init([3, 3, 3, 3], 0.6, rng)
    target = np.diag([2.0, 1.0, 0.5])
    lr, steps = 0.01, 300

    def check(answer):
        return ex.check_norm_difference_drift(answer, start, target, lr=lr, steps=steps)

    # independent oracle: gradient descent written out with the layer-gradient formula for depth 3
    W1, W2, W3 = (W.copy() for W in start)
    for _ in range(steps):
        G = W3 @ W2 @ W1 - target
        W1, W2, W3 = W1 - lr * (W3 @ W2).T @ G, W2 - lr * W3.T @ G @ W1.T, W3 - lr * G @ (W2 @ W1).T

    def c(layers, norm=np.linalg.norm, power=2):
        return np.array([norm(layers[j + 1]) ** power - norm(layers[j]) ** power for j in range(2)])

    c0, c1 = c(start), c([W1, W2, W3])
    right = np.abs(c1 - c0) / np.abs(c0)
    assert np.all(right > 1e-4)  # the run changed them: the mistakes below are distinguishable
    assert check(right) == "Exercise 2.1: correct."
    assert check(list(right)) == "Exercise 2.1: correct."
    assert "absolute change" in check(np.abs(c1 - c0))
    assert "square the Frobenius norms" in check(
        np.abs(c([W1, W2, W3], power=1) - c(start, power=1)) / np.abs(c(start, power=1))
    )

    def spectral(W):
        return np.linalg.norm(W, 2)

    assert "spectral norm" in check(np.abs(c([W1, W2, W3], spectral) - c(start, spectral)) / np.abs(c(start, spectral)))
    assert "not at the end" in check(np.abs(c1 - c0) / np.abs(c1))
    gaps0 = [np.linalg.norm(start[j + 1].T @ start[j + 1] - start[j] @ start[j].T) for j in range(2)]
    layers = [W1, W2, W3]
    gaps1 = [np.linalg.norm(layers[j + 1].T @ layers[j + 1] - layers[j] @ layers[j].T) for j in range(2)]
    assert "gaps" in check(np.abs(np.array(gaps1) - gaps0) / np.array(gaps0))
    signed = (c1 - c0) / np.abs(c0)
    if not np.allclose(signed, right):
        assert "absolute value" in check(signed)
    assert "shape (3,)" in check(np.append(right, 0.0))
    for junk in ("abc", None, np.full(2, np.nan), 1.0, [right[0], ...]):
        message = check(junk)
        assert message.startswith("Exercise 2.1: ") and "correct." not in message, junk
    assert "NaN" in check(np.full(2, np.nan))
    assert "not attempted yet" in check(...)


def test_hyperbola_limit():
    start = (0.2, 1.5)

    def check(answer):
        return ex.check_hyperbola_limit(answer, start)

    # independent oracle: integrate the gradient flow w1' = -w2 (w1 w2 - 1), w2' = -w1 (w1 w2 - 1) with small RK4 steps
    def field(w):
        r = w[0] * w[1] - 1
        return -np.array([w[1] * r, w[0] * r])

    w, h = np.array(start), 0.01
    for _ in range(3000):
        k1 = field(w)
        k2 = field(w + h / 2 * k1)
        k3 = field(w + h / 2 * k2)
        k4 = field(w + h * k3)
        w = w + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    assert check(w) == "Exercise 2.2: correct."
    assert check(tuple(w)) == "Exercise 2.2: correct."
    x = sp.sqrt((-sp.Rational(221, 100) + sp.sqrt(sp.Rational(221, 100) ** 2 + 4)) / 2)
    assert check([x, 1 / x]) == "Exercise 2.2: correct."  # sympy numbers
    assert "swapped" in check(w[::-1])
    assert "balanced start" in check([1.0, 1.0])
    assert "other branch" in check(-w)
    assert "rescaled the start" in check(np.array(start) / np.sqrt(start[0] * start[1]))
    assert "close, but not exact" in check(np.round(w, 3))
    assert "not a global minimum" in check([0.5, 1.0])
    assert "not on the start's hyperbola" in check([0.5, 2.0])
    u = sp.Symbol("u")
    assert "symbols u" in check([u, 1 / u])
    for junk in ("abc", None, [np.nan, 1.0], [1.0, 2.0, 3.0], 1.0, [sp.I, 1]):
        message = check(junk)
        assert message.startswith("Exercise 2.2: ") and "correct." not in message, junk
    assert "NaN" in check([np.nan, 1.0])
    assert "not attempted yet" in check(...)
    assert "not attempted yet" in check((..., ...))
