"""Feedback on the exercises of notebook 00 (introduction: who picks the global minimum).

- Exercise 0.1: the component of ``w`` in the null space of ``X`` after 100 GD steps
  (:func:`check_null_space_component`).
- Exercise 0.2: the end point of preconditioned GD from ``w = 0`` (:func:`check_preconditioned_limit`).
- Exercise 0.3: which interpolant preconditioned GD picks (:func:`check_preconditioned_choice`).

Each checker returns one line: ``Exercise 0.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import check_array, check_choice, is_unattempted

__all__ = ["check_null_space_component", "check_preconditioned_limit", "check_preconditioned_choice"]


def _problem(X, y):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be m x d and y must have m entries; got X {X.shape}, y {y.shape}")
    return X, y


def check_null_space_component(answer, X, y, w0, eta, steps=100) -> str:
    r"""Exercise 0.1: ``answer`` should be $(I - X^+X)\,w_{100}$, the null-space component of $w$ after
    ``steps`` GD steps of size ``eta`` on $\frac1{2m}\|Xw - y\|^2$ from ``w0``.

    GD adds multiples of $X^\top(Xw - y)$, which lie in the row space, so the expected answer is
    $(I - X^+X)\,w_0$. Recognized mistakes: $w_{100}$ itself, its row-space component $X^+Xw_{100}$,
    $(I - X^\top X)\,w_{100}$ (not a projector), the displacement $w_{100} - w_0$ and the change of the
    component (zero).
    """
    X, y = _problem(X, y)
    w0 = np.asarray(w0, dtype=float).ravel()
    m, d = X.shape
    w = w0.copy()
    for _ in range(steps):
        w = w - eta * X.T @ (X @ w - y) / m
    row = np.linalg.pinv(X) @ X
    null = np.eye(d) - row
    mistakes = {
        "you gave w_100 itself: project it onto the null space of X": w,
        "that is the row-space component X^+ X w_100; the null space of X is the orthogonal complement": row @ w,
        "X^T X is not a projector (its eigenvalues are not 0 and 1): use the pseudo-inverse, np.linalg.pinv(X)": (
            np.eye(d) - X.T @ X
        )
        @ w,
        "that is the displacement w_100 - w_0: the exercise asks for the null-space component of w_100": w - w0,
        "that is the change of the component from w_0 to w_100; give the component of w_100 itself": null @ (w - w0),
    }
    return check_array(
        "0.1", answer, null @ w0, mistakes=mistakes, what="your null-space component", rtol=1e-8, atol=1e-10
    )


def check_preconditioned_limit(answer, X, y, prec) -> str:
    r"""Exercise 0.2: ``answer`` should be the limit of $w \leftarrow w - \eta P \nabla\ell(w)$ from $w = 0$,
    $P = \mathrm{diag}(\text{prec})$, on $\ell(w) = \frac1{2m}\|Xw - y\|^2$: $PX^\top(XPX^\top)^{-1}y$.

    Recognized mistakes: plain GD's limit $X^+y$, $P^{-1}$ in place of $P$, the variable
    $z = P^{-1/2}w$ of the substituted problem, a point that does not interpolate yet (too few steps), and an
    interpolant that is not this one.
    """
    X, y = _problem(X, y)
    prec = np.asarray(prec, dtype=float).ravel()
    if prec.shape != (X.shape[1],) or not np.all(prec > 0):
        raise ValueError("prec must hold the d positive diagonal entries of P")

    def limit(p):
        return p * (X.T @ np.linalg.solve(X @ (p[:, None] * X.T), y))

    expected = limit(prec)
    mistakes = {
        "that is plain GD's limit X^+ y: did you multiply the gradient by P?": np.linalg.pinv(X) @ y,
        "that is the limit with P^-1 in place of P: P multiplies the gradient": limit(1 / prec),
        "that is z = P^(-1/2) w of the substituted problem: map it back with w = P^(1/2) z": expected / np.sqrt(prec),
    }
    label = "0.2"
    message = check_array(label, answer, expected, mistakes=mistakes, what="your end point", rtol=1e-6, atol=1e-8)
    if message.endswith("has the right shape but different values"):
        w = np.asarray(answer, dtype=float)
        residual = np.linalg.norm(X @ w - y) / np.linalg.norm(y)
        if residual > 1e-6:
            return (
                f"Exercise {label}: not right yet: X w is not y yet (relative residual above 1e-6): run more steps, "
                "with a step below the stability limit"
            )
        return (
            f"Exercise {label}: not right yet: an interpolant, but not the one preconditioned GD reaches from 0: "
            "check the update w <- w - eta P grad l(w) and the start w = 0"
        )
    return message


OPTIONS_0_3 = {
    "a": "X^+ y, the interpolant of smallest Euclidean norm",
    "b": "the interpolant w that minimizes w^T P^-1 w",
    "c": "the interpolant w that minimizes w^T P w",
    "d": "the interpolant of smallest l1 norm",
}


def check_preconditioned_choice(answer) -> str:
    """Exercise 0.3: which interpolant does preconditioned GD reach from ``w = 0``? (options ``OPTIONS_0_3``)."""
    wrong = {
        "a": "that is plain GD's limit (section 2); compare it with your end point of Exercise 0.2",
        "c": (
            "the iterates stay of the form P X^T c; test which of w^T P w and w^T P^-1 w your end point of "
            "Exercise 0.2 makes smaller than the other interpolants do (add a null-space vector of X and compare)"
        ),
        "d": (
            "that is where the small-init diagonal network of section 3 ends; preconditioned GD's iterates stay "
            "in the affine set P X^T c, like plain GD's stay in the row space"
        ),
    }
    if not isinstance(answer, str) and not is_unattempted(answer):
        # check_choice of lnnlib.exercises raises TypeError on a list or an array: answer here instead
        return f"Exercise 0.3: your answer ({type(answer).__name__}) is not one of the options 'a', 'b', 'c', 'd'"
    return check_choice("0.3", answer, "b", wrong)
