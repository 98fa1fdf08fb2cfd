r"""Feedback on the exercises of notebook 08 (beyond norms: can one (quasi-)norm describe the implicit bias?).

- Exercise 8.1: a fit of section 3's measurements that is not diagonal and has nuclear norm 1
  (:func:`check_offdiagonal_minimizer`): any such matrix is right.
- Exercise 8.2: the minimizer of $\|\mathrm{diag}(x)\|_{S_{1/2}}^{1/2}$ on the segment of diagonal PSD fits
  (:func:`check_segment_minimizer`).
- Exercise 8.3: where gradient flow of depth 2 ends on the segment when $y_2 = 0.4$ (:func:`check_depth2_limit`).

Each checker returns one line: ``Exercise 8.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import NOT_ATTEMPTED_LINE as _TODO
from lnnlib.exercises import check_array, check_number, is_unattempted

__all__ = ["check_offdiagonal_minimizer", "check_segment_minimizer", "check_depth2_limit", "segment"]


def segment(y2: float):
    r"""The diagonal PSD fits of $\mathrm{tr}\,W = 1$, $W_{11} - W_{33} = y_2$ ($0 \le y_2 < 1$):
    $x(\tau) = (y_2 + \tau,\ 1 - y_2 - 2\tau,\ \tau)$, $\tau \in [0, (1 - y_2)/2]$. Returns ``(x, tau_max)``,
    with ``x`` a function of ``tau``."""

    def x(tau):
        return np.array([y2 + tau, 1 - y2 - 2 * tau, tau])

    return x, (1 - y2) / 2


def _real_array(answer, name):
    """``answer`` as a finite float array, or a sentence saying why it is not one."""
    if answer is None:
        return f"{name} is None: did the cell above end without computing it?"
    if isinstance(answer, (str, bytes)):
        return f"{name} is text ({answer!r}), not an array of numbers"
    try:
        A = np.asarray(answer)
        if A.dtype.kind == "c":
            return f"{name} has complex entries; the fits are real"
        A = A.astype(float)
    except (TypeError, ValueError):
        return f"{name} ({type(answer).__name__}) is not an array of numbers"
    if not np.all(np.isfinite(A)):
        return f"{name} has NaN or infinite entries"
    return A


def check_offdiagonal_minimizer(answer, a, y) -> str:
    r"""Exercise 8.1: ``answer`` should be a $3 \times 3$ matrix $W$ with $\sum_i a_{ki} W_{ii} = y_k$ (the fits of
    the measurements $A_k = \mathrm{diag}(a_k)$), not diagonal, with $\|W\|_* = 1$, the smallest nuclear norm of a
    fit when $a_1 = (1, 1, 1)$, $y_1 = 1$: any positive semidefinite fit, such as $v v^\top$ with
    $v_i = \sqrt{x_i}$ for a point $x$ of the segment.

    Recognized mistakes: a vector (the diagonal) in place of the matrix, a matrix of the wrong shape, a
    matrix that does not fit (which measurement is missed), a diagonal fit, a fit that is not symmetric, a
    symmetric fit with a negative eigenvalue.
    """
    label = "Exercise 8.1"
    if is_unattempted(answer):
        return f"{label}: {_TODO}"
    W = _real_array(answer, "your W")
    if isinstance(W, str):
        return f"{label}: {W}"
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    d = a.shape[1]
    if W.shape == (d,):
        return f"{label}: that is a vector of {d} numbers; give the {d} x {d} matrix W (np.diag(x) makes one)"
    if W.shape != (d, d):
        return f"{label}: your W has shape {W.shape}; the fits are {d} x {d} matrices"
    scale = max(1.0, float(np.max(np.abs(W))))
    residual = a @ np.diag(W) - y
    if np.max(np.abs(residual)) > 1e-8 * scale:
        k = int(np.argmax(np.abs(residual)))
        return (
            f"{label}: not right yet: W is not a fit: <A_{k + 1}, W> = sum_i a_{k + 1},i W_ii is not y_{k + 1} "
            f"(measurement {k + 1} reads the diagonal only)"
        )
    if np.max(np.abs(W - np.diag(np.diag(W)))) <= 1e-6 * scale:
        return (
            f"{label}: not right yet: W is diagonal (a point of the segment, or off it); the exercise asks for a fit "
            "with non-zero off-diagonal entries"
        )
    nuclear = float(np.sum(np.linalg.svd(W, compute_uv=False)))
    if nuclear <= 1 + 1e-8 * scale:
        return f"{label}: correct."
    if np.max(np.abs(W - W.T)) > 1e-8 * scale:
        return (
            f"{label}: not right yet: a fit, but its nuclear norm is above 1: ||W||_* = tr W only for W symmetric "
            "positive semidefinite, and your W is not symmetric"
        )
    return (
        f"{label}: not right yet: a symmetric fit, but its nuclear norm is above 1: it has a negative eigenvalue; "
        "||W||_* = tr W only for W positive semidefinite (try W = v v^T)"
    )


def check_segment_minimizer(answer, a, y, p=0.5) -> str:
    r"""Exercise 8.2: ``answer`` should be the point $x$ of the segment of diagonal PSD fits ($a x = y$, $x \ge 0$)
    that minimizes $\sum_i x_i^p$: since that sum is strictly concave along the segment (section 3), one of the
    two ends, the one with the smaller sum.

    Recognized mistakes: $\tau$ (one number) in place of the point, the other end, a point inside the segment
    (concavity), a point near an end but not at it (a grid without its ends), a point that is not on the
    segment.
    """
    label = "8.2"
    a, y = np.asarray(a, dtype=float), np.asarray(y, dtype=float)
    x_of, tau_max = segment(float(y[1]))
    ends = [x_of(0.0), x_of(tau_max)]
    values = [float(np.sum(e**p)) for e in ends]
    best, other = (ends[0], ends[1]) if values[0] < values[1] else (ends[1], ends[0])
    if is_unattempted(answer):
        return f"Exercise {label}: {_TODO}"
    x = _real_array(answer, "your point")
    if isinstance(x, str):
        return check_array(label, answer, best, what="your point")  # junk: the shared messages
    if x.ndim == 0:
        return (
            f"Exercise {label}: not right yet: that is one number (tau?); give the point x = (x_1, x_2, x_3) of the "
            "segment"
        )
    mistakes = {
        f"that end is a local minimizer, but the other end has a smaller sum of x_i^{p:g}: compare the two": other,
    }
    message = check_array(label, answer, best, mistakes=mistakes, what="your point", rtol=1e-8, atol=1e-10)
    if "not right yet" not in message or x.shape != best.shape or any(h in message for h in mistakes):
        return message
    if np.max(np.abs(a @ x - y)) > 1e-8 or x.min() < -1e-10:
        return (
            f"Exercise {label}: not right yet: that point is not on the segment: it must fit (a x = y) and have "
            "x_i >= 0"
        )
    if min(np.max(np.abs(x - e)) for e in ends) <= 1e-2:
        return (
            f"Exercise {label}: not right yet: that point is near an end but not at it: did your grid leave out "
            "the ends? The minimum of a concave function on a segment is at an end"
        )
    return (
        f"Exercise {label}: not right yet: that point is inside the segment, where the sum of x_i^{p:g} is strictly "
        "concave: no inside point is a minimizer; compare the two ends"
    )


def _root(f, lo, hi, steps=200):
    """A sign change of ``f`` in [lo, hi], by bisection (``f(lo)`` and ``f(hi)`` of opposite signs)."""
    flo = f(lo)
    for _ in range(steps):
        mid = (lo + hi) / 2
        fm = f(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2


def depth2_limit(y2: float) -> float:
    r"""The $\tau$ of gradient flow's depth-2 limit from $\alpha I$ on the segment of ``segment(y2)``: the root in
    $(0, \tau_{\max})$ of $x_1 x_3 = x_2^2$, i.e. $3\tau^2 - (4 - 3 y_2)\tau + (1 - y_2)^2 = 0$ (notebook 08,
    section 3)."""
    b = 4 - 3 * y2
    return float((b - np.sqrt(b**2 - 12 * (1 - y2) ** 2)) / 6)


def check_depth2_limit(answer, y2=0.4) -> str:
    r"""Exercise 8.3: ``answer`` should be the $\tau$ at which gradient flow of depth 2 from $\alpha I$ ends on the
    segment $x(\tau) = (y_2 + \tau, 1 - y_2 - 2\tau, \tau)$: the root of $x_1 x_3 = x_2^2$ in the segment.

    Recognized mistakes: the other root of the quadratic (outside the segment), section 3's instance
    ($y_2 = 0.2$), the condition $x_1 x_2 = x_3^2$, the maxima of $S_{1/2}$ and $S_{2/3}$ (where depths 4 and 3
    end), the minimum-Euclidean-norm fit (where depth 1 ends), the two ends, each also to $10^{-3}$ (a grid), and
    gradient descent's end point (within $10^{-3}$ of the flow's limit, but not on it).
    """
    label = "8.3"
    x_of, tau_max = segment(y2)
    expected = depth2_limit(y2)
    b = 4 - 3 * y2
    other_root = (b + np.sqrt(b**2 - 12 * (1 - y2) ** 2)) / 6
    # x_1 x_2 = x_3^2: (y2 + t)(1 - y2 - 2t) = t^2, i.e. 3t^2 - (1 - 3 y2) t - y2 (1 - y2) = 0
    c = 1 - 3 * y2
    swapped = (c + np.sqrt(c**2 + 12 * y2 * (1 - y2))) / 6
    eps = 1e-12

    def s_max(q):  # the maximum of sum_i x_i^q on the segment: d/dtau = q (x_1^(q-1) - 2 x_2^(q-1) + x_3^(q-1))
        return _root(lambda t: float(np.array([1.0, -2.0, 1.0]) @ x_of(t) ** (q - 1)), eps, tau_max - eps)

    min_norm = 1 / 3 - y2 / 2  # x = a^+ y = (1/3)(1, 1, 1) + (y2/2)(1, 0, -1), whose x_3 is tau
    mistakes = {
        "that root of the quadratic lies outside the segment (tau must keep every x_i >= 0): take the other one": (
            other_root
        ),
        "that is the limit of section 3's instance, y_2 = 0.2; here y_2 = 0.4 (the segment changes)": depth2_limit(0.2),
        "the condition is x_1 x_3 = x_2^2 (from F_2(x_1) - 2 F_2(x_2) + F_2(x_3) = 0), not x_1 x_2 = x_3^2": swapped,
        "that is the maximum of S_1/2, where depth 4 ends; depth 2 ends at the maximum of the entropy": s_max(0.5),
        "that is the maximum of S_2/3, where depth 3 ends; depth 2 ends at the maximum of the entropy": s_max(2 / 3),
        "that is the fit of smallest Euclidean norm, where depth 1 (plain gradient descent on x) ends": min_norm,
        "that is an end of the segment: along the flow every x_i stays positive, so the limit is inside": 0.0,
        "that is an end of the segment (x_2 = 0): along the flow every x_i stays positive, so the limit is "
        "inside": tau_max,
    }
    otherwise = (
        f"solve x_1 x_3 = x_2^2 with x(tau) = ({y2:g} + tau, {1 - y2:g} - 2 tau, tau) for tau in [0, {tau_max:g}]"
    )
    message = check_number(
        label, answer, expected, mistakes=mistakes, what="your tau", rtol=1e-6, atol=1e-12, otherwise=otherwise
    )
    if not message.endswith(otherwise):
        return message
    # near a known value but not on it (a grid, or gradient descent with a finite step): the nearest one's hint
    value = float(np.asarray(answer, dtype=float))
    near = [hint for hint, v in mistakes.items() if abs(value - v) <= 1e-3]
    if near:
        return f"Exercise {label}: not right yet: {near[0]}"
    if abs(value - expected) <= 1e-3:
        return (
            f"Exercise {label}: not right yet: close: is that gradient descent's end point? A finite step leaves it "
            "O(step) away from gradient flow's limit; solve the condition x_1 x_3 = x_2^2 exactly"
        )
    return message
