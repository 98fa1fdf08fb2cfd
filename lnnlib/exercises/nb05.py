r"""Feedback on the exercises of notebook 05 (convergence of gradient descent on deep linear networks).

- Exercise 5.1: the deficiency margin $c$ of a start with respect to a target with two outputs, and the
  theorem's iteration count $T$ for it (:func:`check_margin_and_count`).
- Exercise 5.2: the fraction of balanced initializations with a deficiency margin, and their median margin, from
  given Monte Carlo samples at several scales (:func:`check_margin_samples`).
- Exercise 5.3: the loss floor of PSD end-to-end matrices for the target $-\Phi$, and where gradient descent
  from identity layers at depth 2 ends (:func:`check_identity_floor`).

Each checker returns one line: ``Exercise 5.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import NOT_ATTEMPTED_LINE as _TODO
from lnnlib.exercises import as_number as _number
from lnnlib.exercises import check_array, check_number, is_unattempted
from lnnlib.init import identity_init
from lnnlib.losses import L2Loss
from lnnlib.train import gradient_descent

__all__ = ["check_margin_and_count", "check_margin_samples", "check_identity_floor"]


def _pair(label, answer, names):
    """``answer`` as two values ``[x, y]`` (sympy numbers converted), or a sentence saying what is wrong."""
    if is_unattempted(answer):
        return f"Exercise {label}: {_TODO}"
    if isinstance(answer, np.ndarray) and answer.ndim == 1:
        answer = list(answer)
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        kind = f"{len(answer)} values" if isinstance(answer, (list, tuple)) else f"a {type(answer).__name__}"
        return f"Exercise {label}: your answer should be a list [{names[0]}, {names[1]}] of two numbers; got {kind}"
    values = []
    for name, x in zip(names, answer, strict=True):
        v = _number(x)
        if isinstance(v, str) and not isinstance(x, str):
            return f"Exercise {label}: {name}: {v}"
        values.append(v)
    return values


def _part(label, value, expected, mistakes, what, fallback, rtol):
    """check_number's line for one part, with ``fallback`` for a wrong number that matches no mistake.

    (a hint of its own for this exercise, where check_number would give its generic last resort.)
    """
    message = check_number(label, value, expected, mistakes=mistakes, what=what, rtol=rtol, atol=1e-12)
    generic = message.startswith(f"Exercise {label}: not right yet: ") and not message.endswith(
        (*mistakes, "has the wrong sign")
    )
    return f"Exercise {label}: not right yet: {fallback}" if generic else message


def _second(label, first, message):
    """The line for a right first part and a second part that is not (yet) right."""
    body = message.removeprefix(f"Exercise {label}: ")
    return f"Exercise {label}: your {first} is right; {body}"


def check_margin_and_count(answer, Phi, W0, lr, eps, depth) -> str:
    r"""Exercise 5.1: ``answer`` should be ``[c, T]``: the deficiency margin $c = \sigma_{\min}(\Phi) -
    \|W(0) - \Phi\|_F$ of the start ``W0`` and the theorem's count $T = \log(\ell(0)/\epsilon)/(\eta\,
    c^{2(N-1)/N})$ with $\ell(0) = \frac12\|W(0) - \Phi\|_F^2$.

    Recognized mistakes in $c$: $\|\Phi\|_F$, $\sigma_{\max}(\Phi)$ or $\sigma_{\min}(W(0))$ in place of
    $\sigma_{\min}(\Phi)$, the spectral norm of $W(0) - \Phi$, squared norms. In $T$: the lecture's $c^2$, the
    step-size exponent $c^{(4N-2)/N}$, the exponent at depth $N \pm 1$, $\log_{10}$, $\ell(0)$ without the
    $\frac12$, $\log(\epsilon/\ell(0))$.
    """
    label = "5.1"
    parts = _pair(label, answer, ("c", "T"))
    if isinstance(parts, str):
        return parts
    c_ans, T_ans = parts
    Phi, W0 = np.asarray(Phi, dtype=float), np.asarray(W0, dtype=float)
    s = np.linalg.svd(Phi, compute_uv=False)
    dist = np.linalg.norm(W0 - Phi)
    c = s[-1] - dist
    c_mistakes = {
        "with two outputs sigma_min(Phi) is not ||Phi||_F (that holds for one output): the margin uses the smallest "
        "singular value of Phi": np.linalg.norm(Phi) - dist,
        "that uses the largest singular value of Phi; the margin uses the smallest": s[0] - dist,
        "the distance in the margin is the Frobenius norm ||W(0) - Phi||_F, not the spectral norm": s[-1]
        - np.linalg.norm(W0 - Phi, 2),
        "that is sigma_min(W(0)), which is at least c by Weyl's inequality, but not the margin (Section 3)": (
            np.linalg.svd(W0, compute_uv=False)[-1]
        ),
        "the margin is a difference of norms, not of squared norms": s[-1] ** 2 - dist**2,
    }
    message = _part(
        label,
        c_ans,
        c,
        c_mistakes,
        "your margin c",
        "that is not the deficiency margin of W(0): see its definition in Section 3 (singular values: np.linalg.svd)",
        rtol=1e-8,
    )
    if message != f"Exercise {label}: correct.":
        return message
    loss0 = 0.5 * dist**2

    def count(rate_exponent, log=np.log, loss=loss0):
        return log(loss / eps) / (lr * c**rate_exponent)

    N = depth
    T_mistakes = {
        "c^2 is the lecture's simplified form (for c <= 1); the theorem's count has c^(2(N-1)/N)": count(2.0),
        "c^((4N-2)/N) is the exponent of the step-size limit; the count has c^(2(N-1)/N)": count((4 * N - 2) / N),
        f"the exponent 2(N-1)/N at N = {N + 1}; the depth is {N}": count(2 * N / (N + 1)),
        "the count has the natural logarithm (np.log), not log10": count(2 * (N - 1) / N, log=np.log10),
        "l(0) = 1/2 ||W(0) - Phi||_F^2: the 1/2 is missing": count(2 * (N - 1) / N, loss=2 * loss0),
        "log(eps / l(0)) is negative: the count has log(l(0) / eps)": -count(2 * (N - 1) / N),
    }
    if N > 1:
        T_mistakes[f"the exponent 2(N-1)/N at N = {N - 1}; the depth is {N}"] = count(2 * (N - 2) / (N - 1))
    message = _part(
        label,
        T_ans,
        count(2 * (N - 1) / N),
        T_mistakes,
        "your count T",
        "that is not the theorem's count: check l(0), eps, eta and the exponent of c (Section 3)",
        rtol=1e-6,
    )
    return message if message == f"Exercise {label}: correct." else _second(label, "margin c", message)


def check_margin_samples(answer, Phi, samples) -> str:
    r"""Exercise 5.2: ``answer`` should be a $2 \times k$ array: for each of the ``k`` sample arrays in
    ``samples`` (rows: end-to-end matrices $A$ of one output, flattened), row 0 the fraction with a deficiency
    margin $c = \|\Phi\| - \|A - \Phi\| > 0$, row 1 the median of $c$ over those samples.

    Recognized mistakes: the distance to 0 in place of the distance to $\Phi$, the fraction without a margin,
    the median over all samples, the mean in place of the median, squared norms, percentages, and the
    array transposed (``check_array`` names it); otherwise it says which row is right.
    """
    label = "5.2"
    if is_unattempted(answer):
        return f"Exercise {label}: {_TODO}"
    phi = np.asarray(Phi, dtype=float).ravel()
    norm = np.linalg.norm(phi)
    rows = {key: [] for key in ("p", "med", "p0", "med0", "med_all", "mean", "med_sq")}
    for A in samples:
        A = np.asarray(A, dtype=float).reshape(len(A), -1)
        m = norm - np.linalg.norm(A - phi, axis=1)
        m0 = norm - np.linalg.norm(A, axis=1)
        if not np.any(m > 0):
            raise ValueError("every sample set needs some samples with a margin (a median of none is undefined)")
        rows["p"].append(np.mean(m > 0))
        rows["med"].append(np.median(m[m > 0]))
        rows["p0"].append(np.mean(m0 > 0))
        rows["med0"].append(np.median(m0[m0 > 0]) if np.any(m0 > 0) else np.nan)
        rows["med_all"].append(np.median(m))
        rows["mean"].append(np.mean(m[m > 0]))
        sq = norm**2 - np.linalg.norm(A - phi, axis=1) ** 2
        rows["med_sq"].append(np.median(sq[sq > 0]))
    p, med = np.array(rows["p"]), np.array(rows["med"])
    mistakes = {
        "the margin is measured from Phi: ||Phi|| - ||A - Phi||, not ||Phi|| - ||A||": [rows["p0"], rows["med0"]],
        "row 0 should be the fraction WITH a margin (c > 0)": [1 - p, med],
        "take the median over the samples that have a margin (c > 0) only": [p, rows["med_all"]],
        "row 1 should be the median margin, not the mean": [p, rows["mean"]],
        "the margin is a difference of norms, not of squared norms": [p, rows["med_sq"]],
        "give fractions between 0 and 1, not percentages": [100 * p, med],
    }
    mistakes = {hint: value for hint, value in mistakes.items() if np.all(np.isfinite(value))}
    expected = np.array([p, med])
    message = check_array(
        label, answer, expected, mistakes=mistakes, what="your array", rtol=1e-9, atol=1e-12, ordered=True
    )
    if message.endswith(("has the right shape but different values", "off by a constant factor: check the constants")):
        A = np.asarray(answer, dtype=float)
        if np.allclose(A[0], p, rtol=1e-9, atol=1e-12):
            return (
                f"Exercise {label}: not right yet: your fractions (row 0) are right, your median margins (row 1) "
                "are not: the median of ||Phi|| - ||A - Phi|| over the samples with a margin"
            )
        if np.allclose(A[1], med, rtol=1e-9, atol=1e-12):
            return (
                f"Exercise {label}: not right yet: your median margins (row 1) are right, your fractions (row 0) "
                "are not: the fraction of samples with ||A - Phi|| < ||Phi||"
            )
        return (
            f"Exercise {label}: not right yet: neither row is right: compute c = ||Phi|| - ||A - Phi|| for each "
            "sample first (np.linalg.norm(A - Phi, axis=1))"
        )
    return message


def check_identity_floor(answer, Phi, lr, steps, depth=2) -> str:
    r"""Exercise 5.3: ``answer`` should be ``[floor, final]``: the floor $\frac12\sum_{\lambda < 0}\lambda^2$ of
    $\frac12\|W - \Phi\|_F^2$ over PSD $W$ for the symmetric target ``Phi``, and the loss after ``steps``
    steps of gradient descent of size ``lr`` from identity layers of depth ``depth``.

    Recognized mistakes in the floor: only the most negative eigenvalue (or the floor of $-\Phi$), no
    $\frac12$, every eigenvalue, 0. In the final loss: the loss at the start, depth 1, depth 3, and the run on
    $-\Phi$ (the notebook's Section 5 target when ``Phi`` is its negative).
    """
    label = "5.3"
    parts = _pair(label, answer, ("floor", "final loss"))
    if isinstance(parts, str):
        return parts
    floor_ans, final_ans = parts
    Phi = np.asarray(Phi, dtype=float)
    lam = np.linalg.eigvalsh((Phi + Phi.T) / 2)
    floor = 0.5 * np.sum(lam[lam < 0] ** 2)
    floor_mistakes = {
        "that counts only the most negative eigenvalue (or is the floor of -Phi): every negative eigenvalue of "
        "the target adds lambda^2/2": 0.5 * lam[0] ** 2,
        "the floor is a loss, 1/2 ||W - Phi||_F^2: the 1/2 is missing": np.sum(lam[lam < 0] ** 2),
        "only the negative eigenvalues count: a PSD W can match every nonnegative one": 0.5 * np.sum(lam**2),
        "a PSD W cannot match a negative eigenvalue, so the floor is not 0": 0.0,
    }
    if not np.any(lam < 0):
        floor_mistakes = {}
    message = _part(
        label,
        floor_ans,
        floor,
        floor_mistakes,
        "your floor",
        "that is not the floor: for a PSD W, ||W - Phi||_F^2 >= sum over the negative eigenvalues lambda of "
        "Phi of lambda^2 (Section 5)",
        rtol=1e-8,
    )
    if message != f"Exercise {label}: correct.":
        return message
    d = Phi.shape[0]

    def run(target, N):
        return gradient_descent(identity_init([d] * (N + 1)), L2Loss(target), lr, steps).loss

    losses = run(Phi, depth)
    final_mistakes = {
        "that is the loss at the start: run the gradient descent": losses[0],
        "that is the run on Section 5's target; this exercise's target is its negative": run(-Phi, depth)[-1],
    }
    if depth != 1:
        final_mistakes[f"that is where one layer ends (depth 1 fits any target); this network has depth {depth}"] = run(
            Phi, 1
        )[-1]
    if depth != 3:
        final_mistakes[f"that is depth 3; this network has depth {depth}"] = run(Phi, 3)[-1]
    message = _part(
        label,
        final_ans,
        losses[-1],
        final_mistakes,
        "your final loss",
        f"that is not the loss after {steps} steps: start every layer at the identity (L.identity_init) and run "
        "L.gradient_descent on L.L2Loss of the target",
        rtol=1e-8,
    )
    return message if message == f"Exercise {label}: correct." else _second(label, "floor", message)
