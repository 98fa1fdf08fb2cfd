"""The checkers of notebook 09's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest
import sympy as sp

from lnnlib.exercises import nb09 as ex


@pytest.fixture(scope="module")
def point():
    rng = np.random.default_rng(9)
    return rng.standard_normal((3, 3)), rng.standard_normal((3, 3))


def fd_velocities(W, G, depth, h=1e-6):
    """Independent oracle: central differences of the singular values of the product of balanced layers moved
    along minus their gradients (W = U S V^T, W_j = R_(j) S^(1/N) R_(j-1)^T with R_0 = V, R_N = U, R_j = I)."""
    U, s, Vt = np.linalg.svd(W)
    root = np.diag(s ** (1 / depth))
    frames = [Vt.T] + [np.eye(3)] * (depth - 1) + [U]
    layers = [frames[j + 1] @ root @ frames[j].T for j in range(depth)]

    def product(ws):
        out = np.eye(3)
        for Wj in ws:
            out = Wj @ out
        return out

    assert np.allclose(product(layers), W)
    grads = []
    for j in range(depth):
        left = product(layers[j + 1 :])  # W_N ... W_(j+1)
        right = product(layers[:j])  # W_(j-1) ... W_1
        grads.append(left.T @ G @ right.T)
    plus = np.linalg.svd(product([Wj - h * g for Wj, g in zip(layers, grads, strict=True)]), compute_uv=False)
    minus = np.linalg.svd(product([Wj + h * g for Wj, g in zip(layers, grads, strict=True)]), compute_uv=False)
    return (plus - minus) / (2 * h)


def test_singular_velocities(point):
    W, G = point

    def check(answer):
        return ex.check_singular_velocities(answer, W, G, 3)

    right = fd_velocities(W, G, 3)
    U, s, Vt = np.linalg.svd(W)
    proj = np.array([U[:, r] @ G @ Vt[r] for r in range(3)])
    exact = -3 * s ** (4 / 3) * proj
    assert np.max(np.abs(right - exact)) < 1e-6 * np.max(np.abs(exact))  # the oracle agrees with the formula
    assert check(exact) == "Exercise 9.1: correct."
    assert check(exact.tolist()) == "Exercise 9.1: correct."
    assert "minus sign" in check(-exact)
    assert "factor N is missing" in check(exact / 3)
    assert "not 2/N" in check(-3 * s ** (2 / 3) * proj)
    assert "not 2 - 1/N" in check(-3 * s ** (5 / 3) * proj)
    assert "depth 4" in check(-4 * s ** (3 / 2) * proj)
    assert "depth 2" in check(-2 * s * proj)
    assert "depth-1 velocity" in check(-proj)
    assert "row of Vt" in check(-3 * s ** (4 / 3) * np.array([U[:, r] @ G @ Vt[:, r] for r in range(3)]))
    assert "G^T" in check(-3 * s ** (4 / 3) * np.array([U[:, r] @ G.T @ Vt[r] for r in range(3)]))
    s_G = np.linalg.svd(G, compute_uv=False)
    assert "not of the gradient G" in check(-3 * s_G ** (4 / 3) * proj)
    assert "reversed order" in check(exact[::-1])
    assert "SVD of W" in check(exact + [0.0, 0.0, 1.0])
    for junk in ("abc", None, [np.nan] * 3, exact[:2], np.ones((3, 3)), object()):
        message = check(junk)
        assert message.startswith("Exercise 9.1: ") and "correct." not in message, junk
    assert "NaN" in check([np.nan] * 3)
    assert "shape" in check(exact[:2])
    assert "not attempted yet" in check(...)


def partner_limit(s1_0, s2_0, kappa, depth):
    """Independent oracle: solve the separated relation with sympy at a huge sigma_1 and let it grow."""
    s = sp.symbols("s", positive=True)
    F = sp.integrate(s ** -(2 - sp.Rational(2, depth)), s)
    s1 = sp.Symbol("s1", positive=True)
    rhs = sp.limit(sp.nsimplify(kappa) * (F.subs(s, s1) - F.subs(s, sp.nsimplify(s1_0))), s1, sp.oo) + F.subs(
        s, sp.nsimplify(s2_0)
    )
    return float(sp.solve(sp.Eq(F, rhs), s)[0])


def test_depth4_asymptote():
    right = partner_limit(0.3, 0.2, 0.6, 4)
    assert abs(right - ex.asymptote(0.3, 0.2, 0.6, 4)) < 1e-12
    assert abs(partner_limit(0.3, 0.2, 0.6, 3) - 1.856) < 1e-3  # notebook 09 prints 1.856 for depth 3

    def check(answer):
        return ex.check_depth4_asymptote(answer)

    assert check(right) == "Exercise 9.2: correct."
    assert check(sp.Rational(155, 361) + 50 * sp.sqrt(6) / 361) == "Exercise 9.2: correct."
    assert "depth 3's asymptote" in check(partner_limit(0.3, 0.2, 0.6, 3))
    bracket = 0.2**-0.5 - 0.6 * 0.3**-0.5
    assert "sigma_2^(-0.5)" in check(bracket)
    assert "sigma_2^(0.5)" in check(1 / bracket)
    assert "the sign of kappa" in check(partner_limit(0.3, 0.2, -0.6, 4))
    assert "not 1 / kappa" not in check(1.0)  # 1/kappa gives no finite limit here: not a known mistake
    assert "you swapped" in check(partner_limit(0.2, 0.3, 0.6, 4))
    assert "antiderivative" in check((0.2**-1.5 - 0.6 * 0.3**-1.5) ** (-1 / 1.5))
    assert "not to the digits" in check(round(right, 4))
    assert "depth 3's asymptote" in check(1.856)  # the rounded print of section 2
    assert "wrong sign" in check(-right)
    assert "solve for sigma_2" in check(0.5)
    for junk in ("abc", None, [right, right], np.nan, sp.Symbol("kappa"), True):
        message = check(junk)
        assert message.startswith("Exercise 9.2: ") and "correct." not in message, junk
    assert "NaN" in check(np.nan)
    assert "not attempted yet" in check(...)


def test_depth4_asymptote_inverse_kappa():
    # with kappa = 0.3 and sigma_1(0) = 3, 1/kappa = 3.33 still has a finite limit: recognized
    wrong = ex.asymptote(3.0, 0.2, 1 / 0.3, 4)
    assert np.isfinite(wrong)
    assert "not 1 / kappa" in ex.check_depth4_asymptote(wrong, 3.0, 0.2, 0.3, 4)


def test_opposite_choice():
    assert ex.check_opposite_choice("c") == "Exercise 9.3: correct."
    assert "rise or fall" in ex.check_opposite_choice("a")
    assert "the more so the deeper" in ex.check_opposite_choice("b")
    assert "kappa = 0" in ex.check_opposite_choice("d")
    for junk in ("e", 3, None, ["c"]):
        message = ex.check_opposite_choice(junk)
        assert message.startswith("Exercise 9.3: ") and "one of the options" in message, junk
    assert "not attempted yet" in ex.check_opposite_choice(...)
