r"""Gradient descent over the layers, and the discrete end-to-end rule; both return a :class:`Trajectory`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (
    MAX_STEPS,
    as_matrix,
    check_depth,
    check_optional_count,
    check_positive,
    check_steps,
    check_tol,
    check_weights,
)
from .dynamics import preconditioned_gradient
from .losses import Loss
from .network import balancedness_gaps

__all__ = ["Trajectory", "gradient_descent", "end_to_end_descent"]

BLOWUP_FACTOR = 1e8  # a loss this many times its start (and above 1) is divergence, not noise


@dataclass
class Trajectory:
    """What a run of gradient descent went through.

    Attributes
    ----------
    loss : (T + 1,) array, the loss before step 0 and after each of the T steps taken.
    steps : (k,) int array, the steps at which snapshots were taken (always includes 0 and the last).
    end_to_end : (k, d_N, d_0) array, the end-to-end matrix W at those steps.
    singular_values : (k, min(d_N, d_0)) array, its singular values, descending.
    gaps : (k, N - 1) array, balancedness gaps at those steps (empty for the end-to-end rule).
    weights : final layers (``None`` for the end-to-end rule).
    lr, depth : the learning rate and N.
    converged : bool, whether the loss reached ``tol`` (``False`` when no ``tol`` was given).
    """

    loss: np.ndarray
    steps: np.ndarray
    end_to_end: np.ndarray
    singular_values: np.ndarray
    gaps: np.ndarray
    lr: float
    depth: int
    weights: list[np.ndarray] | None = None
    converged: bool = False

    @property
    def final(self) -> np.ndarray:
        """The last end-to-end matrix."""
        return self.end_to_end[-1]

    @property
    def iterations(self) -> int:
        """Number of steps taken."""
        return len(self.loss) - 1


def _check_run(loss, lr, steps, record_every):
    if not isinstance(loss, Loss):
        raise ValueError(f"loss must be an lnnlib Loss (with value and gradient); got {type(loss).__name__}")
    lr = check_positive(lr, "the learning rate eta")
    steps = check_steps(steps)
    check_optional_count(record_every, "record_every", high=MAX_STEPS)
    return lr, steps


def _diverged(t, lr, value, start):
    return FloatingPointError(
        f"gradient descent diverged at step {t} with learning rate eta = {lr:g}: the loss went from "
        f"{start:.3g} to {value:.3g}; try a smaller learning rate"
    )


def _run(state, loss, lr, steps, record_every, tol, step_fn, snapshot_fn):
    """A step function's run through :func:`_iterate` (the optimizers of :mod:`lnnlib.optimizers`):
    ``step_fn(state) -> (state, W)``, ``snapshot_fn(state) -> (W, ...)``; divergence raises."""
    snaps = []

    def record(t, pair, aux, value):
        snaps.append((t, *snapshot_fn(pair[0])))

    pair, values, diverged, bad = _iterate(
        (state, snapshot_fn(state)[0]),
        lambda pair: (loss.value(pair[1]), None),
        lambda pair, aux, t, value: step_fn(pair[0]),
        steps,
        record_every=record_every,
        tol=tol,
        record=record,
    )
    if diverged is not None:
        raise _diverged(diverged, lr, bad, values[0] if len(values) else np.inf)
    return pair[0], values, snaps, tol is not None and values[-1] <= tol


def gradient_descent(
    weights, loss: Loss, lr: float, steps: int, *, record_every: int | None = None, tol: float | None = None
) -> Trajectory:
    r"""Run gradient descent $W_j \leftarrow W_j - \eta\, \partial\phi / \partial W_j$ on all layers.

    $\phi(W_1..W_N) = \ell(W_N \cdots W_1)$ [ACH18]. The input list is not modified.

    Parameters
    ----------
    weights : list ``[W_1, ..., W_N]``, the initialization.
    loss : :class:`lnnlib.losses.Loss` on ``(d_N, d_0)`` matrices.
    lr : float, the step size $\eta$.
    steps : int, the most steps to take.
    record_every : int, optional, snapshot every this many steps (default: only first and last).
    tol : float, optional, stop once the loss is at most ``tol``.

    Raises
    ------
    FloatingPointError
        If the loss becomes non-finite or grows by more than ``BLOWUP_FACTOR``: the message names the
        step and the learning rate.
    """
    layers = [W.copy() for W in check_weights(weights)]
    lr, steps = _check_run(loss, lr, steps, record_every)
    tol = check_tol(tol)
    if loss.shape != (layers[-1].shape[0], layers[0].shape[1]):
        raise ValueError(
            f"the loss acts on {loss.shape} matrices but these layers give a "
            f"{layers[-1].shape[0]} x {layers[0].shape[1]} end-to-end matrix"
        )

    snaps = []

    def record(t, layers, aux, value):
        W = aux[0].copy()  # with one layer W is the layer itself, which the next step updates in place
        snaps.append((t, W, np.linalg.svd(W, compute_uv=False), balancedness_gaps(layers)))

    evaluate, update = _layer_steps(lambda W: (loss.value(W), loss.gradient(W)), lr)
    layers, values, diverged, bad = _iterate(
        layers, evaluate, update, steps, record_every=record_every, tol=tol, record=record
    )
    if diverged is not None:
        raise _diverged(diverged, lr, bad, values[0] if len(values) else np.inf)
    converged = tol is not None and values[-1] <= tol
    return _trajectory(values, snaps, lr, len(layers), layers, converged)


def end_to_end_descent(
    W, loss: Loss, lr: float, steps: int, depth: int, *, record_every: int | None = None, tol: float | None = None
) -> Trajectory:
    r"""Run the discrete end-to-end rule $W \leftarrow W - \eta \sum_j (WW^\top)^{\frac{N-j}{N}}
    \nabla\ell(W) (W^\top W)^{\frac{j-1}{N}}$ [ACH18], depth's preconditioning applied directly.

    Same arguments and errors as :func:`gradient_descent`, with the end-to-end matrix in place of the
    layers and the depth ``N`` given explicitly.
    """
    W = as_matrix(W, "W").copy()
    N = check_depth(depth)
    lr, steps = _check_run(loss, lr, steps, record_every)
    tol = check_tol(tol)
    if loss.shape != W.shape:
        raise ValueError(f"the loss acts on {loss.shape} matrices but W has shape {W.shape}")

    snaps = []

    def record(t, W, aux, value):
        snaps.append((t, W, np.linalg.svd(W, compute_uv=False), np.zeros(0)))

    def update(W, aux, t, value):
        return W - lr * preconditioned_gradient(W, loss.gradient(W), N)

    W, values, diverged, bad = _iterate(
        W, lambda W: (loss.value(W), None), update, steps, record_every=record_every, tol=tol, record=record
    )
    if diverged is not None:
        raise _diverged(diverged, lr, bad, values[0] if len(values) else np.inf)
    converged = tol is not None and values[-1] <= tol
    return _trajectory(values, snaps, lr, N, None, converged)


def _trajectory(values, snaps, lr, depth, weights, converged) -> Trajectory:
    return Trajectory(
        loss=values,
        steps=np.array([s[0] for s in snaps]),
        end_to_end=np.array([s[1] for s in snaps]),
        singular_values=np.array([s[2] for s in snaps]),
        gaps=np.array([s[3] for s in snaps]).reshape(len(snaps), -1),
        lr=lr,
        depth=depth,
        weights=weights,
        converged=converged,
    )


class Stopped(Exception):
    """Raised by a ``stop`` hook of :func:`descend_layers` to abandon a run (a demo whose setting changed)."""


def _iterate(state, evaluate, update, steps, *, record_every=None, tol=None, record=None, progress=None, stop=None):
    r"""The one descent engine of lnnlib: gradient descent over the layers (:func:`gradient_descent`,
    :func:`descend_layers`, :func:`lnnlib.complete_matrix`, the lecture demos) and the end-to-end rule
    (:func:`end_to_end_descent`) all run through it.

    At each iterate $t = 0, 1, \dots$: ``value, aux = evaluate(state)``; stop on divergence (an exception
    in ``evaluate`` or ``update``, a non-finite value, or a value above ``BLOWUP_FACTOR`` times
    $\max(\ell_0, 1)$); record the value; ``record(t, state, aux, value)`` at $t = 0$, every
    ``record_every`` steps (``None``: first and last only), at the last step and when the value reaches
    ``tol``, followed by ``progress(t / steps)`` and ``stop()`` (which may raise :class:`Stopped`); then
    ``state = update(state, aux, t, value)``.

    Returns ``(state, losses, diverged, bad_value)``: the last state, the values of the iterates kept,
    and ``None`` or the index of the iterate that diverged with its value (``inf`` for an exception).
    """
    losses: list[float] = []
    every = record_every if record_every is not None else steps + 1
    with np.errstate(over="raise", invalid="raise"):
        t = 0
        while True:
            try:
                value, aux = evaluate(state)
            except (FloatingPointError, ValueError):
                return state, np.array(losses), t, np.inf
            if not np.isfinite(value) or value > BLOWUP_FACTOR * max(losses[0] if losses else value, 1.0):
                return state, np.array(losses), t, value
            losses.append(value)
            done = t >= steps or (tol is not None and value <= tol)
            if t % every == 0 or done:
                if record is not None:
                    record(t, state, aux, value)
                if progress is not None:
                    progress(t / max(steps, 1))
                if stop is not None:
                    stop()
            if done:
                return state, np.array(losses), None, None
            try:
                state = update(state, aux, t, value)
            except (FloatingPointError, ValueError):
                return state, np.array(losses), t + 1, np.inf
            t += 1


def _layer_steps(loss_and_gradient, lr, momentum=0.0):
    """The ``evaluate`` and ``update`` of :func:`_iterate` for gradient descent over the layers (see
    :func:`descend_layers`); the update works in place on the state's arrays."""
    from .network import _backward, _forward

    velocity = None

    def evaluate(layers):
        W, prefixes = _forward(layers)
        value, G = loss_and_gradient(W)
        return value, (W, G, prefixes)

    def update(layers, aux, t, value):
        nonlocal velocity
        _, G, prefixes = aux
        beta = momentum(t, value) if callable(momentum) else momentum
        if velocity is None and beta:
            velocity = [np.zeros_like(Wj) for Wj in layers]
        for j, g in enumerate(_backward(layers, G, prefixes)):
            if velocity is None:
                layers[j] -= lr * g
            else:
                v = velocity[j]
                v *= beta
                v += g
                layers[j] -= lr * v
        return layers

    return evaluate, update


def descend_layers(
    layers,
    loss_and_gradient,
    lr,
    steps: int,
    *,
    record_every: int | None = 10,
    tol: float | None = None,
    record=None,
    progress=None,
    stop=None,
    momentum=0.0,
):
    r"""Gradient descent over the layers, $W_j \leftarrow W_j - \eta\, (W_N \cdots W_{j+1})^\top G\,
    (W_{j-1} \cdots W_1)^\top$ [ACH18], optionally with heavy-ball momentum, through :func:`_iterate`.

    No input checks (the callers check and build the layers), so that a lecture demo's run of a few
    thousand small steps takes tenths of a second; the layers are copied, then updated in place.

    - ``loss_and_gradient(W)`` returns $(\ell(W), \nabla\ell(W))$ at the end-to-end matrix;
    - ``record(t, layers, W, value)``, ``progress(fraction)``, ``stop()``: see :func:`_iterate`;
    - ``momentum``: $\beta$, or a function ``(t, value) -> beta`` (0: a plain step). From the first step with
      $\beta > 0$ on, $V_j \leftarrow \beta V_j + \partial\phi/\partial W_j$ (from $V_j = 0$) and
      $W_j \leftarrow W_j - \eta V_j$.

    Returns ``(layers, losses, diverged)``: the last layers, the loss before each step taken and after the
    last, and ``None`` or the step at which the run diverged.
    """
    layers = [np.array(W, copy=True) for W in layers]
    evaluate, update = _layer_steps(loss_and_gradient, lr, momentum)

    def on_record(t, layers, aux, value):
        record(t, layers, aux[0], value)

    layers, losses, diverged, _ = _iterate(
        layers,
        evaluate,
        update,
        steps,
        record_every=record_every,
        tol=tol,
        record=on_record if record is not None else None,
        progress=progress,
        stop=stop,
    )
    return layers, losses, diverged
