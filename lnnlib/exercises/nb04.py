r"""Feedback on the exercises of notebook 04 (no regularizer can emulate depth).

- Exercise 4.1: the integral of the anisotropic loss's field $F = P_w\nabla\ell$ at depth 2 around an annular
  sector (:func:`check_loop_integral`).
- Exercise 4.2: the angle $\alpha$ of the sector at which the linear loss's loop integral vanishes at depth 3
  (:func:`check_vanishing_angle`).
- Exercise 4.3: whether that zero contradicts the statement of Section 1 (:func:`check_contradiction_choice`).

Each checker returns one line: ``Exercise 4.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
Answers may be sympy numbers (``7/3``, ``2*atan(1/2)``).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import sympy as sp

from lnnlib.exercises import as_number as _number
from lnnlib.exercises import check_choice, check_number, is_unattempted
from lnnlib.fields import single_output_field
from lnnlib.symbolic import symbolic_curl, symbolic_single_output_field

__all__ = ["check_loop_integral", "check_vanishing_angle", "check_contradiction_choice", "OPTIONS_4_3"]

SECTION_ALPHA = 2.0  # the sector angle of the notebook's Sections 4 and 6


def _gauss(n=64):
    x, g = np.polynomial.legendre.leggauss(n)
    return x, g


def _legs(field, alpha, r_in, r_out):
    r"""The four legs of $\oint F\cdot dw$ around the annular sector by Gauss-Legendre quadrature: out along
    angle 0, the outer arc to $\alpha$, back along angle $\alpha$, the inner arc back to angle 0."""
    x, g = _gauss()

    def ray(theta, ra, rb):
        r = (ra + rb) / 2 + (rb - ra) / 2 * x
        u = np.array([np.cos(theta), np.sin(theta)])
        return (rb - ra) / 2 * np.sum(g * (field(r[:, None] * u) @ u))

    def arc(radius, ta, tb):
        t = (ta + tb) / 2 + (tb - ta) / 2 * x
        p = radius * np.stack([np.cos(t), np.sin(t)], axis=1)
        tangent = radius * np.stack([-np.sin(t), np.cos(t)], axis=1)
        return (tb - ta) / 2 * np.sum(g * np.sum(field(p) * tangent, axis=1))

    return ray(0.0, r_in, r_out), arc(r_out, 0.0, alpha), ray(alpha, r_out, r_in), arc(r_in, alpha, 0.0)


@functools.lru_cache(maxsize=16)
def _numeric_field(loss, w, depth):
    grad = sp.lambdify(w, [sp.diff(loss, w[0]), sp.diff(loss, w[1])], "numpy")

    def field(p):
        g = np.stack(np.broadcast_arrays(*grad(p[..., 0], p[..., 1])), axis=-1).astype(float)
        return single_output_field(p, g, depth)

    return field


@functools.lru_cache(maxsize=16)
def _numeric_curl(loss, w, depth):
    return sp.lambdify(w, symbolic_curl(symbolic_single_output_field(loss, w, depth), w), "numpy")


def _wrong_number(label, value, expected, mistakes, what, fallback):
    """check_number, with ``fallback`` as the hint for a wrong number that matches no recognized mistake.

    (a hint of its own for this exercise, where check_number would give its generic last resort.)
    """
    message = check_number(label, value, expected, mistakes=mistakes, what=what, rtol=1e-6, atol=1e-9)
    generic = message.startswith(f"Exercise {label}: not right yet: ") and not message.endswith(
        (*mistakes, "has the wrong sign")
    )
    return f"Exercise {label}: not right yet: {fallback}" if generic else message


def check_loop_integral(answer, loss, w, depth=2, alpha=np.pi / 2, r_inner=1.0, r_outer=2.0) -> str:
    r"""Exercise 4.1: ``answer`` should be $\oint F\cdot dw$ counter-clockwise around the annular sector
    (angles $0..\alpha$, radii ``r_inner``..``r_outer``) for $F = P_w\nabla\ell$ of the sympy loss ``loss``
    in the symbols ``w`` at depth ``depth``.

    Accepts a sympy number. Recognized mistakes: 0 (what a gradient field gives), the clockwise loop, the
    inner arc or the return ray run the wrong way, the rays or the arcs alone, Green's theorem without the
    Jacobian $r$ of polar coordinates, depth 3 for depth 2 (and the other way), and the sector angle of
    Section 4 ($\alpha = 2$).
    """
    label = "4.1"
    value = _number(answer)
    if isinstance(value, str) and not isinstance(answer, str):
        return f"Exercise {label}: {value}"
    if is_unattempted(value) or isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray)):
        return check_number(label, value, 0.0)  # not attempted, or not a number: no need to integrate
    field = _numeric_field(loss, tuple(w), depth)
    out, outer, back, inner = _legs(field, alpha, r_inner, r_outer)
    expected = out + outer + back + inner
    curl = _numeric_curl(loss, tuple(w), depth)
    x, g = _gauss()
    r = (r_inner + r_outer) / 2 + (r_outer - r_inner) / 2 * x
    t = alpha / 2 + alpha / 2 * x
    R, Tt = np.meshgrid(r, t, indexing="ij")
    values = np.broadcast_to(curl(R * np.cos(Tt), R * np.sin(Tt)), R.shape)
    no_jacobian = (r_outer - r_inner) / 2 * alpha / 2 * np.einsum("i,j,ij->", g, g, values)
    mistakes = {
        "0 is what a gradient field gives around every loop: check the loss (the anisotropic one), the depth "
        "and that your loop is the annular sector": 0.0,
        "the loop runs counter-clockwise: out along angle 0, along the outer arc to alpha, back along angle "
        "alpha, along the inner arc back": -expected,
        "the inner arc runs from angle alpha back to 0 (clockwise), the opposite way to the outer arc": expected
        - 2 * inner,
        "the ray at angle alpha runs inward, from r_out back to r_in": expected - 2 * back,
        "that is the two rays alone; add the two arcs": out + back,
        "that is the two arcs alone; add the two rays": outer + inner,
        "in polar coordinates the area element is r dr d(theta): the Jacobian r is missing": no_jacobian,
    }
    other = 3 if depth == 2 else 2
    mistakes[f"that is the integral at depth {other}; this exercise's depth is {depth}"] = sum(
        _legs(_numeric_field(loss, tuple(w), other), alpha, r_inner, r_outer)
    )
    if not np.isclose(alpha, SECTION_ALPHA):
        mistakes[f"that is the sector of Section 4 (alpha = 2); this exercise's angle is {alpha:.4g}"] = sum(
            _legs(field, SECTION_ALPHA, r_inner, r_outer)
        )
    return _wrong_number(
        label,
        value,
        expected,
        mistakes,
        "your loop integral",
        "that is not the loop integral: compute each of the four legs (or integrate the curl over the sector "
        "with Green's theorem) and add them",
    )


def check_vanishing_angle(answer, a) -> str:
    r"""Exercise 4.2: ``answer`` should be the angle $\alpha \in (0, 2\pi)$ at which the loop integral of the
    linear loss $\ell = \langle a, w\rangle$ around the annular sector vanishes at depth $N \ge 3$: the zero
    of $B = a_1(1 - \cos\alpha) - a_2\sin\alpha$, $\alpha = 2\,\mathrm{atan2}(a_2, a_1)$.

    Accepts a sympy number. Recognized mistakes: the angle of $a$ itself, degrees, $a_1$ and $a_2$
    swapped, the zero of $a_1(1 - \cos\alpha) + a_2\sin\alpha$ (a sign), and the degenerate loops
    $\alpha = 0$ and $\alpha = 2\pi$.
    """
    label = "4.2"
    value = _number(answer)
    if isinstance(value, str) and not isinstance(answer, str):
        return f"Exercise {label}: {value}"
    a1, a2 = (float(v) for v in a)
    expected = (2 * np.arctan2(a2, a1)) % (2 * np.pi)
    mistakes = {
        "a sector of angle 0 is no loop at all: look for the alpha in (0, 2 pi) where the bracket vanishes": 0.0,
        "at alpha = 2 pi the two rays coincide and the loop is two circles around the origin, which Section 3 "
        "showed detect nothing: look for the alpha in (0, 2 pi)": 2 * np.pi,
        "that is the angle of a itself; solve a_1 (1 - cos alpha) = a_2 sin alpha (half-angle formulas: "
        "1 - cos alpha = 2 sin^2(alpha/2), sin alpha = 2 sin(alpha/2) cos(alpha/2))": np.arctan2(a2, a1),
        "give the angle in radians, not degrees": np.degrees(expected),
        "you swapped a_1 and a_2": (2 * np.arctan2(a1, a2)) % (2 * np.pi),
        "that makes a_1 (1 - cos alpha) + a_2 sin alpha vanish: check the sign of the a_2 sin alpha term": (
            -2 * np.arctan2(a2, a1)
        )
        % (2 * np.pi),
    }
    return _wrong_number(
        label,
        value,
        expected,
        mistakes,
        "your angle",
        "at that angle the loop integral is not zero: where does a_1 (1 - cos alpha) - a_2 sin alpha vanish "
        "for 0 < alpha < 2 pi?",
    )


OPTIONS_4_3 = {
    "a": "yes: a zero loop integral means the field is a gradient, so the statement fails for the linear loss",
    "b": "no: a gradient field integrates to zero around every closed loop; one zero shows nothing",
    "c": "no, because that sector encloses the origin, where F is not differentiable",
    "d": "yes, unless the zero is a quadrature error: the exact integral at that angle is not zero",
}


def check_contradiction_choice(answer) -> str:
    """Exercise 4.3: does the zero of Exercise 4.2 contradict Section 1's statement? (``OPTIONS_4_3``)."""
    wrong = {
        "a": (
            "a gradient field needs a zero integral around every loop; one loop with a zero integral does not "
            "make the field a gradient. Compute the integral around the sector of half that angle"
        ),
        "c": "no annular sector encloses the origin (that is why Section 3 uses it): the reason is elsewhere",
        "d": (
            "the closed form (N-1)(N-2)/(3N-2) Delta B is exactly 0 at that angle, because B = 0 there: it is not "
            "a quadrature error"
        ),
    }
    if not isinstance(answer, str) and not is_unattempted(answer):
        # check_choice of lnnlib.exercises raises TypeError on a list or an array: answer here instead
        return f"Exercise 4.3: your answer ({type(answer).__name__}) is not one of the options 'a', 'b', 'c', 'd'"
    return check_choice("4.3", answer, "b", wrong)
