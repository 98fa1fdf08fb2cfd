r"""Initializations: near-zero Gaussian [ACHL19], layer-wise Gaussian, identity, balanced [ACGH19]."""

from __future__ import annotations

import numpy as np

from ._validation import as_array, as_matrix, as_rng, check_dims, check_positive, guard

__all__ = ["gaussian_init", "near_zero_init", "identity_init", "balanced_init", "balanced_factorization"]


@guard
def gaussian_init(dims, std, rng=None) -> list[np.ndarray]:
    r"""Return layers with i.i.d. entries $(W_j)_{ik} \sim \mathcal N(0, \mathrm{std}_j^2)$.

    The layer-wise independent init of the [ACGH19] experiments.

    Parameters
    ----------
    dims : list of int, ``[d_0, ..., d_N]``.
    std : float or list of N floats, the standard deviation of each layer's entries.
    rng : np.random.Generator or seed.
    """
    dims = check_dims(dims)
    N = len(dims) - 1
    if isinstance(std, np.ndarray) and std.ndim == 0:
        std = std.item()
    if np.ndim(std) == 0 and not isinstance(std, np.ndarray):
        stds = [check_positive(std, "std of layer W_1 (and of every layer)")] * N
    else:
        values = as_array(std, "std", ndim=1, what="list of per-layer stds")
        if values.shape != (N,):
            raise ValueError(f"std must be one number or one per layer (N = {N}); got {values.size} values")
        stds = [check_positive(float(s), f"std of layer W_{j + 1}") for j, s in enumerate(values)]
    rng = as_rng(rng)
    return [stds[j] * rng.standard_normal((dims[j + 1], dims[j])) for j in range(N)]


@guard
def near_zero_init(dims, init_scale: float = 1e-3, rng=None) -> list[np.ndarray]:
    r"""Return the near-zero Gaussian init of [ACHL19]: $W_j$ i.i.d. $\mathcal N(0, s_j^2)$,
    $s_j = \mathrm{init\_scale}^{1/N} / \sqrt{d_{j-1}}$.

    Each layer then roughly multiplies norms by $\mathrm{init\_scale}^{1/N}$, so for square
    $n \times n$ factors $\|W\|_F \approx \sqrt{n} \cdot \mathrm{init\_scale}$ (about
    $10 \cdot \mathrm{init\_scale}$ at $n = 100$, as in the paper's code).
    """
    dims = check_dims(dims)
    N = len(dims) - 1
    scale = check_positive(init_scale, "init_scale")
    return gaussian_init(dims, [scale ** (1.0 / N) / np.sqrt(dims[j]) for j in range(N)], rng)


@guard
def identity_init(dims, scale: float = 1.0) -> list[np.ndarray]:
    r"""Return $W_j = \mathrm{scale}^{1/N} I_{d_j \times d_{j-1}}$ (rectangular identity), so that
    $W = \mathrm{scale} \cdot I$ when the widths are equal. Exactly balanced when all widths are equal."""
    dims = check_dims(dims)
    N = len(dims) - 1
    scale = check_positive(scale, "scale")
    return [scale ** (1.0 / N) * np.eye(dims[j + 1], dims[j]) for j in range(N)]


@guard
def balanced_factorization(W, dims) -> list[np.ndarray]:
    r"""Return exactly balanced layers whose product is the given end-to-end matrix $W$.

    With the thin SVD $W = U \Sigma V^\top$ ($k = \min(d_0, d_N)$ singular values):
    $W_N = U \Sigma^{1/N}$, $W_j = \Sigma^{1/N}$ for $1 < j < N$, $W_1 = \Sigma^{1/N} V^\top$, each
    zero-padded to the widths in ``dims`` (the balanced initialization of [ACGH19]). Needs every hidden width
    $d_j \ge k$ (no bottleneck). Singular values at rounding level (relative ``100 * n * eps``) are
    taken as exact zeros, so a rank-deficient $W$ gives exactly rank-deficient layers.
    """
    W = as_matrix(W, "W")
    dims = check_dims(dims)
    N = len(dims) - 1
    if (dims[-1], dims[0]) != W.shape:
        raise ValueError(f"dims = {dims} describe a {dims[-1]} x {dims[0]} end-to-end matrix but W has shape {W.shape}")
    k = min(W.shape)
    narrow = [(j, d) for j, d in enumerate(dims[1:-1], start=1) if d < k]
    if narrow:
        j, d = narrow[0]
        raise ValueError(
            f"balanced init needs every hidden width d_j >= min(d_0, d_N) = {k}; d_{j} = {d} is a bottleneck"
        )
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    # rounding leaves ~1e-16 where W has a zero singular value; its N-th root (1e-3 at N = 5) is not zero
    s = np.where(s > 100 * max(W.shape) * np.finfo(W.dtype).eps * s.max(initial=0.0), s, 0.0)
    root = s ** (1.0 / N)
    layers = []
    for j in range(N):
        rows, cols = dims[j + 1], dims[j]
        L = np.zeros((rows, cols), dtype=W.dtype)
        if N == 1:
            L[:] = W
        elif j == 0:
            L[:k, :] = root[:, None] * Vt
        elif j == N - 1:
            L[:, :k] = U * root
        else:
            L[:k, :k] = np.diag(root)
        layers.append(L)
    return layers


@guard
def balanced_init(dims, rng=None, scale: float = 1.0) -> list[np.ndarray]:
    r"""Return the balanced initialization of [ACGH19] (its procedure for a balanced start).

    Sample $A \in \mathbb R^{d_N \times d_0}$ with i.i.d. $\mathcal N(0, \mathrm{scale}^2)$ entries and
    factor it with :func:`balanced_factorization`: the layers are exactly balanced
    ($W_{j+1}^\top W_{j+1} = W_j W_j^\top$) and their product is $A$.

    Parameters
    ----------
    dims : list of int, ``[d_0, ..., d_N]``, hidden widths at least ``min(d_0, d_N)``.
    rng : np.random.Generator or seed.
    scale : float, the standard deviation of the entries of the end-to-end matrix $A$.
    """
    dims = check_dims(dims)
    scale = check_positive(scale, "scale")
    A = scale * as_rng(rng).standard_normal((dims[-1], dims[0]))
    return balanced_factorization(A, dims)
