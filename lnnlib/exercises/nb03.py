r"""Feedback on the exercises of notebook 03 (end-to-end dynamics: depth as an implicit preconditioner).

- Exercise 3.1: a function that returns the eigenvalues of $P_W$ for a single output, $W = w^\top$, from the
  closed form (:func:`check_single_output_eigenvalues`).
- Exercise 3.2: the distance at time $T = 1$ between layer-wise gradient descent and the discrete end-to-end
  rule from the same balanced start, for several step sizes (:func:`check_discretization_gap`).
- Exercise 3.3: why that distance shrinks like $\eta$ (:func:`check_gap_order`).

Each checker returns one line: ``Exercise 3.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import NOT_ATTEMPTED_LINE as _TODO
from lnnlib.exercises import as_array, check_array, check_choice, is_unattempted
from lnnlib.network import end_to_end
from lnnlib.train import end_to_end_descent, gradient_descent

__all__ = ["check_single_output_eigenvalues", "check_discretization_gap", "check_gap_order", "OPTIONS_3_3"]


# the points w at which Exercise 3.1's function is tested: norms above and below 1 (at norm 1 every power is 1)
W_CASES = (np.array([0.6, -1.2, 0.4, 2.0]), np.array([0.3, -0.4]), np.array([0.2, 0.5, -0.1]))
DEPTHS = (1, 2, 3, 4, 5)


def _closed_form(w, depth, *, exponent=2.0, terms=None):
    r"""The eigenvalues of $P_W$ at $W = w^\top$ from $\lambda_{rr'} = \sum_j \sigma_r^{e(N-j)/N}\sigma_{r'}^{e(j-1)/N}$
    with $e$ = ``exponent`` (2 is right), summed over $j$ in ``terms`` (default $1..N$), with $0^0 = 1$.
    The left singular value is $\|w\|$; the right ones are $\|w\|$ and $d_0 - 1$ padded zeros."""
    terms = range(1, depth + 1) if terms is None else terms
    s = float(np.linalg.norm(w))
    right = [s] + [0.0] * (len(w) - 1)
    return np.array(
        [sum(s ** (exponent * (depth - j) / depth) * q ** (exponent * (j - 1) / depth) for j in terms) for q in right]
    )


def _mistakes_3_1(w, depth):
    """Each recognized mistake of Exercise 3.1 and its eigenvalues at (w, depth), None where it is undefined."""
    rho = np.linalg.norm(w) ** (2 - 2 / depth)
    d0 = len(w)
    return {
        "did you use the exponents (N-j)/N and (j-1)/N on the singular values? Those are the powers of W W^T and "
        "W^T W; on sigma they become 2(N-j)/N and 2(j-1)/N": _closed_form(w, depth, exponent=1.0),
        "the padded singular values are 0, and with 0^0 = 1 the j = 1 term survives: the directions orthogonal to "
        "w do not get eigenvalue 0": np.array([depth * rho] + [0.0] * (d0 - 1)),
        "only one direction, w itself, gets the factor N: the d0 - 1 directions orthogonal to w get one term of "
        "the sum": np.full(d0, depth * rho),
        "your sum stops at j = N - 1 (range(1, N)?): j runs from 1 to N": _closed_form(w, depth, terms=range(1, depth)),
        "you used depth N + 1 where the depth is N": _closed_form(w, depth + 1),
        "you used depth N - 1 where the depth is N": _closed_form(w, depth - 1) if depth > 1 else None,
    }


def _values(out, d0):
    """One call's result as a sorted float vector of d0 entries, or a sentence saying what is wrong with it."""
    if out is None:
        return "your function returned None: does it end with a return?"
    A = as_array(out, "your function's result")
    if isinstance(A, str):
        return A
    A = A.ravel()
    if A.size != d0:
        return (
            f"for a w with {d0} entries your function returned {A.size} numbers: P_W is {d0} x {d0} and has {d0} "
            "eigenvalues, counted with multiplicity"
        )
    if not np.all(np.isfinite(A)):
        return "your function returned NaN or infinite values: look for 0 to a negative power"
    return np.sort(A)


def check_single_output_eigenvalues(answer) -> str:
    r"""Exercise 3.1: ``answer`` should be a function ``(w, N) -> eigenvalues`` returning the $d_0$ eigenvalues
    of $P_W$ at $W = w^\top$ (any order): $N\|w\|^{2-2/N}$ once and $\|w\|^{2-2/N}$ $d_0 - 1$ times.

    It is called at the points ``W_CASES`` and depths 1 to 5. Recognized mistakes: the exponents $(N-j)/N$ in
    place of $2(N-j)/N$, eigenvalue 0 in place of $0^0 = 1$ for the padded singular values, the factor $N$ in
    every direction, the sum stopped at $j = N - 1$, depth $N \pm 1$; otherwise the depths at which the
    function is right are named. A function that raises, returns ``None``, junk, the wrong number of values
    or NaN gets a message saying so.
    """
    label = "Exercise 3.1"
    if is_unattempted(answer):
        return f"{label}: {_TODO}"
    if not callable(answer):
        kind = type(answer).__name__
        return (
            f"{label}: answer_3_1 should be your function itself (answer_3_1 = p_eigenvalues, no parentheses); "
            f"got a {kind}"
        )
    got = {}
    for depth in DEPTHS:
        for k, w in enumerate(W_CASES):
            try:
                out = answer(w.copy(), depth)
            except Exception as err:  # noqa: BLE001 - any error in the student's function is feedback, not a crash
                text = str(err).splitlines()[0][:120] if str(err) else ""
                return f"{label}: your function raised {type(err).__name__} at w = {w.tolist()}, N = {depth}: {text}"
            if is_unattempted(out):
                return f"{label}: {_TODO}"
            values = _values(out, len(w))
            if isinstance(values, str):
                return f"{label}: {values} (at w = {w.tolist()}, N = {depth})"
            got[depth, k] = values

    def close(a, b):
        return b is not None and np.allclose(a, np.sort(b), rtol=1e-8, atol=1e-12)

    right = {key: close(v, _closed_form(W_CASES[key[1]], key[0])) for key, v in got.items()}
    if all(right.values()):
        return f"{label}: correct."
    table = {key: _mistakes_3_1(W_CASES[key[1]], key[0]) for key in got}
    for hint in table[DEPTHS[0], 0]:
        defined = [key for key in got if table[key][hint] is not None]
        if all(close(got[key], table[key][hint]) for key in defined):
            return f"{label}: not right yet: {hint}"
    good = [depth for depth in DEPTHS if all(right[depth, k] for k in range(len(W_CASES)))]
    bad = next(depth for depth in DEPTHS if depth not in good)
    if good:
        return (
            f"{label}: not right yet: your eigenvalues are right for N = {', '.join(map(str, good))} but not for "
            f"N = {bad}: check the exponents 2(N-j)/N and 2(j-1)/N and the padded zeros (0^0 = 1)"
        )
    return (
        f"{label}: not right yet: your eigenvalues are wrong already at N = 1, where P_W = I (one layer: no "
        "preconditioning)"
    )


def _as_vector(answer, n):
    """``answer`` as a float vector of n entries, or a sentence saying why it is not one."""
    if answer is None:
        return "your distances are None: did the cell above end without computing them?"
    try:
        A = np.asarray(answer)
    except (TypeError, ValueError):
        return f"your answer ({type(answer).__name__}) is not an array of numbers"
    if A.dtype.kind not in "biuf":
        return f"your answer ({type(answer).__name__}) is not an array of numbers"
    if A.shape != (n,):
        return f"your answer has shape {A.shape}, but it should hold one distance per step size: shape ({n},)"
    if not np.all(np.isfinite(A)):
        return "your distances have NaN or infinite entries: did a run diverge?"
    return A.astype(float)


def check_discretization_gap(answer, start, loss, etas) -> str:
    r"""Exercise 3.2: ``answer`` should hold, for each step size $\eta$ in ``etas``, the Frobenius distance
    $\|W_{\text{layers}}(T) - W_{\text{e2e}}(T)\|_F$ at time $T = 1$ ($1/\eta$ steps) between gradient descent
    on the layers ``start`` and the discrete end-to-end rule of the same depth from their product.

    Recognized mistakes: the end-to-end rule at depth $N \pm 1$ or at depth 1 (plain GD on $W$), the squared
    distance, the distance relative to $\|W_{\text{layers}}(T)\|_F$, 100 steps for every $\eta$ in place of
    $1/\eta$, and how far layer-wise GD moved from the start.
    """
    label = "3.2"
    if is_unattempted(answer):
        return f"Exercise {label}: {_TODO}"
    A = _as_vector(answer, len(etas))
    if isinstance(A, str):
        return f"Exercise {label}: {A}"
    depth = len(start)
    W0 = end_to_end(start)
    runs = {}

    def layers(eta, steps):
        if (eta, steps) not in runs:
            runs[eta, steps] = gradient_descent(start, loss, eta, steps).final
        return runs[eta, steps]

    def gap(eta, steps=None, rule_depth=depth):
        steps = round(1 / eta) if steps is None else steps
        return np.linalg.norm(layers(eta, steps) - end_to_end_descent(W0, loss, eta, steps, rule_depth).final)

    right = np.array([gap(eta) for eta in etas])
    ends = [layers(eta, round(1 / eta)) for eta in etas]
    mistakes = {
        "that is plain gradient descent on W (depth 1): the end-to-end rule takes the network's depth": [
            gap(eta, rule_depth=1) for eta in etas
        ],
        f"the end-to-end rule's depth is the number of layers, N = {depth}, not N + 1": [
            gap(eta, rule_depth=depth + 1) for eta in etas
        ],
        "give the distance ||W_layers - W_e2e||_F itself, not its square": right**2,
        "give the distance itself, not relative to ||W_layers||": right / [np.linalg.norm(E) for E in ends],
        "that is how far layer-wise GD moved from the start; compare its end point with the end-to-end rule's": [
            np.linalg.norm(E - W0) for E in ends
        ],
        "time T = 1 takes 1/eta steps, not 100 steps at every eta": [gap(eta, steps=100) for eta in etas],
    }
    if depth > 2:
        mistakes[f"the end-to-end rule's depth is the number of layers, N = {depth}, not N - 1"] = [
            gap(eta, rule_depth=depth - 1) for eta in etas
        ]
    return check_array(label, A, right, mistakes=mistakes, what="your distances", rtol=1e-6, atol=1e-12)


OPTIONS_3_3 = {
    "a": "like eta^2: both discretize the same gradient flow, so their first-order errors cancel",
    "b": "like eta: per step they differ by O(eta^2), and 1/eta steps add these up",
    "c": "it does not shrink: layer-wise GD unbalances the layers, so the theorem stops applying",
    "d": "it is zero up to rounding: the end-to-end rule is what layer-wise GD does to the product",
}


def check_gap_order(answer) -> str:
    """Exercise 3.3: how the distance of Exercise 3.2 depends on eta, and why (options ``OPTIONS_3_3``)."""
    wrong = {
        "a": (
            "look at your distances of Exercise 3.2: what does halving eta do to them? The O(eta^2) differences "
            "of one step do not cancel, they add up over the 1/eta steps"
        ),
        "c": (
            "GD unbalances the layers only by O(eta^2) per step, O(eta) at T = 1: the theorem's premise fails "
            "less and less as eta shrinks; compare your distances of Exercise 3.2"
        ),
        "d": (
            "your distances of Exercise 3.2 are not zero: the product of N updated layers W_j - eta G_j has terms "
            "with two or more factors eta, which the end-to-end rule does not have"
        ),
    }
    if not isinstance(answer, str) and not is_unattempted(answer):
        # check_choice of lnnlib.exercises raises TypeError on a list or an array: answer here instead
        return f"Exercise 3.3: your answer ({type(answer).__name__}) is not one of the options 'a', 'b', 'c', 'd'"
    return check_choice("3.3", answer, "b", wrong)
