r"""Feedback on the exercises of notebook 07 (matrix completion: nuclear norm, matrix factorization, depth).

- Exercise 7.1: the effective rank of the ground truth, computed from its singular values
  (:func:`check_effective_rank`).
- Exercise 7.2: what momentum from the first step does to depth 2 (:func:`check_momentum_choice`).
- Exercise 7.3: the reconstruction error of the nuclear-norm minimizer truncated to rank 5
  (:func:`check_truncation_error`).

Each checker returns one line: ``Exercise 7.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import check_choice, check_number
from lnnlib.exercises import recheck_rounded as _rounded

__all__ = ["check_effective_rank", "check_momentum_choice", "check_truncation_error", "OPTIONS_7_2"]


def _singular_values(W) -> np.ndarray:
    return np.linalg.svd(np.asarray(W, dtype=float), compute_uv=False)


def _exp_entropy(p: np.ndarray, log=np.log) -> float:
    p = p[p > 0]
    return float(np.exp(-np.sum(p * log(p))))


def check_effective_rank(answer, W) -> str:
    r"""Exercise 7.1: ``answer`` should be the effective rank of Roy and Vetterli,
    $\exp(-\sum_r p_r \log p_r)$ with $p_r = \sigma_r(W) / \sum_q \sigma_q(W)$.

    Recognized mistakes: the entropy without the exponential, $p_r$ from the squared singular values,
    $p_r = \sigma_r / \sigma_1$, the exponential of an entropy in bits or in decimal digits, $2^H$ or $10^H$
    of the natural entropy $H$, the rank, the stable rank $\|W\|_F^2 / \|W\|_2^2$, $\|W\|_* / \|W\|_2$, and a
    value copied rounded from a print.
    """
    label = "7.1"
    s = _singular_values(W)
    p = s / s.sum()
    H = -np.sum(p[p > 0] * np.log(p[p > 0]))
    expected = float(np.exp(H))
    rank = int(np.sum(s > 1e-10 * s[0]))
    mistakes = {
        "that is the entropy -sum p_r log p_r itself: the effective rank is its exponential": H,
        "p_r = sigma_r / sum_q sigma_q, from the singular values themselves, not their squares": _exp_entropy(
            s**2 / np.sum(s**2)
        ),
        "normalize by the sum of the singular values (the nuclear norm), not by the largest one": _exp_entropy(
            s / s[0]
        ),
        "exp undoes the natural logarithm: with log2 in the entropy take 2**H, not exp(H)": _exp_entropy(p, np.log2),
        "exp undoes the natural logarithm: with log10 in the entropy take 10**H, not exp(H)": _exp_entropy(p, np.log10),
        "with np.log (natural) in the entropy, undo it with exp(H), not 2**H": float(2.0**H),
        "with np.log (natural) in the entropy, undo it with exp(H), not 10**H": float(10.0**H),
        "that is the rank (the number of non-zero singular values); the effective rank weighs them by their size": (
            rank
        ),
        "that is the stable rank ||W||_F^2 / ||W||_2^2, another stand-in for the rank; the effective rank is "
        "exp(-sum p_r log p_r)": float(np.sum(s**2) / s[0] ** 2),
        "that is ||W||_* / ||W||_2; the effective rank is exp(-sum p_r log p_r) with p_r = sigma_r / ||W||_*": float(
            s.sum() / s[0]
        ),
    }
    otherwise = "compute p_r = sigma_r / sum_q sigma_q from all singular values, then exp(-sum_r p_r log p_r)"
    message = check_number(
        label, answer, expected, mistakes=mistakes, what="your effective rank", rtol=1e-6, otherwise=otherwise
    )
    return _rounded(label, message, answer, expected, mistakes, otherwise, 5e-3)


OPTIONS_7_2 = {
    "a": "the run ends at about the same fit: when momentum starts does not matter",
    "b": "the run ends at a fit of much higher effective rank and error: momentum from the start changes which "
    "fit is found",
    "c": "the run diverges",
    "d": "the run ends at a fit of lower effective rank: the late switch costs accuracy",
}


def check_momentum_choice(answer) -> str:
    """Exercise 7.2: what momentum from the first step does to depth 2 (options ``OPTIONS_7_2``)."""
    wrong = {
        "a": "compare the effective rank and the error of your run with those of f2, the fast scheme of section 3",
        "c": "the run reaches training loss 1e-6 (look at its converged flag): it does not diverge",
        "d": "compare the effective rank of your run with that of f2: which one is lower?",
    }
    return check_choice("7.2", answer, "b", wrong)


def check_truncation_error(answer, X, M, rank=5) -> str:
    r"""Exercise 7.3: ``answer`` should be $\|X_k - M\|_F^2 / \|M\|_F^2$, where $X_k$ keeps the ``rank`` largest
    singular values of ``X`` (the best rank-$k$ approximation, by the SVD).

    Recognized mistakes: the error of ``X`` itself, truncations to rank $k \pm 1$, the unsquared ratio, the
    error divided by $\|X_k\|_F^2$, the removed tail's share $\|X - X_k\|_F^2 / \|M\|_F^2$, the error without
    the division by $\|M\|_F^2$, and the truncation of ``M`` (error 0).
    """
    label = "7.3"
    X, M = np.asarray(X, dtype=float), np.asarray(M, dtype=float)
    U, S, Vt = np.linalg.svd(X)

    def truncated(k):
        return (U[:, :k] * S[:k]) @ Vt[:k]

    def error(W):
        return float(np.sum((W - M) ** 2) / np.sum(M**2))

    Xk = truncated(rank)
    expected = error(Xk)
    mistakes = {
        f"that is the error of X* itself: keep only its {rank} largest singular values first": error(X),
        f"that truncation keeps {rank - 1} singular values; keep {rank}, the rank of M": error(truncated(rank - 1)),
        f"that truncation keeps {rank + 1} singular values; keep {rank}, the rank of M": error(truncated(rank + 1)),
        "the reconstruction error is squared: ||W - M||_F^2 / ||M||_F^2, not ||W - M||_F / ||M||_F": np.sqrt(expected),
        "divide by ||M||_F^2, the size of the ground truth, not by that of the truncation": float(
            np.sum((Xk - M) ** 2) / np.sum(Xk**2)
        ),
        f"that is the share of the tail you removed, ||X* - X_{rank}||_F^2 / ||M||_F^2; the exercise asks for the "
        f"error of what remains, X_{rank} against M": float(np.sum((X - Xk) ** 2) / np.sum(M**2)),
        "divide by ||M||_F^2: the reconstruction error is relative": float(np.sum((Xk - M) ** 2)),
        f"that is 0: did you truncate M (rank {rank} already) instead of X*?": 0.0,
    }
    otherwise = (
        f"keep the {rank} largest singular values of X* and their singular vectors (its SVD), then "
        f"||X_{rank} - M||_F^2 / ||M||_F^2"
    )
    message = check_number(
        label, answer, expected, mistakes=mistakes, what="your error", rtol=1e-6, atol=1e-12, otherwise=otherwise
    )
    return _rounded(label, message, answer, expected, mistakes, otherwise, 1e-3)
