"""The checkers of notebook 00's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest

from lnnlib.exercises import nb00 as ex

M, D = 8, 15


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, D))
    y = rng.standard_normal(M)
    w0 = rng.standard_normal(D)
    eta = 0.5 * M / np.linalg.norm(X, 2) ** 2
    prec = np.exp(rng.uniform(np.log(0.1), np.log(10.0), D))
    return X, y, w0, eta, prec


def junk_messages(check, label, good):
    """Junk answers get a message for this exercise that is neither "correct" nor a traceback."""
    for junk in ("abc", None, np.full(good.shape, np.nan), good[:-1], np.ones((2, 2)), [1.0, ...]):
        message = check(junk)
        assert message.startswith(f"Exercise {label}: ") and "correct." not in message, junk
    assert "NaN" in check(np.full(good.shape, np.nan))
    assert "shape" in check(good[:-1])
    assert "None" in check(None)
    assert "not attempted yet" in check(...)


def test_null_space_component(problem):
    X, y, w0, eta, _ = problem
    # independent oracle: the null space of X from its SVD (rows of V^T beyond the rank)
    _, _, Vt = np.linalg.svd(X)
    N = Vt[M:].T
    right = N @ (N.T @ w0)

    def check(answer):
        return ex.check_null_space_component(answer, X, y, w0, eta)

    assert check(right) == "Exercise 0.1: correct."
    w = w0.copy()
    for _ in range(100):
        w -= eta * X.T @ (X @ w - y) / M
    assert check(N @ (N.T @ w)) == "Exercise 0.1: correct."  # GD did not move it
    row = w - N @ (N.T @ w)
    assert check(w).endswith("you gave w_100 itself: project it onto the null space of X")
    assert "row-space component" in check(row)
    assert "not a projector" in check((np.eye(D) - X.T @ X) @ w)
    assert "displacement" in check(w - w0)
    assert "change of the component" in check(np.zeros(D))
    assert "wrong sign" in check(-right)
    junk_messages(check, "0.1", right)


def test_preconditioned_limit(problem):
    X, y, _, _, prec = problem
    # independent oracle: run preconditioned GD itself
    eta = 1 / np.linalg.eigvalsh(X @ (prec[:, None] * X.T) / M)[-1]
    w = np.zeros(D)
    for _ in range(20000):
        w -= eta * prec * (X.T @ (X @ w - y)) / M
    assert np.max(np.abs(X @ w - y)) < 1e-10

    def check(answer):
        return ex.check_preconditioned_limit(answer, X, y, prec)

    assert check(w) == "Exercise 0.2: correct."
    assert "plain GD's limit" in check(np.linalg.pinv(X) @ y)
    inverse = (X.T @ np.linalg.solve(X @ (X.T / prec[:, None]), y)) / prec
    assert "P^-1 in place of P" in check(inverse)
    assert "map it back" in check(w / np.sqrt(prec))
    early = np.zeros(D)
    for _ in range(3):
        early -= eta * prec * (X.T @ (X @ early - y)) / M
    assert "X w is not y yet" in check(early)
    _, _, Vt = np.linalg.svd(X)
    assert "an interpolant, but not the one" in check(w + Vt[-1])
    junk_messages(check, "0.2", w)


def test_preconditioned_choice():
    assert ex.check_preconditioned_choice("b") == "Exercise 0.3: correct."
    assert ex.check_preconditioned_choice(" B ") == "Exercise 0.3: correct."
    assert "plain GD's limit" in ex.check_preconditioned_choice("a")
    assert "P X^T c" in ex.check_preconditioned_choice("c")
    assert "diagonal network" in ex.check_preconditioned_choice("d")
    for junk in ("e", 2, None, ["b"]):
        message = ex.check_preconditioned_choice(junk)
        assert message.startswith("Exercise 0.3: ") and "not one of the options" in message, junk
    assert "not attempted yet" in ex.check_preconditioned_choice(...)
