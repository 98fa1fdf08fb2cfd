r"""Measurements of an end-to-end matrix: effective rank and reconstruction error [ACHL19]."""

from __future__ import annotations

import numpy as np

from ._validation import as_matrix, check_same_shape, guard

__all__ = ["effective_rank", "reconstruction_error", "singular_values"]


@guard
def singular_values(W) -> np.ndarray:
    """Return the singular values of ``W`` in descending order."""
    return np.linalg.svd(as_matrix(W, "W"), compute_uv=False)


@guard
def effective_rank(W) -> float:
    r"""Return the effective rank of Roy and Vetterli (2007), used in [ACHL19].

    $$\mathrm{erank}(W) = \exp\Big(-\sum_r p_r \log p_r\Big), \qquad p_r = \sigma_r / \|W\|_*,$$

    with $0 \log 0 = 0$. It lies between 1 and the rank, and equals the rank when the non-zero singular
    values are equal.
    """
    s = singular_values(W).astype(float)
    total = s.sum()
    if total == 0:
        raise ValueError("the effective rank of the zero matrix is undefined (all singular values are 0)")
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


@guard
def reconstruction_error(W, target) -> float:
    r"""Return $\|W - M\|_F^2 / \|M\|_F^2$, the error reported in [ACHL19] (their code's metric).

    When $\|M\|_F^2$ equals the number of entries (as for the [ACHL19] ground truth, rescaled to
    $\|M\|_F = n$), this is the mean squared error over all entries.
    """
    W = as_matrix(W, "W")
    M = as_matrix(target, "the target M")
    check_same_shape(W, M, "W", "the target M")
    denom = float(np.sum(M.astype(float) ** 2))
    if denom == 0:
        raise ValueError("the relative error ||W - M||_F^2 / ||M||_F^2 is undefined for a zero target M")
    return float(np.sum((W.astype(float) - M) ** 2) / denom)
