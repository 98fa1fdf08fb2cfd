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
from .network import balancedness_gaps, end_to_end, layer_gradients

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
    values = [loss.value(snapshot_fn(state)[0])]
    start = values[0]
    snaps = [(0, *snapshot_fn(state))]
    converged = tol is not None and start <= tol
    t = 0
    with np.errstate(over="raise", invalid="raise"):
        while t < steps and not converged:
            try:
                state, W = step_fn(state)
                value = loss.value(W)
            except (FloatingPointError, ValueError):
                raise _diverged(t + 1, lr, np.inf, start) from None
            t += 1
            if not np.isfinite(value) or value > BLOWUP_FACTOR * max(start, 1.0):
                raise _diverged(t, lr, value, start)
            values.append(value)
            converged = tol is not None and value <= tol
            if record_every is not None and (t % record_every == 0 or t == steps or converged):
                snaps.append((t, *snapshot_fn(state)))
    if snaps[-1][0] != t:
        snaps.append((t, *snapshot_fn(state)))
    return state, np.array(values), snaps, converged


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

    def step(layers):
        grads = layer_gradients(layers, loss.gradient(end_to_end(layers)))
        new = [W - lr * g for W, g in zip(layers, grads, strict=False)]
        return new, end_to_end(new)

    def snapshot(layers):
        W = end_to_end(layers)
        return W, np.linalg.svd(W, compute_uv=False), balancedness_gaps(layers)

    layers, values, snaps, converged = _run(layers, loss, lr, steps, record_every, tol, step, snapshot)
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

    def step(W):
        W = W - lr * preconditioned_gradient(W, loss.gradient(W), N)
        return W, W

    def snapshot(W):
        return W, np.linalg.svd(W, compute_uv=False), np.zeros(0)

    W, values, snaps, converged = _run(W, loss, lr, steps, record_every, tol, step, snapshot)
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


def descend_layers(
    layers,
    loss_and_gradient,
    lr: float,
    steps: int,
    *,
    record_every: int = 10,
    tol: float | None = None,
    record=None,
    progress=None,
    stop=None,
    momentum: float = 0.0,
):
    r"""The layer-wise gradient descent engine: $W_j \leftarrow W_j - \eta\, (W_N \cdots W_{j+1})^\top G\,
    (W_{j-1} \cdots W_1)^\top$ [ACH18], optionally with heavy-ball momentum $\beta$.

    No input checks (the callers check and build the layers), so that a lecture demo's run of a few
    thousand small steps takes tenths of a second. Hooks:

    - ``loss_and_gradient(W)`` returns $(\ell(W), \nabla\ell(W))$ at the end-to-end matrix;
    - ``record(t, layers, W, value)`` is called at step 0, every ``record_every`` steps, at the last step
      and when the loss reaches ``tol``;
    - ``progress(fraction)`` after each record;
    - ``stop()`` after each record: raise :class:`Stopped` there to abandon the run;
    - ``momentum`` $\beta$: $V \leftarrow \beta V + \nabla$, $W \leftarrow W - \eta V$ ($\beta = 0$: plain GD).

    Divergence rule: the loss becomes non-finite, overflows, or exceeds ``BLOWUP_FACTOR`` times
    $\max(\ell_0, 1)$.

    Returns ``(layers, losses, diverged)``: the last layers, the loss before each step taken and after the
    last, and ``None`` or the step at which the run diverged.
    """
    from .network import _backward, _forward

    losses: list[float] = []
    diverged = None
    velocity = None
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for t in range(steps + 1):
            try:
                W, prefixes = _forward(layers)
                value, G = loss_and_gradient(W)
            except FloatingPointError:
                value, G = np.inf, None
            if not np.isfinite(value) or value > BLOWUP_FACTOR * max(losses[0] if losses else value, 1.0):
                diverged = t
                break
            losses.append(value)
            done = t == steps or (tol is not None and value <= tol)
            if t % record_every == 0 or done:
                if record is not None:
                    record(t, layers, W, value)
                if progress is not None:
                    progress(t / max(steps, 1))
                if stop is not None:
                    stop()
            if done:
                break
            try:
                grads = _backward(layers, G, prefixes)
                if momentum:
                    velocity = (
                        grads if velocity is None else [momentum * v + g for v, g in zip(velocity, grads, strict=True)]
                    )
                    grads = velocity
                layers = [Wj - lr * g for Wj, g in zip(layers, grads, strict=True)]
            except FloatingPointError:
                diverged = t + 1
                break
    return layers, np.array(losses), diverged
