"""The checkers of notebook 07's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest

from lnnlib import completion
from lnnlib.exercises import nb07 as ex


@pytest.fixture(scope="module")
def truth():
    return completion.low_rank_matrix(30, 3, rng=0)


def junk_messages(check, label):
    """Junk answers get a message for this exercise that is neither "correct" nor a traceback."""
    for junk in ("abc", None, np.nan, [1.0, 2.0], np.ones((2, 2)), True, object()):
        message = check(junk)
        assert message.startswith(f"Exercise {label}: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "one number" in check([1.0, 2.0])
    assert "not attempted yet" in check(...)


def test_effective_rank(truth):
    def check(answer):
        return ex.check_effective_rank(answer, truth)

    # independent oracle: the entropy of the normalized spectrum from the eigenvalues of W^T W
    s = np.sqrt(np.clip(np.linalg.eigvalsh(truth.T @ truth), 0, None))[::-1][:3]
    p = s / s.sum()
    right = np.exp(-np.sum(p * np.log(p)))
    assert 2 < right < 3
    assert check(right) == "Exercise 7.1: correct."
    assert check(np.float32(right)) == "Exercise 7.1: correct."  # single precision is precise enough
    assert "exponential" in check(-np.sum(p * np.log(p)))
    q = s**2 / np.sum(s**2)
    assert "not their squares" in check(np.exp(-np.sum(q * np.log(q))))
    r = s / s[0]
    assert "not by the largest" in check(np.exp(-np.sum(r * np.log(r))))
    assert "log2" in check(np.exp(-np.sum(p * np.log2(p))))
    assert "log10" in check(np.exp(-np.sum(p * np.log10(p))))
    assert "not 2**H" in check(2 ** -np.sum(p * np.log(p)))
    assert "not 10**H" in check(10 ** -np.sum(p * np.log(p)))
    assert "that is the rank" in check(3)
    assert "stable rank" in check(np.sum(s**2) / s[0] ** 2)
    assert "||W||_* / ||W||_2" in check(s.sum() / s[0])
    assert "not to the digits" in check(round(right, 2))
    assert "wrong sign" in check(-right)
    assert "exp(-sum_r p_r log p_r)" in check(1.5)
    junk_messages(check, "7.1")


def test_momentum_choice():
    assert ex.check_momentum_choice("b") == "Exercise 7.2: correct."
    assert ex.check_momentum_choice(" B ") == "Exercise 7.2: correct."
    assert "compare the effective rank and the error" in ex.check_momentum_choice("a")
    assert "does not diverge" in ex.check_momentum_choice("c")
    assert "which one is lower" in ex.check_momentum_choice("d")
    for junk in ("e", 2, None, ["b"]):
        message = ex.check_momentum_choice(junk)
        assert message.startswith("Exercise 7.2: ") and "one of the options" in message, junk
    assert "not attempted yet" in ex.check_momentum_choice(...)


def test_truncation_error(truth):
    rng = np.random.default_rng(1)
    X = truth + 0.3 * rng.standard_normal(truth.shape)  # a full-rank "estimate" of the rank-3 truth

    def check(answer):
        return ex.check_truncation_error(answer, X, truth, rank=3)

    # independent oracle: the truncation from the eigenvectors of X X^T and X^T X (the singular vectors)
    w, P = np.linalg.eigh(X @ X.T)
    P = P[:, np.argsort(w)[::-1][:3]]
    X3 = P @ P.T @ X  # projecting onto the top left singular vectors is the best rank-3 approximation
    right = np.sum((X3 - truth) ** 2) / np.sum(truth**2)
    assert check(right) == "Exercise 7.3: correct."

    def trunc(k):
        U, S, Vt = np.linalg.svd(X)
        return U[:, :k] * S[:k] @ Vt[:k]

    def err(W):
        return np.sum((W - truth) ** 2) / np.sum(truth**2)

    assert "error of X* itself" in check(err(X))
    assert "keeps 2 singular values" in check(err(trunc(2)))
    assert "keeps 4 singular values" in check(err(trunc(4)))
    assert "is squared" in check(np.sqrt(right))
    assert "not by that of the truncation" in check(np.sum((X3 - truth) ** 2) / np.sum(X3**2))
    assert "share of the tail" in check(np.sum((X - X3) ** 2) / np.sum(truth**2))
    assert "the reconstruction error is relative" in check(np.sum((X3 - truth) ** 2))
    assert "did you truncate M" in check(err(truth))
    assert "not to the digits" in check(right * (1 + 4e-4))
    assert "error of X* itself" in check(err(X) * (1 + 4e-4))  # typed rounded: still recognized
    assert "largest singular values of X*" in check(right * 1.5)
    junk_messages(check, "7.3")
