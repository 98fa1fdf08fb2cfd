r"""End-to-end dynamics: the implicit preconditioner of depth and the singular-value velocities.

Under gradient flow from balanced weights, the end-to-end matrix moves by ([ACH18]'s theorem on the end-to-end dynamics)

$$\dot W = -\sum_{j=1}^{N} (W W^\top)^{\frac{N-j}{N}} \, \nabla\ell(W) \, (W^\top W)^{\frac{j-1}{N}},$$

a preconditioned gradient flow $\mathrm{vec}(\dot W) = -P_W \mathrm{vec}(\nabla \ell(W))$.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_matrix, check_depth, check_real, guard

__all__ = [
    "psd_power",
    "preconditioned_gradient",
    "preconditioner",
    "preconditioner_eigenvalues",
    "singular_value_velocity",
]

_SYMMETRY_RTOL = 1e-10


def _default_rtol(n: int, dtype) -> float:
    # eigh/svd recover an exact zero as noise of size ~ n * eps * largest; stay 100x above it
    return 100.0 * n * float(np.finfo(dtype).eps)


def _powers(values: np.ndarray, p: float, rtol: float) -> np.ndarray:
    """``values ** p`` for nonnegative spectra, with entries below ``rtol * max`` set to exactly zero
    and ``0 ** 0 = 1`` (so power 0 is the identity even on a kernel)."""
    if p == 0:
        return np.ones_like(values)
    top = values.max(initial=0.0)
    kept = values > rtol * top
    out = np.zeros_like(values)
    out[kept] = values[kept] ** p
    return out


@guard
def psd_power(M, p: float, *, rtol: float | None = None) -> np.ndarray:
    r"""Return $M^p$ for a symmetric positive semidefinite $M$ and a real $p \ge 0$.

    With the eigendecomposition $M = Q \Lambda Q^\top$, $M^p = Q \Lambda^p Q^\top$. Eigenvalues at most
    ``rtol`` times the largest are treated as exact zeros (rounding would otherwise turn a $10^{-16}$
    into $5 \cdot 10^{-6}$ under a cube root), and $M^0 = I$ even when $M$ is singular, the convention
    under which [ACH18]'s end-to-end sum is stated.

    Parameters
    ----------
    M : (n, n) array, symmetric PSD.
    p : float, ``p >= 0``.
    rtol : float, optional
        Relative threshold for zero eigenvalues; default ``100 * n * eps``.

    Raises
    ------
    ValueError
        If ``M`` is not square, not symmetric, or has an eigenvalue below ``-rtol * max|eigenvalue|``.
    """
    A = as_matrix(M, "M")
    n = A.shape[0]
    if A.shape[1] != n:
        raise ValueError(f"M^p needs a square matrix M; got shape {A.shape}")
    p = check_real(p, "the power p")
    if p < 0:
        raise ValueError(f"psd_power takes p >= 0 (a PSD matrix may be singular); got p = {p}")
    scale = np.abs(A).max()
    asym = np.abs(A - A.T).max()
    if asym > _SYMMETRY_RTOL * max(scale, np.finfo(float).tiny):
        raise ValueError(
            f"M must be symmetric for M^p to be defined here; max |M - M^T| = {asym:.3g} (relative {asym / scale:.3g})"
        )
    rtol = _default_rtol(n, A.dtype) if rtol is None else _check_rtol(rtol)
    if scale > 1e150 or 0 < scale < 1e-150:  # M^p = s^p (M / s)^p keeps the eigensolver within range
        return scale**p * psd_power(A / scale, p, rtol=rtol)
    lam, Q = np.linalg.eigh((A + A.T) / 2)
    top = np.abs(lam).max(initial=0.0)
    if lam[0] < -rtol * top:
        raise ValueError(
            f"M must be positive semidefinite; its smallest eigenvalue is {lam[0]:.3g} (largest in magnitude {top:.3g})"
        )
    lam = np.clip(lam, 0.0, None)
    return (Q * _powers(lam, p, rtol)) @ Q.T


def _check_rtol(rtol) -> float:
    return check_real(rtol, "the relative threshold rtol", low=0.0, high=1.0, low_open=True, high_open=True)


def _check_pair(W, grad, depth):
    W = as_matrix(W, "W")
    G = as_matrix(grad, "the gradient G")
    if G.shape != W.shape:
        raise ValueError(f"the gradient G = grad l(W) must have the shape of W, {W.shape}; got {G.shape}")
    return W, G, check_depth(depth)


def _svd_frames(W: np.ndarray, rtol: float | None):
    """Full SVD of W with the squared singular values padded by zeros to each side's dimension:
    ``lam_left`` are the eigenvalues of W W^T (length d_N), ``lam_right`` those of W^T W (length d_0)."""
    U, s, Vt = np.linalg.svd(W, full_matrices=True)
    rtol = _default_rtol(max(W.shape), W.dtype) if rtol is None else _check_rtol(rtol)
    s2 = s**2
    lam_left = np.zeros(W.shape[0], dtype=W.dtype)
    lam_right = np.zeros(W.shape[1], dtype=W.dtype)
    lam_left[: s.size] = s2
    lam_right[: s.size] = s2
    return U, Vt.T, lam_left, lam_right, rtol


def _kernel(lam_left, lam_right, N: int, rtol: float) -> np.ndarray:
    r"""$K_{rc} = \sum_{j=1}^N \lambda^L_r{}^{(N-j)/N} \lambda^R_c{}^{(j-1)/N}$: the multiplier of P_W
    in the singular frames, with $0^0 = 1$."""
    K = np.zeros((lam_left.size, lam_right.size), dtype=lam_left.dtype)
    for j in range(1, N + 1):
        K += np.outer(_powers(lam_left, (N - j) / N, rtol), _powers(lam_right, (j - 1) / N, rtol))
    return K


@guard
def preconditioned_gradient(W, grad, depth: int, *, rtol: float | None = None) -> np.ndarray:
    r"""Return $\sum_{j=1}^{N} (W W^\top)^{\frac{N-j}{N}} \, G \, (W^\top W)^{\frac{j-1}{N}}$.

    This is $P_W \mathrm{vec}(G)$ reshaped, the end-to-end velocity of gradient flow from balanced
    weights being $\dot W = -$ ``preconditioned_gradient(W, grad l(W), N)`` ([ACH18]'s end-to-end dynamics).
    Computed in the singular frames $W = U \Sigma V^\top$ as $U (K \odot U^\top G V) V^\top$ with
    $K_{rc} = \sum_j \sigma_r^{2(N-j)/N} \sigma_c^{2(j-1)/N}$ (zero-padded, $0^0 = 1$).

    Parameters
    ----------
    W : (d_N, d_0) array, the end-to-end matrix.
    grad : (d_N, d_0) array, $G = \nabla\ell(W)$.
    depth : int, $N \ge 1$.
    rtol : float, optional, relative threshold for zero singular values (see :func:`psd_power`).
    """
    W, G, N = _check_pair(W, grad, depth)
    if N == 1:
        return G.copy()
    U, V, lam_left, lam_right, rtol = _svd_frames(W, rtol)
    K = _kernel(lam_left, lam_right, N, rtol)
    return U @ (K * (U.T @ G @ V)) @ V.T


@guard
def preconditioner(W, depth: int, *, rtol: float | None = None) -> np.ndarray:
    r"""Return the $(d_N d_0) \times (d_N d_0)$ matrix $P_W$ of [ACH18].

    $$P_W = \sum_{j=1}^{N} (W^\top W)^{\frac{j-1}{N}} \otimes (W W^\top)^{\frac{N-j}{N}},$$

    so that $P_W \mathrm{vec}(G) = \mathrm{vec}(\text{preconditioned\_gradient}(W, G, N))$ with
    column-major ``vec`` (``G.flatten(order="F")``). $P_W$ is symmetric positive semidefinite, and
    positive definite when $W$ has full rank.
    """
    W = as_matrix(W, "W")
    N = check_depth(depth)
    n = max(W.shape)
    rtol = _default_rtol(n, W.dtype) if rtol is None else _check_rtol(rtol)
    left = W @ W.T
    right = W.T @ W
    return sum(
        np.kron(psd_power(right, (j - 1) / N, rtol=rtol), psd_power(left, (N - j) / N, rtol=rtol))
        for j in range(1, N + 1)
    )


@guard
def preconditioner_eigenvalues(W, depth: int, *, rtol: float | None = None) -> np.ndarray:
    r"""Return the eigenvalues of $P_W$ in closed form, sorted descending (from the SVD proof in [ACH18]).

    With $W W^\top$ eigenvalues $\sigma_r^2$ ($r = 1..d_N$) and $W^\top W$ eigenvalues $\sigma_{r'}^2$
    ($r' = 1..d_0$), both zero-padded, the eigenvalues are
    $\sum_{j=1}^N \sigma_r^{2(N-j)/N} \sigma_{r'}^{2(j-1)/N}$ over all pairs $(r, r')$, with $0^0 = 1$.
    """
    W = as_matrix(W, "W")
    N = check_depth(depth)
    _, _, lam_left, lam_right, rtol = _svd_frames(W, rtol)
    return np.sort(_kernel(lam_left, lam_right, N, rtol).ravel())[::-1]


@guard
def singular_value_velocity(W, grad, depth: int) -> np.ndarray:
    r"""Return $\dot\sigma_r = -N \sigma_r^{2 - 2/N} \langle G, u_r v_r^\top \rangle$, $r = 1..\min(d_N, d_0)$.

    The velocity of the singular values of the end-to-end matrix under gradient flow from balanced
    weights ([ACHL19]'s singular-value dynamics), valid where the singular values are distinct. Singular values are in
    descending order, as returned by ``np.linalg.svd``.
    """
    W, G, N = _check_pair(W, grad, depth)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    projections = np.einsum("ir,ij,rj->r", U, G, Vt)
    return -N * s ** (2.0 - 2.0 / N) * projections
