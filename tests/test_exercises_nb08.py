"""The checkers of notebook 08's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest
import sympy as sp

from lnnlib.exercises import nb08 as ex

A = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]])  # the diagonals of A_1 = I and A_2 = diag(1, 0, -1)
Y = np.array([1.0, 0.2])


def offdiagonal(W):
    return ex.check_offdiagonal_minimizer(W, A, Y)


def test_offdiagonal_minimizer():
    # rank-one PSD fits v v^T, v_i = sqrt(x_i) for points x of the segment
    for tau in (0.05, 0.2, 0.35):
        v = np.sqrt([0.2 + tau, 0.8 - 2 * tau, tau])
        assert offdiagonal(np.outer(v, v)) == "Exercise 8.1: correct."
    # a rank-2 PSD fit: diag(x) + t (e_1 e_2^T + e_2 e_1^T), PSD for small t
    x = np.array([0.4, 0.4, 0.2])
    W = np.diag(x) + 0.1 * (np.eye(3)[:, [0]] @ np.eye(3)[[1]] + np.eye(3)[:, [1]] @ np.eye(3)[[0]])
    assert np.linalg.eigvalsh(W).min() > 0
    assert offdiagonal(W) == "Exercise 8.1: correct."
    assert offdiagonal(W.tolist()) == "Exercise 8.1: correct."
    assert "diagonal" in offdiagonal(np.diag(x))
    assert "is not y_1" in offdiagonal(np.outer(x, x))  # trace 0.36: misses the first measurement
    bad2 = np.outer(v, v) + np.diag([0.05, -0.1, 0.05])  # trace kept, W_11 - W_33 kept: still a fit
    assert offdiagonal(bad2) != "Exercise 8.1: correct."  # a negative direction: nuclear norm above 1
    bad_y2 = np.outer(v, v) + np.diag([0.05, 0.0, -0.05])
    assert "is not y_2" in offdiagonal(bad_y2)
    skew = np.diag(x) + 0.1 * (np.eye(3)[:, [0]] @ np.eye(3)[[1]])
    assert "not symmetric" in offdiagonal(skew)
    indefinite = np.diag(x) + 0.5 * (np.eye(3)[:, [0]] @ np.eye(3)[[2]] + np.eye(3)[:, [2]] @ np.eye(3)[[0]])
    assert np.linalg.eigvalsh(indefinite).min() < 0
    assert "negative eigenvalue" in offdiagonal(indefinite)
    assert "vector of 3 numbers" in offdiagonal(x)
    assert "shape (2, 2)" in offdiagonal(np.eye(2))
    for junk in ("abc", None, np.full((3, 3), np.nan), 1j * np.eye(3), [[1, 2], [3]], object()):
        message = offdiagonal(junk)
        assert message.startswith("Exercise 8.1: ") and "correct." not in message, junk
    assert "NaN" in offdiagonal(np.full((3, 3), np.nan))
    assert "not attempted yet" in offdiagonal(...)


def segment_minimizer(x):
    return ex.check_segment_minimizer(x, A, Y)


def test_segment_minimizer():
    # independent oracle: a fine grid over the segment, ends included
    taus = np.linspace(0, 0.4, 4001)
    pts = np.stack([0.2 + taus, 0.8 - 2 * taus, taus], axis=1)
    best = pts[np.argmin(np.sum(np.sqrt(pts), axis=1))]
    assert segment_minimizer(best) == "Exercise 8.2: correct."
    assert segment_minimizer([0.2, 0.8, 0.0]) == "Exercise 8.2: correct."
    assert "other end" in segment_minimizer(np.array([0.6, 0.0, 0.4]))
    assert "inside the segment" in segment_minimizer(pts[2000])
    assert "near an end" in segment_minimizer(pts[1])  # a grid without its end point
    assert "not on the segment" in segment_minimizer(np.array([1.0, 0.0, 0.0]))
    assert "not on the segment" in segment_minimizer(np.array([0.1, 1.0, -0.1]))  # a fit, but x_3 < 0
    assert "one number" in segment_minimizer(0.0)
    assert "not on the segment" in segment_minimizer(-best)
    for junk in ("abc", None, [np.nan] * 3, [0.2, 0.8], np.ones((3, 3)), object()):
        message = segment_minimizer(junk)
        assert message.startswith("Exercise 8.2: ") and "correct." not in message, junk
    assert "NaN" in segment_minimizer([np.nan] * 3)
    assert "shape" in segment_minimizer([0.2, 0.8])
    assert "not attempted yet" in segment_minimizer(...)


def test_segment_minimizer_other_instance():
    # for y_2 = 0.4 the other end wins: the checker compares the ends, it does not know one answer
    assert ex.check_segment_minimizer([0.7, 0.0, 0.3], A, [1.0, 0.4]) == "Exercise 8.2: correct."
    assert "other end" in ex.check_segment_minimizer([0.4, 0.6, 0.0], A, [1.0, 0.4])


def flow_limit(y2, depth, t_end=4000.0, alpha=1e-6):
    """Independent oracle: integrate gradient flow of x = w^N (entrywise) on 0.5 ||a x - y||^2 with an adaptive
    ODE solver, from x(0) = alpha (1, 1, 1); return tau = x_3 at the end."""
    scipy = pytest.importorskip("scipy.integrate")
    y = np.array([1.0, y2])

    def rhs(_, w):
        x = w**depth
        return -depth * w ** (depth - 1) * (A.T @ (A @ x - y))

    w0 = np.full(3, alpha ** (1 / depth))
    sol = scipy.solve_ivp(rhs, (0, t_end), w0, method="LSODA", rtol=1e-11, atol=1e-14)
    return float(sol.y[:, -1][2] ** depth)


def test_depth2_limit():
    right = flow_limit(0.4, 2)
    assert abs(right - ex.depth2_limit(0.4)) < 1e-5  # the closed form against the flow itself
    assert abs(flow_limit(0.2, 2) - (3.4 - np.sqrt(3.88)) / 6) < 1e-5  # notebook 08's instance

    def check(answer):
        return ex.check_depth2_limit(answer, 0.4)

    exact = (7 - np.sqrt(22)) / 15
    assert check(exact) == "Exercise 8.3: correct."
    assert check(sp.Rational(7, 15) - sp.sqrt(22) / 15) == "Exercise 8.3: correct."
    assert "outside the segment" in check((7 + np.sqrt(22)) / 15)
    assert "y_2 = 0.2" in check((3.4 - np.sqrt(3.88)) / 6)
    # x_1 x_2 = x_3^2: (0.4 + t)(0.6 - 2t) = t^2
    assert "not x_1 x_2 = x_3^2" in check((-0.2 + np.sqrt(0.04 + 12 * 0.24)) / 6)
    # the flows of depths 3 and 4 end at the maxima of S_2/3 and S_1/2 (our oracle: the flow itself, to 1e-3)
    assert "where depth 3 ends" in check(flow_limit(0.4, 3))
    assert "where depth 4 ends" in check(flow_limit(0.4, 4))
    assert "depth 1" in check(1 / 3 - 0.2)
    assert "end of the segment" in check(0.0)
    assert "end of the segment (x_2 = 0)" in check(0.3)
    assert "gradient descent's end point" in check(exact - 3e-4)
    assert "solve x_1 x_3 = x_2^2" in check(0.05)
    assert "wrong sign" in check(-exact)
    for junk in ("abc", None, [exact, exact], np.nan, sp.Symbol("tau"), True):
        message = check(junk)
        assert message.startswith("Exercise 8.3: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "not attempted yet" in check(...)
