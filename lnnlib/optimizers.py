r"""Baseline optimizers of the acceleration experiments of [ACH18]: AdaGrad and AdaDelta.

Both act on one parameter matrix $W$ (a row vector for single-output regression) through a loss's
``value`` and ``gradient``, and return a :class:`lnnlib.Trajectory` like :func:`lnnlib.gradient_descent`,
so the same measurements apply. Gradient descent over the layers, and the end-to-end rule, are
:func:`lnnlib.gradient_descent` and :func:`lnnlib.end_to_end_descent`.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_matrix, check_positive
from .losses import Loss
from .train import Trajectory, _check_run, _run, _trajectory

__all__ = ["adagrad_step", "adadelta_step", "adagrad", "adadelta"]


def adagrad_step(W, G, accumulator, lr: float, eps: float = 1e-8):
    r"""Return ``(W_new, accumulator_new)`` after one AdaGrad step (Duchi, Hazan, Singer 2011, diagonal form).

    $$s \leftarrow s + G \odot G, \qquad W \leftarrow W - \eta\, \frac{G}{\sqrt{s} + \epsilon}$$
    (entrywise): each coordinate's step shrinks with the gradient energy it has seen.
    """
    s = accumulator + G * G
    return W - lr * G / (np.sqrt(s) + eps), s


def adadelta_step(W, G, state, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6):
    r"""Return ``(W_new, state_new)`` after one AdaDelta step (Zeiler 2012, Algorithm 1), ``state = (E[g^2], E[dx^2])``.

    $$E[g^2] \leftarrow \rho E[g^2] + (1-\rho) G^2,\quad
    \Delta = -\frac{\sqrt{E[\Delta^2] + \epsilon}}{\sqrt{E[g^2] + \epsilon}}\, G,\quad
    E[\Delta^2] \leftarrow \rho E[\Delta^2] + (1-\rho)\Delta^2,\quad W \leftarrow W + \eta\,\Delta$$
    (entrywise). Zeiler's rule has $\eta = 1$; the factor $\eta$ (as in common libraries) is tuned here
    like every other method's learning rate.
    """
    Eg2, Edx2 = state
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
    if not (isinstance(rho, (int, float)) and 0 < rho < 1):
        raise ValueError(f"the decay rho of AdaDelta's running averages must lie in (0, 1); got {rho!r}")

    def step(state):
        W, acc = state
        W, acc = adadelta_step(W, loss.gradient(W), acc, lr, rho, eps)
        return (W, acc), W

    state = (W, (np.zeros_like(W), np.zeros_like(W)))
    _, values, snaps, converged = _run(state, loss, lr, steps, record_every, tol, step, _snapshot)
    return _trajectory(values, snaps, lr, 1, None, converged)
