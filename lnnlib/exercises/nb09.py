r"""Feedback on the exercises of notebook 09 (dynamics of singular values: why depth lowers the rank).

- Exercise 9.1: the singular-value velocities $\dot\sigma_r = -N\sigma_r^{2-2/N}\langle G, u_r v_r^\top\rangle$ of a
  given matrix and gradient, computed from an SVD (:func:`check_singular_velocities`).
- Exercise 9.2: the value $\sigma_2$ tends to as $\sigma_1 \to \infty$ in the one-measurement setting at depth 4,
  from the separation-of-variables relation (:func:`check_depth4_asymptote`).
- Exercise 9.3: what the singular values do when the projections have opposite signs (:func:`check_opposite_choice`).

Each checker returns one line: ``Exercise 9.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import numpy as np

from lnnlib.exercises import check_array, check_choice, check_number
from lnnlib.exercises import recheck_rounded as _rounded

__all__ = [
    "check_singular_velocities",
    "check_depth4_asymptote",
    "check_opposite_choice",
    "asymptote",
    "OPTIONS_9_3",
]


def _velocities(W, G, depth, *, factor=None, exponent=None, left=None, right=None):
    r"""$-c\,\sigma_r^{e} \langle G, u_r v_r^\top\rangle$ with $c$ = ``factor`` (default $N$), $e$ = ``exponent``
    (default $2 - 2/N$), and the singular vectors ``left``/``right`` (default: the SVD's $u_r$, $v_r$)."""
    U, s, Vt = np.linalg.svd(W)
    c = depth if factor is None else factor
    e = 2 - 2 / depth if exponent is None else exponent
    Ul = U if left is None else left
    Vr = Vt.T if right is None else right
    proj = np.array([Ul[:, r] @ G @ Vr[:, r] for r in range(len(s))])
    return -c * s**e * proj


def check_singular_velocities(answer, W, G, depth) -> str:
    r"""Exercise 9.1: ``answer`` should be $(\dot\sigma_1, \dots, \dot\sigma_d)$, in the order of decreasing $\sigma_r$,
    with $\dot\sigma_r = -N\sigma_r^{2-2/N} u_r^\top G v_r$ (``W = U diag(s) Vt``, $u_r$ = ``U[:, r]``,
    $v_r$ = ``Vt[r]``).

    Recognized mistakes: no minus sign, no factor $N$, the exponent $2/N$ or $2 - 1/N$, depth $N \pm 1$,
    the depth-1 velocity $-u_r^\top G v_r$, the columns of ``Vt`` in place of its rows, $G^\top$ in place of $G$,
    the singular values of $G$ in place of those of $W$, and the order reversed.
    """
    W, G = np.asarray(W, dtype=float), np.asarray(G, dtype=float)
    N = depth
    U, s, Vt = np.linalg.svd(W)
    expected = _velocities(W, G, N)
    s_G = np.linalg.svd(G, compute_uv=False)
    proj = -expected / (N * s ** (2 - 2 / N))
    mistakes = {
        "gradient flow moves against the gradient: the formula has a minus sign": -expected,
        "the factor N is missing: the N terms of the end-to-end sum each give sigma_r^(2-2/N)": expected / N,
        "the exponent is 2 - 2/N, not 2/N": _velocities(W, G, N, exponent=2 / N),
        "the exponent is 2 - 2/N, not 2 - 1/N": _velocities(W, G, N, exponent=2 - 1 / N),
        f"that is the velocity at depth {N + 1}; the depth is {N}": _velocities(W, G, N + 1),
        "that is the depth-1 velocity -<G, u_r v_r^T>: multiply by N sigma_r^(2-2/N)": -proj,
        "v_r is a row of Vt (np.linalg.svd returns V transposed), not a column": _velocities(W, G, N, right=Vt),
        "you used G^T: the projection is u_r^T G v_r, u_r on the left": _velocities(W, G.T, N),
        "sigma_r are the singular values of W, not of the gradient G": -N * s_G ** (2 - 2 / N) * proj,
        "your velocities are in reversed order: the r-th entry belongs to the r-th largest sigma_r": expected[::-1],
    }
    if N > 1:
        mistakes[f"that is the velocity at depth {N - 1}; the depth is {N}"] = _velocities(W, G, N - 1)
    otherwise = "take the SVD of W, then -N sigma_r^(2-2/N) (u_r^T G v_r) for each r"
    return check_array(
        "9.1", answer, expected, mistakes=mistakes, what="your velocities", rtol=1e-8, atol=1e-12, otherwise=otherwise
    )


def asymptote(s1_0, s2_0, kappa, depth) -> float:
    r"""The limit of $\sigma_2$ as $\sigma_1 \to \infty$ from $F_N(\sigma_2) - F_N(\sigma_2(0)) =
    \kappa\,(F_N(\sigma_1) - F_N(\sigma_1(0)))$, $F_N(\sigma) = -\frac{N}{N-2}\sigma^{-(N-2)/N}$, $N \ge 3$
    ($F_N(\sigma_1) \to 0$): $\sigma_2 \to \big(\sigma_2(0)^{-e} - \kappa\,\sigma_1(0)^{-e}\big)^{-1/e}$, $e = (N-2)/N$;
    ``nan`` where the bracket is not positive (no finite limit)."""
    e = (depth - 2) / depth
    bracket = s2_0**-e - kappa * s1_0**-e
    return float(bracket ** (-1 / e)) if bracket > 0 else float("nan")


def check_depth4_asymptote(answer, s1_0=0.3, s2_0=0.2, kappa=0.6, depth=4) -> str:
    r"""Exercise 9.2: ``answer`` should be :func:`asymptote` at depth 4.

    Recognized mistakes: the depth-3 asymptote, the bracket $\sigma_2^{-1/2}$ itself or its inverse
    $\sigma_2^{1/2}$ (the last step not taken), $\kappa$ with the wrong sign, $1/\kappa$ in place of $\kappa$,
    $\sigma_1(0)$ and $\sigma_2(0)$ swapped, and the integrand's exponent $2 - 2/N$ in place of the
    antiderivative's $(N - 2)/N$; each also typed rounded to three digits.
    """
    e = (depth - 2) / depth
    bracket = s2_0**-e - kappa * s1_0**-e
    candidates = {
        "that is depth 3's asymptote (section 2's figure); at depth 4, F_4(sigma) = -2 sigma^(-1/2)": asymptote(
            s1_0, s2_0, kappa, 3
        ),
        f"that is sigma_2^(-{e:g}) at the limit; solve for sigma_2": bracket,
        f"that is sigma_2^({e:g}) at the limit; solve for sigma_2": 1 / bracket,
        "the sign of kappa: F_N(sigma_2) - F_N(sigma_2(0)) = kappa (F_N(sigma_1) - F_N(sigma_1(0))), and "
        "F_N(sigma_1) -> 0": asymptote(s1_0, s2_0, -kappa, depth),
        "kappa = c_2 / c_1 multiplies the sigma_1 side, as given: not 1 / kappa": asymptote(
            s1_0, s2_0, 1 / kappa, depth
        ),
        "you swapped sigma_1(0) and sigma_2(0)": asymptote(s2_0, s1_0, kappa, depth),
        "F_N is the antiderivative of sigma^-(2-2/N): its exponent is -(N-2)/N, not -(2-2/N)": (
            (s2_0 ** -(2 - 2 / depth) - kappa * s1_0 ** -(2 - 2 / depth)) ** (-1 / (2 - 2 / depth))
        ),
    }
    mistakes = {hint: value for hint, value in candidates.items() if np.isfinite(value)}
    otherwise = (
        "let sigma_1 -> infinity in F_4(sigma_2) - F_4(sigma_2(0)) = kappa (F_4(sigma_1) - F_4(sigma_1(0))), with "
        "F_4(sigma) = -2 sigma^(-1/2), and solve for sigma_2"
    )
    expected = asymptote(s1_0, s2_0, kappa, depth)
    message = check_number(
        "9.2", answer, expected, mistakes=mistakes, what="your limit", rtol=1e-6, otherwise=otherwise
    )
    return _rounded("9.2", message, answer, expected, mistakes, otherwise, 1e-3)


OPTIONS_9_3 = {
    "a": "sigma_2 grows with sigma_1 at every depth, as for kappa > 0",
    "b": "sigma_2 shrinks at every depth, the faster the deeper the network",
    "c": "sigma_2 shrinks at every depth, the slower the deeper: at depth 1 it reaches 0 at a finite sigma_1, at "
    "depth 2 it decays as a power of sigma_1, at depth 3 it stays above a positive floor",
    "d": "sigma_2 stays at sigma_2(0) at every depth",
}


def check_opposite_choice(answer) -> str:
    """Exercise 9.3: what sigma_2 does as sigma_1 grows when kappa < 0 (options ``OPTIONS_9_3``)."""
    wrong = {
        "a": "evaluate L.one_entry_partner with kappa = -0.6: does sigma_2 rise or fall as sigma_1 grows?",
        "b": "compare sigma_2 of depths 1, 2 and 3 at the same sigma_1: the factor N sigma^(2-2/N) slows small "
        "singular values down, the more so the deeper",
        "d": "sigma_2 stays put only when c_2 = 0 (kappa = 0); evaluate L.one_entry_partner with kappa = -0.6",
    }
    return check_choice("9.3", answer, "c", wrong)
