"""Feedback on the exercises of notebook 06 (acceleration by depth).

- Exercise 6.1: the learning rate above which GD diverges on the two-example $\\ell_p$ problem, for $p = 6$
  (:func:`check_divergence_threshold`).
- Exercise 6.2: how well GD keeps $\\omega_2^2 - \\|v\\|^2$ for $w = \\omega_2 v$ from $\\omega_2 = 1$, $v = 0$
  (:func:`check_balance_drift`).
- Exercise 6.3: why that start does not follow the end-to-end rule (:func:`check_unbalanced_choice`).

Each checker returns one line: ``Exercise 6.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numbers

import numpy as np

from lnnlib.exercises import as_number as _number
from lnnlib.exercises import check_choice, check_number, is_unattempted
from lnnlib.losses import LpRegressionLoss
from lnnlib.train import gradient_descent

__all__ = ["check_divergence_threshold", "check_balance_drift", "check_unbalanced_choice"]


def check_divergence_threshold(answer, y, w0, p) -> str:
    r"""Exercise 6.1: ``answer`` should be $\eta_{\max} = 4\,|r_1(0)|^{-(p-2)}$, $r_1(0) = w_1(0) - y_1$ (targets
    ``y = (y1, y2)`` with $y_1 > y_2$, start ``w0``): one GD
    step maps $r_1 \mapsto r_1(1 - \frac\eta2 |r_1|^{p-2})$, which grows $|r_1|$ once
    $\frac\eta2 |r_1|^{p-2} > 2$.

    Accepts a sympy number. Recognized mistakes: the exponent $p$ or the $p = 4$ exponent $2$ in place of
    $p - 2$, $y_1$ in place of $|r_1(0)|$, the factor 2 in place of 4, the quadratic-loss rule
    2 / curvature, and the slow coordinate $r_2$.
    """
    label = "6.1"
    value = _number(answer)
    if isinstance(value, str) and not isinstance(answer, str):
        return f"Exercise {label}: {value}"
    (y1, y2), (w1, w2) = (float(v) for v in y), (float(v) for v in w0)
    r1, r2 = abs(w1 - y1), abs(w2 - y2)
    mistakes = {
        f"the exponent is p - 2 = {p - 2}, not p: one step multiplies r_1 by 1 - eta/2 |r_1|^(p-2)": 4 / r1**p,
        "the factor: GD diverges once eta/2 |r_1|^(p-2) > 2, so eta_max has a 4": 2 / r1 ** (p - 2),
        "that is 2 / curvature, the rule for a quadratic loss; here one step maps r_1 to r_1 (1 - eta/2 |r_1|^(p-2)) "
        "exactly": 4 / ((p - 1) * r1 ** (p - 2)),
        "you used y_1; the start w_1(0) makes |r_1(0)| = |w_1(0) - y_1|": 4 / y1 ** (p - 2),
        "that is the limit set by the slow coordinate r_2; the fast one, r_1, limits the step": 4 / r2 ** (p - 2),
    }
    if p != 4:
        mistakes["that is the threshold for p = 4: here the exponent is p - 2"] = 4 / r1**2
    otherwise = "that is not the threshold: when does one step of r_1 -> r_1 (1 - eta/2 |r_1|^(p-2)) increase |r_1|?"
    return check_number(
        label, value, 4 / r1 ** (p - 2), mistakes=mistakes, what="your learning rate", otherwise=otherwise
    )


def check_balance_drift(answer, X, y, p=4, lr=0.1, steps=2000) -> str:
    r"""Exercise 6.2: ``answer`` should be $\omega_2^2 - \|v\|^2$ after ``steps`` GD steps of size ``lr`` on
    $w = \omega_2 v$ from $v = 0$, $\omega_2 = 1$, with the $\ell_p$ regression loss on ``X``, ``y``.

    Recognized mistakes: the value at the start (1), unsquared $\omega_2 - \|v\|$.
    """
    label = "6.2"
    value = _number(answer)
    if isinstance(value, str) and not isinstance(answer, str):
        return f"Exercise {label}: {value}"
    if is_unattempted(value) or isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray)):
        return check_number(label, value, 0.0)  # not attempted, or not a number: no need to run GD
    X = np.asarray(X, dtype=float)
    layers = [np.zeros((1, X.shape[1])), np.ones((1, 1))]
    v, omega = gradient_descent(layers, LpRegressionLoss(X, y, p), lr, steps).weights
    omega = float(omega[0, 0])
    mistakes = {
        "that is its value at the start: run the gradient descent first": 1.0,
        "square both: the balancedness of a 1 x d layer v and a 1 x 1 layer omega_2 is omega_2^2 - ||v||^2": omega
        - np.linalg.norm(v),
    }
    otherwise = (
        "that is not omega_2^2 - ||v||^2 after the run: check the start (v = 0, omega_2 = 1), the step and the "
        "number of steps"
    )
    return check_number(
        label, value, omega**2 - np.sum(v**2), mistakes=mistakes, what="your value", otherwise=otherwise
    )


OPTIONS_6_3 = {
    "a": "two layers express the same linear functions as one",
    "b": "omega_2^2 - ||v||^2 starts at 1 and stays near it, while the rule assumes balanced layers",
    "c": "the end-to-end rule holds only for the l2 loss",
    "d": "its learning rate was found on too coarse a grid",
}


def check_unbalanced_choice(answer) -> str:
    """Exercise 6.3: why `depth2` from ``omega_2 = 1, v = 0`` does not follow the end-to-end rule (``OPTIONS_6_3``)."""
    wrong = {
        "a": "that holds for the balanced start too, which is faster: depth changes the trajectory, not the functions",
        "c": "the rule holds for any loss; what it needs is balanced layers (notebook 03)",
        "d": "section 3's table gives the same speed-up at both resolutions, 3% and 0.3%",
    }
    if not isinstance(answer, str) and not is_unattempted(answer):
        # check_choice of lnnlib.exercises raises TypeError on a list or an array: answer here instead
        return f"Exercise 6.3: your answer ({type(answer).__name__}) is not one of the options 'a', 'b', 'c', 'd'"
    return check_choice("6.3", answer, "b", wrong)
