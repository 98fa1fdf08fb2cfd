"""The checkers of notebook 04's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest
import sympy as sp

import lnnlib as L
from lnnlib.exercises import nb04 as ex

w1, w2 = sp.symbols("w1 w2", real=True)
W = (w1, w2)
ANISO = (3 * (w1 - 1) ** 2 + (w2 - 1) ** 2) / 2


@pytest.fixture(scope="module")
def exact():
    """Independent oracle: sympy's exact legs of the loop integral (L.annular_sector_loop_integral)."""
    field = L.symbolic_single_output_field(ANISO, W, 2)
    legs = L.annular_sector_loop_integral(field, W, sp.pi / 2, 1, 2, legs=True)
    total = L.annular_sector_loop_integral(field, W, sp.pi / 2, 1, 2)
    assert sp.simplify(sum(legs) - total) == 0
    r, t = sp.symbols("r t", positive=True)
    curl = L.symbolic_curl(field, W).subs({w1: r * sp.cos(t), w2: r * sp.sin(t)})
    no_jacobian = sp.integrate(sp.simplify(curl), (r, 1, 2), (t, 0, sp.pi / 2))
    return total, legs, no_jacobian


def test_loop_integral(exact):
    total, (out, outer, back, inner), no_jacobian = exact
    assert total == sp.Rational(7, 3)

    def check(answer, **kw):
        return ex.check_loop_integral(answer, ANISO, W, **kw)

    assert check(total) == "Exercise 4.1: correct."  # a sympy number
    assert check(float(total)) == "Exercise 4.1: correct."
    assert check(np.float64(7 / 3)) == "Exercise 4.1: correct."
    assert "gradient field" in check(0)
    assert "counter-clockwise" in check(-total)
    assert "inner arc" in check(total - 2 * inner)
    assert "runs inward" in check(total - 2 * back)
    assert "two rays alone" in check(out + back)
    assert "two arcs alone" in check(outer + inner)
    assert "Jacobian" in check(no_jacobian)
    depth3 = L.loop_integral(
        lambda p: L.single_output_field(p, np.stack([3 * (p[..., 0] - 1), p[..., 1] - 1], axis=-1), 3), np.pi / 2
    )
    assert "depth 3" in check(depth3)
    section = L.annular_sector_loop_integral(L.symbolic_single_output_field(ANISO, W, 2), W, 2, 1, 2)
    assert "Section 4" in check(section)
    assert "not the loop integral" in check(1.0)
    assert "symbols alpha" in check(sp.Symbol("alpha") / 3)
    for phrase, junk in {
        "one number": "7/3",
        "None": None,
        "NaN": np.nan,
        "array of shape (2,)": [2.3, 2.4],
        "real": sp.I,
    }.items():
        message = check(junk)
        assert message.startswith("Exercise 4.1: ") and phrase in message, (phrase, message)
    assert "not attempted yet" in check(...)


def test_vanishing_angle():
    a = (1.0, 0.5)
    right = 2 * np.arctan(0.5)
    # independent oracle: the closed form of the loop integral vanishes there, and changes sign
    assert abs(L.linear_loss_loop_integral(np.array(a), 3, right)) < 1e-12
    assert (
        L.linear_loss_loop_integral(np.array(a), 3, right - 0.1)
        * L.linear_loss_loop_integral(np.array(a), 3, right + 0.1)
        < 0
    )

    def check(answer):
        return ex.check_vanishing_angle(answer, a)

    assert check(right) == "Exercise 4.2: correct."
    assert check(2 * sp.atan(sp.Rational(1, 2))) == "Exercise 4.2: correct."
    assert "no loop at all" in check(0.0)
    assert "two circles" in check(2 * np.pi)
    assert "angle of a itself" in check(np.arctan(0.5))
    assert "radians" in check(np.degrees(right))
    assert "swapped" in check(2 * np.arctan(2.0))
    assert "sign" in check(2 * np.pi - right)
    assert "wrong sign" in check(-right)
    assert "not zero" in check(1.5)
    for junk in ("abc", None, np.nan, [right]):
        message = check(junk)
        assert message.startswith("Exercise 4.2: ") and "correct." not in message, junk
    assert "not attempted yet" in check(...)


def test_contradiction_choice():
    assert ex.check_contradiction_choice("b") == "Exercise 4.3: correct."
    assert ex.check_contradiction_choice(" B ") == "Exercise 4.3: correct."
    assert "every loop" in ex.check_contradiction_choice("a")
    assert "encloses the origin" in ex.check_contradiction_choice("c")
    assert "quadrature error" in ex.check_contradiction_choice("d")
    assert set(ex.OPTIONS_4_3) == {"a", "b", "c", "d"}
    for junk in ("e", 2, None, ["b"]):
        message = ex.check_contradiction_choice(junk)
        assert message.startswith("Exercise 4.3: ") and "not one of the options" in message, junk
    assert "not attempted yet" in ex.check_contradiction_choice(...)
