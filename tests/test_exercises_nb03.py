"""The checkers of notebook 03's exercises: the right answer, each recognized mistake, junk, and the stub."""

import numpy as np
import pytest

import lnnlib as L
from lnnlib.exercises import nb03 as ex

# ---- Exercise 3.1 --------------------------------------------------------------------------------------------


def by_matrix(w, N):
    """Independent oracle: the eigenvalues of the matrix P_W at W = w^T."""
    return np.linalg.eigvalsh(L.preconditioner(np.asarray(w)[None, :], N))


def single_output(w, N):
    """The derived answer, largest first: N ||w||^(2-2/N) once, ||w||^(2-2/N) d0 - 1 times."""
    rho = np.linalg.norm(w) ** (2 - 2 / N)
    return np.array([N * rho] + [rho] * (len(w) - 1))


def closed(w, N, exponent=2, terms=None):
    """Section 5's sum, with a possibly wrong exponent or range of j (a student's typical slips)."""
    s = np.linalg.norm(w)
    terms = range(1, N + 1) if terms is None else terms
    return [
        sum(s ** (exponent * (N - j) / N) * q ** (exponent * (j - 1) / N) for j in terms)
        for q in [s] + [0.0] * (len(w) - 1)
    ]


def check31(f):
    return ex.check_single_output_eigenvalues(f)


def test_single_output_eigenvalues_right():
    for w in ex.W_CASES:
        for N in ex.DEPTHS:
            assert np.allclose(np.sort(single_output(w, N)), by_matrix(w, N), rtol=1e-10)
    assert check31(single_output) == "Exercise 3.1: correct."
    assert check31(by_matrix) == "Exercise 3.1: correct."  # any order; the matrix itself passes too
    assert check31(lambda w, N: list(single_output(w, N))) == "Exercise 3.1: correct."


def test_single_output_eigenvalues_mistakes():
    assert "2(N-j)/N" in check31(lambda w, N: closed(w, N, exponent=1))
    assert "0^0 = 1" in check31(lambda w, N: [N * np.linalg.norm(w) ** (2 - 2 / N)] + [0.0] * (len(w) - 1))
    assert "only one direction" in check31(lambda w, N: [N * np.linalg.norm(w) ** (2 - 2 / N)] * len(w))
    assert "range(1, N)" in check31(lambda w, N: closed(w, N, terms=range(1, N)))
    assert "not N + 1" not in check31(lambda w, N: single_output(w, N + 1))  # the hint says "depth N + 1"
    assert "depth N + 1" in check31(lambda w, N: single_output(w, N + 1))
    assert "depth N - 1" in check31(lambda w, N: single_output(w, max(N - 1, 1)))
    # right at depths 1 and 2 only: the example of a hint
    message = check31(lambda w, N: single_output(w, N) if N <= 2 else single_output(w, N) * 1.1)
    assert "right for N = 1, 2 but not for N = 3" in message
    assert "wrong already at N = 1" in check31(lambda w, N: 2 * single_output(w, N))


def test_single_output_eigenvalues_junk():
    def fails(w, N):
        raise ValueError("math domain error")

    cases = {
        "not attempted yet": ...,
        "function itself": single_output(ex.W_CASES[0], 3),
        "got a str": "abc",
        "returned None": lambda w, N: None,
        "raised ValueError at w = [0.6, -1.2, 0.4, 2.0], N = 1": fails,
        "returned 2 numbers": lambda w, N: [N, 1.0],
        "NaN": lambda w, N: np.full(len(w), np.nan),
        "not an array of numbers": lambda w, N: "eigenvalues",
        "complex": lambda w, N: single_output(w, N) + 0j,
    }
    for phrase, answer in cases.items():
        message = check31(answer)
        assert message.startswith("Exercise 3.1: ") and phrase in message, (phrase, message)
    assert "not attempted yet" in check31(lambda w, N: ...)  # the stub's function body


# ---- Exercise 3.2 --------------------------------------------------------------------------------------------

DIMS = [3, 4, 4, 2]
ETAS = [0.04, 0.02, 0.01]


@pytest.fixture(scope="module")
def problem():
    start = L.balanced_init(DIMS, rng=1, scale=0.5)
    target = np.random.default_rng(2).standard_normal((DIMS[-1], DIMS[0]))
    return start, target


def by_hand(start, target, eta, steps, rule_depth):
    """Independent oracle: both methods written out with L.layer_gradients and L.preconditioned_gradient."""
    layers = [W.copy() for W in start]
    W = L.end_to_end(start)
    for _ in range(steps):
        grads = L.layer_gradients(layers, L.end_to_end(layers) - target)
        layers = [Wj - eta * Gj for Wj, Gj in zip(layers, grads, strict=True)]
        W = W - eta * L.preconditioned_gradient(W, W - target, rule_depth)
    return L.end_to_end(layers), W


def test_discretization_gap(problem):
    start, target = problem
    N = len(start)

    def check(answer):
        return ex.check_discretization_gap(answer, start, L.L2Loss(target), ETAS)

    def distances(rule_depth=N, steps=None, how=lambda A, B: np.linalg.norm(A - B)):
        out = []
        for eta in ETAS:
            A, B = by_hand(start, target, eta, round(1 / eta) if steps is None else steps, rule_depth)
            out.append(how(A, B))
        return np.array(out)

    right = distances()
    assert check(right) == "Exercise 3.2: correct."
    assert check(list(right)) == "Exercise 3.2: correct."
    assert "depth 1" in check(distances(rule_depth=1))
    assert "not N + 1" in check(distances(rule_depth=N + 1))
    assert "not N - 1" in check(distances(rule_depth=N - 1))
    assert "not its square" in check(right**2)
    assert "not relative" in check(distances(how=lambda A, B: np.linalg.norm(A - B) / np.linalg.norm(A)))
    assert "how far layer-wise GD moved" in check(distances(how=lambda A, B: np.linalg.norm(A - L.end_to_end(start))))
    assert "not 100 steps" in check(distances(steps=100))
    assert "different values" in check(right * [1.0, 1.0, 1.5])
    for phrase, junk in {
        "shape (2,)": right[:2],
        "shape (3, 1)": right[:, None],
        "NaN": [np.nan, 1.0, 1.0],
        "not an array of numbers": "abc",
        "None": None,
        "not attempted yet": [right[0], ..., right[2]],
    }.items():
        message = check(junk)
        assert message.startswith("Exercise 3.2: ") and phrase in message, (phrase, message)
    assert "not attempted yet" in check(...)


def test_gap_order():
    assert ex.check_gap_order("b") == "Exercise 3.3: correct."
    assert ex.check_gap_order(" B ") == "Exercise 3.3: correct."
    assert "halving eta" in ex.check_gap_order("a")
    assert "O(eta^2) per step" in ex.check_gap_order("c")
    assert "not zero" in ex.check_gap_order("d")
    assert set(ex.OPTIONS_3_3) == {"a", "b", "c", "d"}
    for junk in ("e", 2, None, ["b"]):
        message = ex.check_gap_order(junk)
        assert message.startswith("Exercise 3.3: ") and "not one of the options" in message, junk
    assert "not attempted yet" in ex.check_gap_order(...)
