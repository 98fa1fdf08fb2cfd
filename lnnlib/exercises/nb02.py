"""Feedback on the exercises of notebook 02 (balancedness, the invariant of gradient flow).

- Exercise 2.1: how much gradient descent changes the conserved $\\|W_{j+1}\\|_F^2 - \\|W_j\\|_F^2$
  (:func:`check_norm_difference_drift`).
- Exercise 2.2: the global minimum that gradient flow reaches on the scalar depth-2 problem, predicted from
  the invariant $w_2^2 - w_1^2$ (:func:`check_hyperbola_limit`).

Each checker returns one line: ``Exercise 2.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numbers

import numpy as np

from lnnlib.exercises import check_array
from lnnlib.losses import L2Loss
from lnnlib.network import balancedness_gaps
from lnnlib.train import gradient_descent

__all__ = ["check_norm_difference_drift", "check_hyperbola_limit"]

_FALLBACK = (
    "has the right shape but different values",
    "off by a constant factor: check the constants",
    "nor one of the mistakes this check knows",
)


def check_norm_difference_drift(answer, weights, target, lr=0.005, steps=2000) -> str:
    r"""Exercise 2.1: ``answer`` should hold, for $j = 1, \dots, N-1$, the relative change
    $|c_j(\text{end}) - c_j(\text{start})| / |c_j(\text{start})|$ of $c_j = \|W_{j+1}\|_F^2 - \|W_j\|_F^2$
    over ``steps`` GD steps of size ``lr`` from ``weights`` on $\frac12\|W - \text{target}\|_F^2$.

    Recognized mistakes: the absolute change, unsquared norms, spectral norms, the change relative to the
    end value, a signed change with the wrong sign, and the relative change of the gaps $\|D_j\|_F$.
    """
    start = [np.asarray(W, dtype=float) for W in weights]
    end = gradient_descent(start, L2Loss(target), lr, steps).weights

    def c(layers, norm=np.linalg.norm, power=2):
        return np.array([norm(b) ** power - norm(a) ** power for a, b in zip(layers[:-1], layers[1:], strict=True)])

    def relative(before, after):
        return np.abs(after - before) / np.abs(before)

    c0, c1 = c(start), c(end)

    def spectral(W):
        return np.linalg.norm(W, 2)

    mistakes = {
        "that is the absolute change: divide by |c_j| at the start": np.abs(c1 - c0),
        "square the Frobenius norms: the trace of D_j is ||W_(j+1)||_F^2 - ||W_j||_F^2": relative(
            c(start, power=1), c(end, power=1)
        ),
        "np.linalg.norm(W, 2) is the spectral norm; the trace of D_j gives Frobenius norms (np.linalg.norm(W))": (
            relative(c(start, spectral), c(end, spectral))
        ),
        "divide by the value at the start, not at the end": np.abs(c1 - c0) / np.abs(c1),
        "a relative change is a size: take the absolute value of the change": (c1 - c0) / np.abs(c0),
        "that is the relative change of the gaps ||D_j||_F; the exercise is about the trace of D_j": relative(
            balancedness_gaps(start), balancedness_gaps(end)
        ),
    }
    return check_array(
        "2.1", answer, relative(c0, c1), mistakes=mistakes, what="your array of relative changes", rtol=1e-6, atol=1e-12
    )


def _numbers(answer):
    """A sequence holding sympy numbers as a list of floats; anything else unchanged (or a sentence)."""
    if isinstance(answer, (list, tuple)) and any(hasattr(a, "free_symbols") for a in answer):
        values = []
        for a in answer:
            if hasattr(a, "free_symbols") and not isinstance(a, numbers.Real):
                if a.free_symbols:
                    return f"your answer still holds the symbols {', '.join(sorted(map(str, a.free_symbols)))}"
                try:
                    v = complex(a)
                except (TypeError, ValueError):
                    return f"your entry {a} does not evaluate to a number"
                if v.imag != 0:
                    return "your answer has complex entries; the weights are real"
                a = v.real
            values.append(a)
        return values
    return answer


def check_hyperbola_limit(answer, start) -> str:
    r"""Exercise 2.2: ``answer`` should be the global minimum $(w_1, w_2)$ that gradient flow on
    $\frac12(w_2 w_1 - 1)^2$ reaches from ``start`` (in the open first quadrant): the point of the branch
    $w_1 w_2 = 1$, $w_1 > 0$ on the hyperbola $w_2^2 - w_1^2 = c$ of the start.

    Accepts sympy numbers. Recognized mistakes: the coordinates swapped, the balanced minimum $(1, 1)$, the
    minimum on the other branch, the start rescaled onto $w_1 w_2 = 1$, a point close to the answer but not
    on it (a gradient-descent end point), a point off $w_1 w_2 = 1$, and a minimum on another hyperbola.
    """
    w1, w2 = (float(v) for v in start)
    if not (w1 > 0 and w2 > 0):
        raise ValueError(f"the start must lie in the open first quadrant; got {start}")
    label = "2.2"
    value = _numbers(answer)
    if isinstance(value, str):
        return f"Exercise {label}: {value}"
    c = w2**2 - w1**2
    x = np.sqrt((-c + np.sqrt(c**2 + 4)) / 2)
    expected = np.array([x, 1 / x])
    mistakes = {
        "you swapped w_1 and w_2: which of the two is larger along this hyperbola?": expected[::-1],
        "(1, 1) is where a balanced start (c = 0) ends; this start is not balanced": np.ones(2),
        "that is on the other branch of w_1 w_2 = 1: gradient flow from the first quadrant stays in it": -expected,
        "you rescaled the start onto w_1 w_2 = 1; the flow keeps w_2^2 - w_1^2, not the direction": np.array([w1, w2])
        / np.sqrt(w1 * w2),
    }
    message = check_array(label, value, expected, mistakes=mistakes, what="your point", rtol=1e-6, atol=1e-9)
    if not message.endswith(_FALLBACK):
        return message
    p = np.asarray(value, dtype=float)
    if np.allclose(p, expected, rtol=0.02):
        return (
            f"Exercise {label}: not right yet: close, but not exact (rounded, or a gradient-descent end point, which "
            "drifts off the hyperbola by O(eta)): solve w_1 w_2 = 1 and w_2^2 - w_1^2 = c exactly, in full precision"
        )
    if abs(p[0] * p[1] - 1) > 1e-6:
        return f"Exercise {label}: not right yet: your point is not a global minimum: there w_1 w_2 must be 1"
    return (
        f"Exercise {label}: not right yet: a global minimum, but not on the start's hyperbola w_2^2 - w_1^2 = c: "
        "compute c from the start"
    )
