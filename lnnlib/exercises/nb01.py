"""Feedback on the exercises of notebook 01 (linear networks, the overparameterized objective, gradient flow).

- Exercise 1.1: a second global minimum of a depth-2 objective whose midpoint with the first is no minimum
  (:func:`check_second_minimum`): phi is not convex.
- Exercise 1.2: the end-to-end matrix a bottlenecked network should end at (:func:`check_bottleneck_limit`).
- Exercise 1.3: the time a depth-2 scalar network from a small balanced start needs to get halfway
  (:func:`check_plateau_time`).

Each checker returns one line: ``Exercise 1.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import NOT_ATTEMPTED_LINE as _TODO
from lnnlib.exercises import as_array, check_array, check_number, is_unattempted
from lnnlib.exercises import as_number as _number

__all__ = ["check_second_minimum", "check_bottleneck_limit", "check_plateau_time"]


def _matrix(answer, name):
    """``answer`` as a finite real float matrix, or a sentence saying why it is not one."""
    if answer is None:
        return f"{name} is None"
    A = as_array(answer, name)
    if isinstance(A, str):
        return A
    if A.ndim != 2:
        return f"{name} has {A.ndim} dimensions; a layer is a matrix"
    if not np.all(np.isfinite(A)):
        return f"{name} has NaN or infinite entries"
    return A


def check_second_minimum(answer, first) -> str:
    r"""Exercise 1.1: ``answer`` should be layers ``[W1_b, W2_b]`` of a second global minimum of
    $\phi(W_1, W_2) = \frac12\|W_2 W_1 - \Phi\|_F^2$, $\Phi = W_2^a W_1^a$ (``first = [W1_a, W2_a]``), such that
    $\phi$ at the midpoint of the two is above $0$, the value of the chord: $\phi$ is not convex.

    Any such pair is right (the check tests the property, not one answer). Recognized mistakes: the layers
    in the wrong order or of the wrong shapes, a point that is no global minimum ($W_2 W_1 \ne \Phi$), the
    first minimum itself, and a second minimum whose midpoint with the first is a minimum too (one layer
    moved along a direction that keeps the product).
    """
    label = "Exercise 1.1"
    W1a, W2a = (np.asarray(W, dtype=float) for W in first)
    Phi = W2a @ W1a
    if is_unattempted(answer):
        return f"{label}: {_TODO}"
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        return f"{label}: your answer should be a list [W1_b, W2_b] of the two layers; got {type(answer).__name__}"
    layers = []
    for k, A in enumerate(answer, start=1):
        A = _matrix(A, f"your W_{k}")
        if isinstance(A, str):
            return f"{label}: {A}"
        layers.append(A)
    shapes = [A.shape for A in layers]
    if shapes == [W2a.shape, W1a.shape]:
        return f"{label}: your list holds W_2 first: give [W1_b, W2_b], the first layer first"
    for k, (A, shape) in enumerate(zip(layers, (W1a.shape, W2a.shape), strict=True), start=1):
        if A.shape != shape:
            return f"{label}: your W_{k} has shape {A.shape}, but W_{k} of this network has shape {shape}"
    W1b, W2b = layers
    scale = np.linalg.norm(Phi)
    if np.linalg.norm(W2b @ W1b - Phi) > 1e-8 * scale:
        return f"{label}: not right yet: W2_b @ W1_b is not Phi_ex, so phi is not 0 there: not a global minimum"
    if all(np.allclose(B, A, rtol=1e-8, atol=1e-10) for A, B in ((W1a, W1b), (W2a, W2b))):
        return f"{label}: not right yet: that is the first minimum again; the exercise needs two different ones"
    middle = ((W2a + W2b) / 2) @ ((W1a + W1b) / 2)
    if np.linalg.norm(middle - Phi) <= 1e-8 * scale:
        return (
            f"{label}: not right yet: the midpoint of your two minima is a global minimum too (phi = 0 there), "
            "so this chord shows no non-convexity: find two minima that differ in both layers"
        )
    return f"{label}: correct."


def check_bottleneck_limit(answer, Phi, width=2) -> str:
    r"""Exercise 1.2: ``answer`` should be the best approximation of ``Phi`` of rank at most ``width``, the
    truncated SVD (Eckart-Young): what GD on $\frac12\|W - \Phi\|_F^2$ over a network whose narrowest layer
    has ``width`` units ends at when it finds the best matrix it can express.

    Recognized mistakes: ``Phi`` itself, truncations at ``width`` + 1 and ``width`` - 1, the ``width``
    smallest singular values kept instead of the largest, another matrix of rank above ``width``, and a
    matrix of rank at most ``width`` that is not the closest (a GD run stopped early).
    """
    Phi = np.asarray(Phi, dtype=float)
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)

    def keep(idx):
        return (U[:, idx] * s[idx]) @ Vt[idx]

    r = len(s)
    expected = keep(slice(0, width))
    mistakes = {
        f"Phi itself has rank {r}, but the end-to-end matrix of a network with a width-{width} layer has rank at most "
        f"{width}": Phi,
        f"that has rank {width + 1}, one too many: the narrowest layer has width {width}": keep(slice(0, width + 1)),
        "you kept the smallest singular values: the best approximation keeps the largest": keep(slice(r - width, r)),
    }
    if width > 1:
        mistakes[f"that has rank {width - 1}: keep as many singular values as the narrowest layer's width"] = keep(
            slice(0, width - 1)
        )
    label = "1.2"
    message = check_array(label, answer, expected, mistakes=mistakes, what="your matrix", rtol=1e-6, atol=1e-6)
    if message.endswith("has the right shape but different values"):
        A = np.asarray(answer, dtype=float)
        rank = np.linalg.matrix_rank(A, tol=1e-6 * max(np.linalg.norm(A, 2), 1e-300))
        if rank > width:
            return (
                f"Exercise {label}: not right yet: your matrix has rank {rank}, but no network with a width-{width} "
                f"layer can express a matrix of rank above {width}"
            )
        return (
            f"Exercise {label}: not right yet: your matrix has rank at most {width} but is not the closest one to "
            "Phi in Frobenius norm: which matrix of that rank is (Eckart-Young)?"
        )
    return message


def check_plateau_time(answer, y, a0) -> str:
    r"""Exercise 1.3: ``answer`` should be the time at which $w = w_2 w_1$ reaches $y/2$ under gradient flow
    on $\frac12(w_2 w_1 - y)^2$ from the balanced start $w_1 = w_2 = a_0$: $w$ follows the logistic equation
    $\dot w = 2w(y - w)$ from $w(0) = a_0^2$, so $t_{1/2} = \ln(y/a_0^2 - 1)/(2y)$.

    Accepts a sympy number. Recognized mistakes: the rate $y$ in place of $2y$, $w(0) = a_0$ in place of
    $a_0^2$, the depth-1 model $\dot w = y - w$, $\log_{10}$ in place of $\ln$, and the notebook's start
    $a_0 = 0.1$ in place of the exercise's.
    """
    label = "1.3"
    value = _number(answer)
    if isinstance(value, str) and not isinstance(answer, str):
        return f"Exercise {label}: {value}"
    expected = np.log(y / a0**2 - 1) / (2 * y)
    mistakes = {
        "the logistic equation w' = 2 w (y - w) has the rate 2y: did you drop the 2?": np.log(y / a0**2 - 1) / y,
        "the product w = w_2 w_1 starts at a0^2, not at a0": np.log(y / a0 - 1) / (2 * y),
        "that is the time of the depth-1 model w' = y - w; the depth-2 product follows w' = 2 w (y - w)": np.log(
            2 * (y - a0**2) / y
        ),
        "did you use log10? The closed form has the natural logarithm (np.log, sp.log)": np.log10(y / a0**2 - 1)
        / (2 * y),
    }
    if not np.isclose(a0, 0.1) and not np.isclose(a0, 0.01):  # a0 = 0.01: the same value as the unsquared a0
        mistakes["that is the time from a0 = 0.1, the start of section 3; this exercise starts elsewhere"] = np.log(
            y / 0.01 - 1
        ) / (2 * y)
    otherwise = "that is not the time: solve w(t) = y/2 with the closed form w(t) = y / (1 + (y/a0^2 - 1) exp(-2 y t))"
    return check_number(label, value, expected, mistakes=mistakes, what="your time", rtol=1e-4, otherwise=otherwise)
