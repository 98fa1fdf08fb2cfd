r"""Beyond norms: Schatten quasi-norms, matrix sensing with commuting measurements, and the one-entry
singular-value dynamics, as the lecture presents them from [ACHL19].

* Matrix sensing: $\ell(W) = \frac12 \sum_k (\langle A_k, W\rangle - y_k)^2$ (:class:`SensingLoss`).
  With symmetric $A_k$ that commute (here: diagonal) and init $W_j(0) = \alpha^{1/N} I$, every layer stays
  diagonal and equal, and the end-to-end matrix is $\mathrm{diag}(x)$ with
  $\dot x_i = -N x_i^{2 - 2/N} \, \partial_i f(x)$, $f(x) = \frac12 \|A x - y\|^2$ (:func:`diagonal_sensing_descent`).
* Schatten-$p$ quasi-norm to the power $p$: $\|W\|_{S_p}^p = \sum_r \sigma_r(W)^p$ (:func:`schatten_quasi_norm`).
* One observed entry with stationary singular vectors: separation of variables gives a conserved quantity
  per depth (:func:`separation_antiderivative`).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_array, as_matrix, check_depth, check_positive, check_real, check_steps, guard
from .losses import Loss

__all__ = [
    "schatten_quasi_norm",
    "SensingLoss",
    "diagonal_sensing_descent",
    "separation_antiderivative",
    "one_entry_partner",
]


@guard
def schatten_quasi_norm(W, p: float, *, rtol: float | None = None) -> float:
    r"""Return $\|W\|_{S_p}^p = \sum_r \sigma_r(W)^p$, the Schatten-$p$ quasi-norm to the power $p$.

    $p = 1$ is the nuclear norm; $0 < p < 1$ is a quasi-norm, closer to the rank (which is the limit
    $p \to 0$ of $\sum_r \sigma_r^p$ over non-zero $\sigma_r$); the lecture's candidate regularizers for deep
    factorizations [ACHL19]. Singular values
    below ``rtol`` times the largest (default $100 \max(n_1, n_2)\, \epsilon$) count as exact zeros:
    for small $p$ a rounding-level $10^{-16}$ would otherwise add $10^{-16 p}$, not $0$.
    """
    p = check_positive(p, "the Schatten exponent p")
    A = as_matrix(W, "W").astype(float)
    if rtol is not None:
        rtol = check_real(rtol, "the relative threshold rtol", low=0.0, high=1.0, low_open=True, high_open=True)
    top = float(np.abs(A).max())
    if top > 1e150 or 0 < top < 1e-150:  # sum_r sigma_r^p is homogeneous of degree p: rescale an extreme W
        return top**p * schatten_quasi_norm(A / top, p, rtol=rtol)
    s = np.linalg.svd(A, compute_uv=False)
    rtol = 100 * max(A.shape) * np.finfo(float).eps if rtol is None else rtol
    s = s[s > rtol * s[0]] if s[0] > 0 else s[:0]
    return float(np.sum(s**p))


class SensingLoss(Loss):
    r"""$\ell(W) = \frac12 \sum_{k=1}^m (\langle A_k, W \rangle - y_k)^2$, with gradient
    $\sum_k (\langle A_k, W\rangle - y_k) A_k$.

    The matrix sensing loss (matrix completion is the case $A_k = e_i e_j^\top$).

    Parameters
    ----------
    measurements : array of shape (m, d_N, d_0), the matrices $A_k$.
    y : array of shape (m,), the labels $y_k$.
    """

    def __init__(self, measurements, y):
        A = as_array(measurements, "the measurement matrices A_k", what="stack of matrices A_k")
        if A.ndim == 2:
            A = A[None]
        if A.ndim != 3:
            raise ValueError(f"measurements must be a stack of matrices A_k, shape (m, rows, cols); got {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ValueError("the measurement matrices A_k must have finite entries")
        y = np.atleast_1d(as_array(y, "the labels y_k", what="vector"))
        if y.shape != (A.shape[0],):
            raise ValueError(f"there are {A.shape[0]} measurement matrices but {y.size} labels y_k")
        if not np.all(np.isfinite(y)):
            raise ValueError("the labels y_k must be finite")
        self.A, self.y, self.shape = A, y, A.shape[1:]

    @guard
    def residual(self, W) -> np.ndarray:
        """Return $\\langle A_k, W\\rangle - y_k$ for every k."""
        return np.einsum("kij,ij->k", self.A, self._check(W)) - self.y

    @guard
    def value(self, W) -> float:
        return 0.5 * float(np.sum(self.residual(W) ** 2))

    @guard
    def gradient(self, W) -> np.ndarray:
        return np.einsum("k,kij->ij", self.residual(W), self.A)


def diagonal_sensing_descent(
    a, y, depth: int, alpha: float, *, lr: float = 0.01, tol: float = 1e-12, max_steps: int = 1_000_000
) -> tuple[np.ndarray, int, bool]:
    r"""Return ``(x, steps, converged)``: gradient descent on depth-$N$ diagonal factors $x = w^{\odot N}$.

    Diagonal (hence commuting, symmetric) measurements $A_k = \mathrm{diag}(a_k)$ and the init
    $W_j(0) = \alpha^{1/N} I$ keep every layer equal to $\mathrm{diag}(w)$ under gradient descent, so the
    end-to-end matrix is $\mathrm{diag}(x)$, $x = w^N$, and one GD step on each layer is
    $w \leftarrow w - \eta\, w^{N-1} \odot a^\top (a x - y)$: the commuting-measurement setting in which
    Gunasekar et al. proved their conjecture and [ACHL19] extended it to every depth, reduced to its
    eigenvalues. Stops at $\frac12\|a x - y\|^2 \le$ ``tol``.

    Parameters
    ----------
    a : (m, d) array, row k holds the diagonal of $A_k$.
    y : (m,) array.
    depth : $N \ge 1$.
    alpha : init scale, $W(0) = \alpha I$.
    """
    a = as_matrix(a, "the measurement diagonals a")
    y = np.atleast_1d(as_array(y, "the labels y", what="vector"))
    if y.shape != (a.shape[0],):
        raise ValueError(f"there are {a.shape[0]} measurements but {y.size} labels")
    N = check_depth(depth)
    alpha = check_positive(alpha, "alpha")
    lr = check_positive(lr, "the learning rate eta")
    tol = check_positive(tol, "tol")
    max_steps = check_steps(max_steps, "max_steps")
    w = np.full(a.shape[1], alpha ** (1.0 / N))
    steps = 0
    with np.errstate(over="raise", invalid="raise"):
        try:
            for steps in range(max_steps + 1):  # noqa: B007 (reported)
                x = w**N
                r = a @ x - y
                if 0.5 * float(r @ r) <= tol:
                    return x, steps, True
                if steps == max_steps:
                    break
                w = w - lr * w ** (N - 1) * (a.T @ r)
        except FloatingPointError:
            raise FloatingPointError(f"diagonal sensing GD diverged with eta = {lr:g}; use a smaller step") from None
    return w**N, steps, False


@guard
def separation_antiderivative(s, depth: int) -> np.ndarray:
    r"""Return $F_N(s) = \int s^{-(2 - 2/N)} ds$: $s$ ($N = 1$), $\log s$ ($N = 2$),
    $-\frac{N}{N-2} s^{-(N-2)/N}$ ($N \ge 3$).

    With stationary singular vectors and constant projections $c_r = \langle A, u_r v_r^\top\rangle$ of
    the single measurement $A$, the singular-value dynamics of [ACHL19],
    $\dot\sigma_r = -N \sigma_r^{2-2/N} c_r\, e(t)$, give $\frac{d}{dt} F_N(\sigma_r) = -N c_r e(t)$, so
    $(F_N(\sigma_r(t)) - F_N(\sigma_r(0))) / c_r$ is the same for every $r$ (the lecture's one-observed-entry example).
    """
    N = check_depth(depth)
    s = as_array(s, "the singular values s", what="array of singular values").astype(float, copy=False)
    if np.any(s <= 0):
        raise ValueError("the separation of variables needs positive singular values s > 0")
    if N == 1:
        return s.copy()
    if N == 2:
        return np.log(s)
    return -N / (N - 2) * s ** (-(N - 2) / N)


@guard(allow_nan=True)
def one_entry_partner(s1, s1_0: float, s2_0: float, kappa: float, depth: int) -> np.ndarray:
    r"""Return $\sigma_2$ as a function of $\sigma_1$ from $F_N(\sigma_2) - F_N(\sigma_2(0)) = \kappa
    (F_N(\sigma_1) - F_N(\sigma_1(0)))$, $\kappa = c_2 / c_1$ (see :func:`separation_antiderivative`).

    $N = 1$: linear, $\sigma_2 - \sigma_2(0) = \kappa (\sigma_1 - \sigma_1(0))$; $N = 2$: power law,
    $\sigma_2 / \sigma_2(0) = (\sigma_1 / \sigma_1(0))^\kappa$; $N \ge 3$: $\sigma_2$ stays below a finite
    asymptote as $\sigma_1 \to \infty$. Entries where no positive solution exists are NaN (the relation
    leaves the region $\sigma_2 > 0$ or $F_N < 0$).
    """
    N = check_depth(depth)
    kappa = check_real(kappa, "kappa")
    s1_0 = check_positive(s1_0, "s1_0 (sigma_1 at the start)")
    s2_0 = check_positive(s2_0, "s2_0 (sigma_2 at the start)")
    s1 = as_array(s1, "the singular values s1", what="array of singular values").astype(float, copy=False)
    F = separation_antiderivative(s1, N) - separation_antiderivative(np.array(s1_0), N)
    target = separation_antiderivative(np.array(s2_0), N) + kappa * F
    if N == 1:
        out = target
    elif N == 2:
        out = np.exp(target)
    else:
        base = np.where(target < 0, -target * (N - 2) / N, np.nan)
        out = base ** (-N / (N - 2))
    return np.where(out > 0, out, np.nan)
