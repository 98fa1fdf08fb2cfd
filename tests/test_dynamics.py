"""The end-to-end dynamics of [ACH18] and [ACHL19] against brute-force computations."""

import numpy as np
import pytest
import scipy.linalg
from conftest import EXACT, dims_for, rank_deficient_target, relative_error, shape_cases
from hypothesis import given, settings
from hypothesis import strategies as st

import lnnlib as L

PSD_TOL = 1e-9  # fractional powers lose a few digits to the eigendecomposition
FLOW_STEP = 1e-5  # step for central differences along the flow
FLOW_TOL = 1e-7


def layerwise_velocity(weights, G):
    """dW/dt = sum_j (W_N..W_{j+1}) dW_j/dt (W_{j-1}..W_1) with dW_j/dt = -dphi/dW_j: the product rule."""
    grads = L.layer_gradients(weights, G)
    N = len(weights)
    total = np.zeros((weights[-1].shape[0], weights[0].shape[1]))
    for j in range(N):
        left = np.eye(weights[-1].shape[0])
        for k in range(N - 1, j, -1):
            left = left @ weights[k]
        right = np.eye(weights[0].shape[1])
        for k in range(j):
            right = weights[k] @ right
        total -= left @ grads[j] @ right
    return total


def balanced_case(N, shape, seed):
    rng = np.random.default_rng(seed)
    if shape == "rank-deficient":
        W = rank_deficient_target(rng)
        weights = L.balanced_factorization(W, [4] + [5] * (N - 1) + [5])
    else:
        weights = L.balanced_init(dims_for(N, shape), rng)
    W = L.end_to_end(weights)
    return weights, W, rng.standard_normal(W.shape)


ALL_SHAPES = [*shape_cases(), *[pytest.param(N, "rank-deficient", id=f"N{N}-rank-deficient") for N in range(1, 6)]]


# ---------------------------------------------------------------- psd_power


@pytest.mark.parametrize("p", [0.5, 1 / 3, 2 / 5, 1.0, 1.7])
def test_psd_power_matches_scipy_on_positive_definite(p):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((5, 5))
    M = A @ A.T + 0.1 * np.eye(5)
    assert relative_error(L.psd_power(M, p), scipy.linalg.fractional_matrix_power(M, p).real) < PSD_TOL


def test_psd_power_of_singular_matrix_keeps_the_kernel_exact():
    rng = np.random.default_rng(2)
    W = rank_deficient_target(rng, 5, 4, 2)
    M = W @ W.T  # rank 2 in dimension 5
    root = L.psd_power(M, 1 / 3)
    # cube of the cube root gives M back, and the kernel of M is mapped to exactly zero (no 1e-6 noise)
    assert relative_error(root @ root @ root, M) < PSD_TOL
    U, _, _ = np.linalg.svd(W)
    assert np.max(np.abs(root @ U[:, 2:])) < 1e-12
    assert relative_error(L.psd_power(M, 0), np.eye(5)) < EXACT


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 3.0), st.floats(0.05, 3.0))
def test_psd_power_adds_exponents(seed, p, q):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((4, 3))
    M = A @ A.T  # rank 3 in dimension 4
    lhs = L.psd_power(M, p) @ L.psd_power(M, q)
    assert relative_error(lhs, L.psd_power(M, p + q)) < 1e-8 * max(1, np.linalg.norm(M) ** (p + q))


@pytest.mark.parametrize(
    "M, p, message",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), 0.5, "must be symmetric"),
        (np.array([[1.0, 0.0], [0.0, -1.0]]), 0.5, "positive semidefinite; its smallest eigenvalue is -1"),
        (np.ones((2, 3)), 0.5, r"square matrix M; got shape \(2, 3\)"),
        (np.eye(2), -0.5, "p >= 0"),
        (np.eye(2), np.nan, "finite real number"),
        (np.array([[np.nan, 0.0], [0.0, 1.0]]), 0.5, "M must have finite entries"),
    ],
)
def test_psd_power_bad_input(M, p, message):
    with pytest.raises(ValueError, match=message):
        L.psd_power(M, p)


# ---------------------------------------------------------------- preconditioned_gradient


@pytest.mark.parametrize("N, shape", ALL_SHAPES)
def test_preconditioned_gradient_is_the_layerwise_velocity_on_balanced_weights(N, shape):
    # [ACH18, Theorem 1]: with balanced layers, -sum_j (WW^T)^((N-j)/N) G (W^TW)^((j-1)/N) is dW/dt
    weights, W, G = balanced_case(N, shape, seed=20 + N)
    assert np.max(L.balancedness_gaps(weights), initial=0) < EXACT
    assert relative_error(-L.preconditioned_gradient(W, G, N), layerwise_velocity(weights, G)) < 1e-9


@pytest.mark.parametrize("N, shape", ALL_SHAPES)
def test_preconditioned_gradient_matches_the_sum_of_psd_powers(N, shape):
    _, W, G = balanced_case(N, shape, seed=40 + N)
    direct = sum(L.psd_power(W @ W.T, (N - j) / N) @ G @ L.psd_power(W.T @ W, (j - 1) / N) for j in range(1, N + 1))
    assert relative_error(L.preconditioned_gradient(W, G, N), direct) < PSD_TOL


def test_unbalanced_weights_break_the_formula():
    rng = np.random.default_rng(5)
    weights = L.gaussian_init([3, 4, 3], 1.0, rng)
    W = L.end_to_end(weights)
    G = rng.standard_normal(W.shape)
    assert relative_error(-L.preconditioned_gradient(W, G, 2), layerwise_velocity(weights, G)) > 1e-2


# ---------------------------------------------------------------- preconditioner


def kronecker_preconditioner(W, N):
    """P_W built entry by entry from the definition P vec(G) = vec(sum_j A_j G B_j), column-major vec."""
    d_out, d_in = W.shape
    A = [L.psd_power(W @ W.T, (N - j) / N) for j in range(1, N + 1)]
    B = [L.psd_power(W.T @ W, (j - 1) / N) for j in range(1, N + 1)]
    P = np.zeros((d_out * d_in, d_out * d_in))
    for col in range(d_out * d_in):
        E = np.zeros(d_out * d_in)
        E[col] = 1.0
        G = E.reshape((d_out, d_in), order="F")
        P[:, col] = sum(a @ G @ b for a, b in zip(A, B, strict=False)).flatten(order="F")
    return P


@pytest.mark.parametrize("N, shape", ALL_SHAPES)
def test_preconditioner_applies_the_end_to_end_operator(N, shape):
    _, W, G = balanced_case(N, shape, seed=60 + N)
    P = L.preconditioner(W, N)
    assert relative_error(P, kronecker_preconditioner(W, N)) < PSD_TOL
    assert relative_error(P @ G.flatten(order="F"), L.preconditioned_gradient(W, G, N).flatten(order="F")) < PSD_TOL


@pytest.mark.parametrize("N, shape", ALL_SHAPES)
def test_preconditioner_is_symmetric_psd_with_the_closed_form_spectrum(N, shape):
    _, W, _ = balanced_case(N, shape, seed=80 + N)
    P = L.preconditioner(W, N)
    assert np.max(np.abs(P - P.T)) < EXACT * max(1, np.abs(P).max())
    eig = np.sort(np.linalg.eigvalsh(P))[::-1]
    # closed form, computed here independently: pairs (r, r') of zero-padded singular values, 0^0 = 1
    s = np.linalg.svd(W, compute_uv=False)
    s = np.where(s > 1e-8 * s.max(), s, 0.0)
    left = np.concatenate([s, np.zeros(W.shape[0] - s.size)])
    right = np.concatenate([s, np.zeros(W.shape[1] - s.size)])
    closed = [
        sum(
            (a ** (2 * (N - j) / N) if N != j else 1.0) * (b ** (2 * (j - 1) / N) if j != 1 else 1.0)
            for j in range(1, N + 1)
        )
        for a in left
        for b in right
    ]
    closed = np.sort(closed)[::-1]
    assert eig.min() > -1e-9 * eig.max()
    assert relative_error(eig, closed) < PSD_TOL
    assert relative_error(L.preconditioner_eigenvalues(W, N), closed) < PSD_TOL


def test_single_output_preconditioner_closed_form():
    # [ACH18, Section 5]: for a row vector w, P_w = |w|^(2-2/N) (I + (N-1) w w^T / |w|^2)
    rng = np.random.default_rng(9)
    w = rng.standard_normal(4)
    for N in range(1, 6):
        P = L.preconditioner(w[None, :], N)
        expected = np.linalg.norm(w) ** (2 - 2 / N) * (np.eye(4) + (N - 1) * np.outer(w, w) / (w @ w))
        assert relative_error(P, expected) < PSD_TOL


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 4), st.integers(1, 4))
def test_preconditioned_gradient_is_a_descent_direction(seed, N, rows, cols):
    # P_W is PSD, so <G, P_W G> >= 0: the end-to-end flow never increases the loss to first order
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((rows, cols))
    G = rng.standard_normal((rows, cols))
    inner = np.sum(G * L.preconditioned_gradient(W, G, N))
    assert inner >= -1e-12 * np.sum(G**2) * max(1.0, np.linalg.norm(W) ** 2)


# ---------------------------------------------------------------- singular_value_velocity


@pytest.mark.parametrize("N, shape", shape_cases())
def test_singular_value_velocity_matches_central_differences_along_the_flow(N, shape):
    # [ACHL19, Theorem 3]: move the balanced layers along -grad for +-h and difference the singular values
    weights, W, _ = balanced_case(N, shape, seed=100 + N)
    target = np.random.default_rng(N).standard_normal(W.shape)
    G = W - target  # gradient of 0.5 ||W - target||^2
    grads = L.layer_gradients(weights, G)
    plus = L.end_to_end([w - FLOW_STEP * g for w, g in zip(weights, grads, strict=False)])
    minus = L.end_to_end([w + FLOW_STEP * g for w, g in zip(weights, grads, strict=False)])
    numeric = (L.singular_values(plus) - L.singular_values(minus)) / (2 * FLOW_STEP)
    assert relative_error(L.singular_value_velocity(W, G, N), numeric) < FLOW_TOL


def test_singular_value_velocity_of_depth_one_is_the_projection():
    rng = np.random.default_rng(4)
    W, G = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    U, _, Vt = np.linalg.svd(W, full_matrices=False)
    assert relative_error(L.singular_value_velocity(W, G, 1), -np.diag(U.T @ G @ Vt.T)) < EXACT


@pytest.mark.parametrize("fn", [L.preconditioned_gradient, L.singular_value_velocity])
@pytest.mark.parametrize(
    "W, G, N, message",
    [
        (np.ones((2, 3)), np.ones((3, 2)), 2, r"shape of W, \(2, 3\); got \(3, 2\)"),
        (np.ones((2, 3)), np.ones((2, 3)), 0, "at least 1"),
        (np.ones((2, 3)), np.ones((2, 3)), 2.5, "positive integer"),
        (np.ones((2, 3)), np.ones((2, 3)), True, "positive integer"),
        (np.ones((2, 3)), np.full((2, 3), np.inf), 2, "G must have finite entries"),
        (np.full((2, 3), np.nan), np.ones((2, 3)), 2, "W must have finite entries"),
    ],
)
def test_end_to_end_functions_refuse_bad_input(fn, W, G, N, message):
    with pytest.raises(ValueError, match=message):
        fn(W, G, N)


def test_preconditioner_refuses_bad_depth():
    with pytest.raises(ValueError, match="at least 1"):
        L.preconditioner(np.eye(2), -1)
