r"""Losses on the end-to-end matrix: each has ``value(W)`` and ``gradient(W)`` (the $G$ of the course).

The network's objective is $\phi(W_1..W_N) = \ell(W_N \cdots W_1)$; only $\ell$ and $\nabla\ell$ at the
end-to-end matrix are needed, and :func:`lnnlib.layer_gradients` turns $\nabla \ell$ into layer gradients.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_array, as_matrix, check_positive, guard

__all__ = ["Loss", "L2Loss", "LpRegressionLoss", "whiten"]


class Loss:
    """Base class: a loss $\\ell$ on end-to-end matrices of a fixed ``shape``."""

    shape: tuple[int, int]

    def _check(self, W) -> np.ndarray:
        W = as_matrix(W, "W")
        if W.shape != self.shape:
            raise ValueError(
                f"this loss acts on {self.shape[0]} x {self.shape[1]} end-to-end matrices; W has shape {W.shape}"
            )
        return W

    def value(self, W) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, W) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, W) -> float:
        return self.value(W)


class L2Loss(Loss):
    r"""$\ell(W) = \tfrac12 \|W - \Phi\|_F^2$, gradient $W - \Phi$: the whitened-regression loss up to a
    constant [ACGH19]."""

    def __init__(self, target):
        self.target = as_matrix(target, "the target Phi")
        self.shape = self.target.shape

    @guard
    def value(self, W) -> float:
        return 0.5 * float(np.sum((self._check(W) - self.target) ** 2))

    @guard
    def gradient(self, W) -> np.ndarray:
        return self._check(W) - self.target


class LpRegressionLoss(Loss):
    r"""$\ell(W) = \frac{1}{p\,m} \sum_{i=1}^m \| W x_i - y_i \|_p^p$ over examples $(x_i, y_i)$ [ACH18].

    Rows of ``X`` (shape ``(m, d_0)``) and ``Y`` (shape ``(m, d_N)``, or ``(m,)`` for one output) are the
    examples. The gradient is $\frac1m \sum_i \mathrm{sign}(r_i)|r_i|^{p-1} x_i^\top$ with residual
    $r_i = W x_i - y_i$. $p = 2$ is least squares; $p = 4$ is the $\ell_4$ loss of the acceleration
    experiments.
    """

    def __init__(self, X, Y, p: float = 2.0):
        self.X = as_matrix(X, "the inputs X")
        Y = as_array(Y, "the targets Y", ndim=(1, 2), what="vector or matrix")
        self.Y = as_matrix(Y[:, None] if Y.ndim == 1 else Y, "the targets Y")
        if self.Y.shape[0] != self.X.shape[0]:
            raise ValueError(f"X has {self.X.shape[0]} examples (rows) but Y has {self.Y.shape[0]}")
        self.p = check_positive(p, "p")
        if self.p < 1:
            raise ValueError(f"the l_p loss needs p >= 1 to be convex and differentiable; got p = {p}")
        self.m = self.X.shape[0]
        self.shape = (self.Y.shape[1], self.X.shape[1])

    @guard
    def residual(self, W) -> np.ndarray:
        """Return the residuals $r_i = W x_i - y_i$ as an ``(m, d_N)`` array."""
        return self.X @ self._check(W).T - self.Y

    @guard
    def value(self, W) -> float:
        return float(np.sum(np.abs(self.residual(W)) ** self.p) / (self.p * self.m))

    @guard
    def gradient(self, W) -> np.ndarray:
        R = self.residual(W)
        D = R if self.p == 2 else np.sign(R) * np.abs(R) ** (self.p - 1)
        return D.T @ self.X / self.m

    @guard
    def least_squares_solution(self) -> np.ndarray:
        """Return the minimizer of the $p = 2$ loss, $\\arg\\min_W \\|X W^\\top - Y\\|_F^2$ (minimum norm)."""
        return np.linalg.lstsq(self.X, self.Y, rcond=None)[0].T


@guard
def whiten(X) -> np.ndarray:
    r"""Return centred inputs with empirical covariance $\frac1m X^\top X = I$ (ZCA whitening).

    [ACGH19] analyse whitened data: then $\frac{1}{2m}\|X W^\top - Y\|_F^2 = \frac12 \|W - \Phi\|_F^2 + c$
    with $\Phi = \frac1m Y^\top X$.
    """
    X = as_matrix(X, "the inputs X")
    top = float(np.abs(X).max())
    if top > 1e150 or 0 < top < 1e-150:  # whitening is scale-free: bring extreme data to unit size first
        X = X / top
    Xc = X - X.mean(axis=0)
    cov = Xc.T @ Xc / X.shape[0]
    lam, Q = np.linalg.eigh(cov)
    if lam[0] <= 1e-12 * lam[-1]:
        raise ValueError("cannot whiten X: its feature covariance is singular (features are linearly dependent)")
    return Xc @ (Q / np.sqrt(lam)) @ Q.T
