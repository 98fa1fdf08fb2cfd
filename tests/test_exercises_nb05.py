"""The checkers of notebook 05's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest
import sympy as sp

import lnnlib as L
from lnnlib.exercises import nb05 as ex

# ---- Exercise 5.1 --------------------------------------------------------------------------------------------

PHI = np.array([[2.0, 0.0, 1.0], [0.0, 1.0, 0.5]])
DIR = np.random.default_rng(3).standard_normal(PHI.shape)
W0 = PHI + 0.5 * DIR / np.linalg.norm(DIR)
ETA, EPS, N = 1e-8, 1e-5, 3


def check51(answer):
    return ex.check_margin_and_count(answer, PHI, W0, ETA, EPS, N)


def test_margin_and_count():
    # independent oracle: sigma_min from the eigenvalues of Phi Phi^T, the count from L.theorem_iterations
    smin = np.sqrt(np.linalg.eigvalsh(PHI @ PHI.T)[0])
    dist = np.sqrt(np.sum((W0 - PHI) ** 2))
    c = smin - dist
    assert np.isclose(c, L.deficiency_margin(W0, PHI))
    loss0 = L.L2Loss(PHI).value(W0)
    T = L.theorem_iterations(loss0, EPS, ETA, c, N)
    assert check51([c, T]) == "Exercise 5.1: correct."
    assert check51((c, np.ceil(T))) == "Exercise 5.1: correct."  # a whole number of steps
    assert check51(np.array([c, T])) == "Exercise 5.1: correct."
    assert check51([sp.Float(c), sp.Float(T)]) == "Exercise 5.1: correct."
    # mistakes in c
    assert "sigma_min(Phi) is not ||Phi||_F" in check51([np.linalg.norm(PHI) - dist, T])
    assert "largest singular value" in check51([np.sqrt(np.linalg.eigvalsh(PHI @ PHI.T)[-1]) - dist, T])
    assert "not the spectral norm" in check51([smin - np.linalg.norm(W0 - PHI, 2), T])
    assert "sigma_min(W(0))" in check51([np.linalg.svd(W0, compute_uv=False)[-1], T])
    assert "squared norms" in check51([smin**2 - dist**2, T])
    assert "wrong sign" in check51([-c, T])
    assert "not the deficiency margin" in check51([0.1, T])
    # mistakes in T, with the right c

    def T_with(exponent, log=np.log, loss=loss0):
        return log(loss / EPS) / (ETA * c**exponent)

    for phrase, wrong in {
        "lecture's simplified form": T_with(2),
        "step-size limit": T_with((4 * N - 2) / N),
        "at N = 4": T_with(2 * 3 / 4),
        "at N = 2": T_with(2 * 1 / 2),
        "log10": T_with(4 / 3, log=np.log10),
        "the 1/2 is missing": T_with(4 / 3, loss=2 * loss0),
        "log(l(0) / eps)": -T,
        "not the theorem's count": 1e6,
    }.items():
        message = check51([c, wrong])
        assert message.startswith("Exercise 5.1: your margin c is right; not right yet: ") and phrase in message, (
            phrase,
            message,
        )
    for phrase, junk in {
        "two numbers; got a str": "abc",
        "two numbers; got a NoneType": None,
        "got 3 values": [c, T, 1.0],
        "NaN": [np.nan, T],
        "symbols c": [sp.Symbol("c"), T],
        "T: your answer is complex": [c, sp.I],
        "not attempted yet": [c, ...],
    }.items():
        message = check51(junk)
        assert message.startswith("Exercise 5.1: ") and phrase in message, (phrase, message)
    assert "not attempted yet" in check51(...)


# ---- Exercise 5.2 --------------------------------------------------------------------------------------------

STDS = (0.01, 0.1, 0.3)


@pytest.fixture(scope="module")
def margin_problem():
    rng = np.random.default_rng(4)
    phi = rng.standard_normal((1, 10))
    phi *= 0.7 / np.linalg.norm(phi)
    gen = np.random.default_rng(0)
    samples = [s * gen.standard_normal((4000, 10)) for s in STDS]
    return phi, samples


def by_loop(phi, samples, margin=lambda A, phi: np.linalg.norm(phi) - np.linalg.norm(A - phi), stat=np.median):
    """Independent oracle: the margin of each sample, one at a time."""
    out = []
    for S in samples:
        m = np.array([margin(A, phi.ravel()) for A in S])
        out.append((np.mean(m > 0), stat(m[m > 0])))
    return np.array(out).T


def test_margin_samples(margin_problem):
    phi, samples = margin_problem

    def check(answer):
        return ex.check_margin_samples(answer, phi, samples)

    right = by_loop(phi, samples)
    # the Monte Carlo fractions agree with the exact probability (4 standard errors)
    exact = np.array([L.margin_probability(phi, s) for s in STDS])
    assert np.all(np.abs(right[0] - exact) <= 4 * np.sqrt(exact * (1 - exact) / 4000) + 1e-3)
    assert check(right) == "Exercise 5.2: correct."
    assert check(right.tolist()) == "Exercise 5.2: correct."
    assert "transposed" in check(right.T)
    from_zero = by_loop(phi, samples, margin=lambda A, phi: np.linalg.norm(phi) - np.linalg.norm(A))
    assert "measured from Phi" in check(from_zero)
    assert "WITH a margin" in check([1 - right[0], right[1]])
    medians_all = [np.median(np.linalg.norm(phi) - np.linalg.norm(S - phi, axis=1)) for S in samples]
    assert "have a margin (c > 0) only" in check([right[0], medians_all])
    assert "not the mean" in check(by_loop(phi, samples, stat=np.mean))
    squared = by_loop(phi, samples, margin=lambda A, phi: np.sum(phi**2) - np.sum((A - phi) ** 2))
    assert "squared norms" in check(squared)
    assert "percentages" in check([100 * right[0], right[1]])
    assert "fractions (row 0) are right" in check([right[0], right[1] * [1.0, 1.0, 1.1]])
    assert "median margins (row 1) are right" in check([right[0] + [0.0, 0.0, 0.01], right[1]])
    assert "neither row" in check(right * [[1.0, 1.0, 1.1], [1.2, 1.0, 1.0]])
    for phrase, junk in {
        "shape (3,)": right[0],
        "NaN": np.where(np.eye(2, 3) > 0, np.nan, right),
        "not a number": "abc",
        "None": None,
        "not attempted yet": [right[0], ...],
    }.items():
        message = check(junk)
        assert message.startswith("Exercise 5.2: ") and phrase in message, (phrase, message)


# ---- Exercise 5.3 --------------------------------------------------------------------------------------------


def test_identity_floor():
    target = -L.negative_eigenvalue_target(3, -1.0, rng=0)  # eigenvalues -1, -1, 1
    eta, steps = 0.1, 1000

    def check(answer):
        return ex.check_identity_floor(answer, target, eta, steps)

    # independent oracle: both layers stay one symmetric A commuting with the target; along each eigenvector
    # a <- a - eta a (a^2 - lambda) from a = 1, and the loss is sum (a^2 - lambda)^2 / 2
    lam = np.linalg.eigvalsh(target)

    def final(N, lam=lam):
        a = np.ones_like(lam)
        for _ in range(steps):
            a = a - eta * a ** (N - 1) * (a**N - lam)
        return 0.5 * np.sum((a**N - lam) ** 2)

    floor = L.psd_loss_floor(target)
    assert np.isclose(floor, 1.0)
    assert check([floor, final(2)]) == "Exercise 5.3: correct."
    assert check([sp.Integer(1), final(2)]) == "Exercise 5.3: correct."
    assert "most negative eigenvalue" in check([0.5, final(2)])
    assert "the 1/2 is missing" in check([2.0, final(2)])
    assert "only the negative eigenvalues count" in check([1.5, final(2)])
    assert "not 0" in check([0.0, final(2)])
    assert "not the floor" in check([0.7, final(2)])
    for phrase, wrong in {
        "loss at the start": 0.5 * np.sum((1 - lam) ** 2),
        "depth 1": final(1),
        "depth 3": final(3),
        "Section 5's target": final(2, lam=-lam),
        "not the loss after 1000 steps": 1.2,
    }.items():
        message = check([floor, wrong])
        assert message.startswith("Exercise 5.3: your floor is right; not right yet: ") and phrase in message, (
            phrase,
            message,
        )
    for phrase, junk in {
        "two numbers; got a str": "1, 1",
        "got 1 values": [1.0],
        "NaN": [np.nan, 1.0],
        "not attempted yet": [..., 1.0],
    }.items():
        message = check(junk)
        assert message.startswith("Exercise 5.3: ") and phrase in message, (phrase, message)
    assert "not attempted yet" in check(...)
