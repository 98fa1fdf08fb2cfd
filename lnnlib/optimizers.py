r"""Baseline optimizers of the acceleration experiments of [ACH18]: AdaGrad and AdaDelta.

Both act on one parameter matrix $W$ (a row vector for single-output regression) through a loss's
``value`` and ``gradient``, and return a :class:`lnnlib.Trajectory` like :func:`lnnlib.gradient_descent`,
so the same measurements apply. Gradient descent over the layers, and the end-to-end rule, are
:func:`lnnlib.gradient_descent` and :func:`lnnlib.end_to_end_descent`.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_matrix, check_positive, check_real, check_same_shape, check_tol, guard
from .losses import Loss
from .train import Trajectory, _check_run, _run, _trajectory

__all__ = ["adagrad_step", "adadelta_step", "adagrad", "adadelta"]


def _check_step(W, G, accumulators: dict):
    """``W``, the gradient ``G`` and running sums of squares (entries >= 0), all real finite matrices of one shape."""
    W = as_matrix(W, "W")
    G = as_matrix(G, "the gradient G")
    check_same_shape(W, G, "W", "the gradient G")
    out = []
    for name, A in accumulators.items():
        A = as_matrix(A, name)
        check_same_shape(W, A, "W", name)
        if np.any(A < 0):
            raise ValueError(f"{name} is a running average of squares: its entries must be >= 0; got {A.min()!r}")
        out.append(A)
    return W, G, out


@guard
def adagrad_step(W, G, accumulator, lr: float, eps: float = 1e-8):
    r"""Return ``(W_new, accumulator_new)`` after one AdaGrad step (Duchi, Hazan, Singer 2011, diagonal form).

    $$s \leftarrow s + G \odot G, \qquad W \leftarrow W - \eta\, \frac{G}{\sqrt{s} + \epsilon}$$
    (entrywise): each coordinate's step shrinks with the gradient energy it has seen.
    """
    W, G, (accumulator,) = _check_step(W, G, {"the accumulator s": accumulator})
    lr = check_positive(lr, "the learning rate eta")
    eps = check_positive(eps, "eps")
    s = accumulator + G * G
    return W - lr * G / (np.sqrt(s) + eps), s


@guard
def adadelta_step(W, G, state, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6):
    r"""Return ``(W_new, state_new)`` after one AdaDelta step (Zeiler 2012), ``state = (E[g^2], E[dx^2])``.

    $$E[g^2] \leftarrow \rho E[g^2] + (1-\rho) G^2,\quad
    \Delta = -\frac{\sqrt{E[\Delta^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, G,\quad
    E[\Delta^2] \leftarrow \rho E[\Delta^2] + (1-\rho)\Delta^2,\quad W \leftarrow W + \eta\,\Delta$$
    (entrywise). Zeiler's rule has $\eta = 1$; the factor $\eta$ (as in common libraries) is tuned here
    like every other method's learning rate.
    """
    if isinstance(state, np.ndarray) or not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(f"state must be the pair (E[g^2], E[dx^2]) of running averages; got {type(state).__name__}")
    W, G, (Eg2, Edx2) = _check_step(W, G, {"E[g^2]": state[0], "E[dx^2]": state[1]})
    lr = check_positive(lr, "the learning rate eta")
    rho = check_real(rho, "the decay rho of AdaDelta's running averages", low=0, high=1, low_open=True, high_open=True)
    eps = check_positive(eps, "eps")
    Eg2 = rho * Eg2 + (1 - rho) * G * G
    delta = -np.sqrt(Edx2 + eps) / np.sqrt(Eg2 + eps) * G
    Edx2 = rho * Edx2 + (1 - rho) * delta * delta
    return W + lr * delta, (Eg2, Edx2)


def _prepare(W0, loss, lr, steps, record_every):
    W = as_matrix(W0, "the initial W").copy()
    if not isinstance(loss, Loss):
        raise ValueError(f"loss must be an lnnlib Loss (with value and gradient); got {type(loss).__name__}")
    if loss.shape != W.shape:
        raise ValueError(f"the loss acts on {loss.shape} matrices but W has shape {W.shape}")
    return W, *_check_run(loss, lr, steps, record_every)


def _snapshot(state):
    W = state[0]
    return W, np.linalg.svd(W, compute_uv=False), np.zeros(0)


def adagrad(
    W0,
    loss: Loss,
    lr: float,
    steps: int,
    *,
    eps: float = 1e-8,
    record_every: int | None = None,
    tol: float | None = None,
) -> Trajectory:
    r"""Run AdaGrad (:func:`adagrad_step`) from ``W0`` on ``loss``; return the :class:`lnnlib.Trajectory`.

    Stops early once the loss is at most ``tol``. Raises FloatingPointError (naming step and $\eta$)
    when the loss blows up, exactly as :func:`lnnlib.gradient_descent`.
    """
    W, lr, steps = _prepare(W0, loss, lr, steps, record_every)
    eps = check_positive(eps, "eps")
    tol = check_tol(tol)

    def step(state):
        W, s = state
        W, s = adagrad_step(W, loss.gradient(W), s, lr, eps)
        return (W, s), W

    (W, _), values, snaps, converged = _run((W, np.zeros_like(W)), loss, lr, steps, record_every, tol, step, _snapshot)
    return _trajectory(values, snaps, lr, 1, None, converged)


def adadelta(
    W0,
    loss: Loss,
    lr: float,
    steps: int,
    *,
    rho: float = 0.9,
    eps: float = 1e-6,
    record_every: int | None = None,
    tol: float | None = None,
) -> Trajectory:
    r"""Run AdaDelta (:func:`adadelta_step`) from ``W0`` on ``loss``; return the :class:`lnnlib.Trajectory`.

    ``rho`` in (0, 1) is the decay of the running averages. Errors as :func:`adagrad`.
    """
    W, lr, steps = _prepare(W0, loss, lr, steps, record_every)
    eps = check_positive(eps, "eps")
    tol = check_tol(tol)
    rho = check_real(rho, "the decay rho of AdaDelta's running averages", low=0, high=1, low_open=True, high_open=True)

    def step(state):
        W, acc = state
        W, acc = adadelta_step(W, loss.gradient(W), acc, lr, rho, eps)
        return (W, acc), W

    state = (W, (np.zeros_like(W), np.zeros_like(W)))
    _, values, snaps, converged = _run(state, loss, lr, steps, record_every, tol, step, _snapshot)
    return _trajectory(values, snaps, lr, 1, None, converged)
