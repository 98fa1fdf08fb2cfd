"""Losses (value and gradient) and the [ACHL19] measurements."""

import numpy as np
import pytest
from conftest import EXACT, FD_STEP, relative_error
from hypothesis import given, settings
from hypothesis import strategies as st

import lnnlib as L


def central_gradient(f, W):
    out = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = FD_STEP
        out[idx] = (f(W + E) - f(W - E)) / (2 * FD_STEP)
    return out


def losses(rng):
    X = rng.standard_normal((30, 4))
    Y = rng.standard_normal((30, 2))
    return [
        L.L2Loss(rng.standard_normal((2, 4))),
        L.LpRegressionLoss(X, Y, p=2),
        L.LpRegressionLoss(X, Y, p=3),
        L.LpRegressionLoss(X, Y, p=4),
    ]


@pytest.mark.parametrize("k", range(4))
def test_loss_gradients_match_central_differences(k):
    rng = np.random.default_rng(k)
    loss = losses(rng)[k]
    W = rng.standard_normal((2, 4))
    assert relative_error(loss.gradient(W), central_gradient(loss.value, W)) < 1e-6


def test_l2_regression_on_whitened_data_is_l2_to_phi_plus_a_constant():
    # [ACGH19, Section 2.1]: with (1/m) X^T X = I, the loss is 0.5 ||W - Phi||^2 + const, Phi = Y^T X / m
    rng = np.random.default_rng(3)
    X = L.whiten(rng.standard_normal((50, 3)) @ rng.standard_normal((3, 3)))
    assert relative_error(X.T @ X / 50, np.eye(3)) < EXACT
    Y = rng.standard_normal((50, 2))
    regression, l2 = L.LpRegressionLoss(X, Y), L.L2Loss(Y.T @ X / 50)
    W1, W2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert abs((regression(W1) - l2(W1)) - (regression(W2) - l2(W2))) < EXACT
    assert relative_error(regression.least_squares_solution(), Y.T @ X / 50) < 1e-9


def test_single_output_targets_may_be_a_vector():
    loss = L.LpRegressionLoss(np.eye(3), np.array([1.0, 2.0, 3.0]), p=4)
    assert loss.shape == (1, 3) and loss.value(np.array([[1.0, 2.0, 3.0]])) == 0.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.L2Loss(np.eye(2)).value(np.eye(3)), r"acts on 2 x 2 end-to-end matrices; W has shape \(3, 3\)"),
        (lambda: L.LpRegressionLoss(np.ones((3, 2)), np.ones(4)), "X has 3 examples"),
        (lambda: L.LpRegressionLoss(np.ones((3, 2)), np.ones(3), p=0.5), "p >= 1"),
        (lambda: L.LpRegressionLoss(np.ones((3, 2)), np.array([1.0, np.nan, 0])), "targets Y must have finite"),
        (lambda: L.whiten(np.ones((5, 2))), "covariance is singular"),
        (lambda: L.L2Loss(np.eye(2)).gradient(np.full((2, 2), np.inf)), "W must have finite entries"),
    ],
)
def test_loss_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- metrics


def test_effective_rank_of_equal_singular_values_is_the_rank():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    for k in range(1, 7):
        W = U[:, :k] @ U[:, :k].T * 3.0
        assert abs(L.effective_rank(W) - k) < 1e-9


def test_effective_rank_matches_the_entropy_formula():
    s = np.array([4.0, 2.0, 1.0, 0.0])
    p = s[:3] / s.sum()
    assert abs(L.effective_rank(np.diag(s)) - np.exp(-np.sum(p * np.log(p)))) < EXACT


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 6))
def test_effective_rank_lies_between_one_and_the_rank(seed, rows, cols):
    W = np.random.default_rng(seed).standard_normal((rows, cols))
    assert 1 - 1e-12 <= L.effective_rank(W) <= np.linalg.matrix_rank(W) + 1e-9


def test_reconstruction_error_is_the_mse_when_norm_squared_is_the_entry_count():
    rng = np.random.default_rng(1)
    M = rng.standard_normal((10, 10))
    M *= 10 / np.linalg.norm(M)  # ||M||_F^2 = 100 = number of entries, as in [ACHL19]
    W = M + 0.1 * rng.standard_normal((10, 10))
    assert abs(L.reconstruction_error(W, M) - np.mean((W - M) ** 2)) < EXACT


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.effective_rank(np.zeros((3, 3))), "zero matrix is undefined"),
        (lambda: L.reconstruction_error(np.eye(2), np.zeros((2, 2))), "undefined for a zero target"),
        (
            lambda: L.reconstruction_error(np.eye(2), np.eye(3)),
            r"W has shape \(2, 2\) but the target M has shape \(3, 3\)",
        ),
        (lambda: L.reconstruction_error(np.eye(2) * np.nan, np.eye(2)), "W must have finite entries"),
    ],
)
def test_metrics_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
