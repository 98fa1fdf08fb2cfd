"""end_to_end, layer_gradients and balancedness against independent computations."""

from functools import reduce

import numpy as np
import pytest
from conftest import EXACT, FD_STEP, FD_TOL, dims_for, relative_error, shape_cases

import lnnlib as L


def smooth_loss(target):
    """l(W) = sum(sin W) + 0.5 ||W - T||^2, a non-quadratic loss with a known gradient."""
    return (
        lambda W: float(np.sum(np.sin(W)) + 0.5 * np.sum((W - target) ** 2)),
        lambda W: np.cos(W) + W - target,
    )


@pytest.mark.parametrize("N, shape", shape_cases())
def test_end_to_end_is_the_product_in_reverse_order(N, shape):
    rng = np.random.default_rng(N)
    weights = L.gaussian_init(dims_for(N, shape), 0.7, rng)
    expected = reduce(lambda acc, W: W @ acc, weights[1:], weights[0])
    manual = np.linalg.multi_dot(weights[::-1]) if N > 1 else weights[0]
    assert relative_error(L.end_to_end(weights), manual) < EXACT
    assert relative_error(expected, manual) < EXACT


@pytest.mark.parametrize("N, shape", shape_cases())
def test_layer_gradients_match_central_differences(N, shape):
    rng = np.random.default_rng(10 + N)
    weights = L.gaussian_init(dims_for(N, shape), 0.6, rng)
    value, grad = smooth_loss(rng.standard_normal((weights[-1].shape[0], weights[0].shape[1])))
    analytic = L.layer_gradients(weights, grad(L.end_to_end(weights)))
    for j, W in enumerate(weights):
        numeric = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[j][idx] += FD_STEP
            minus[j][idx] -= FD_STEP
            numeric[idx] = (value(L.end_to_end(plus)) - value(L.end_to_end(minus))) / (2 * FD_STEP)
        assert analytic[j].shape == W.shape
        assert relative_error(analytic[j], numeric) < FD_TOL, f"layer {j + 1}"


def test_layer_gradients_of_a_rank_deficient_network():
    rng = np.random.default_rng(3)
    weights = L.gaussian_init([5, 2, 5, 4], 0.8, rng)  # bottleneck of width 2: W has rank 2
    assert np.linalg.matrix_rank(L.end_to_end(weights)) == 2
    G = rng.standard_normal((4, 5))
    grads = L.layer_gradients(weights, G)
    # the directional derivative of <G, W> along a random layer direction equals <grad_j, direction>
    for j in range(3):
        D = rng.standard_normal(weights[j].shape)
        moved = [w + (FD_STEP * D if i == j else 0) for i, w in enumerate(weights)]
        back = [w - (FD_STEP * D if i == j else 0) for i, w in enumerate(weights)]
        fd = np.sum(G * (L.end_to_end(moved) - L.end_to_end(back))) / (2 * FD_STEP)
        assert abs(fd - np.sum(grads[j] * D)) < FD_TOL * max(1, abs(fd))


@pytest.mark.parametrize("N", [2, 3, 4, 5])
def test_balancedness_gaps_match_definition(N):
    rng = np.random.default_rng(N)
    weights = L.gaussian_init([3, 4, 5, 4, 3, 2][: N + 1], 1.0, rng)
    gaps = L.balancedness_gaps(weights)
    assert gaps.shape == (N - 1,)
    for j in range(N - 1):
        D = weights[j + 1].T @ weights[j + 1] - weights[j] @ weights[j].T
        assert abs(gaps[j] - np.sqrt(np.sum(D**2))) < EXACT


def test_one_layer_has_no_gaps():
    assert L.balancedness_gaps([np.ones((2, 3))]).shape == (0,)


def test_orthogonal_rebalancing_changes_neither_product_nor_gaps():
    # W_{j+1} Q^T, Q W_j with Q orthogonal is a symmetry of the network: same W, same gaps (up to rotation)
    rng = np.random.default_rng(7)
    weights = L.gaussian_init([3, 4, 4, 2], 1.0, rng)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    moved = [Q @ weights[0], weights[1] @ Q.T, weights[2]]
    assert relative_error(L.end_to_end(moved), L.end_to_end(weights)) < EXACT
    assert np.max(np.abs(L.balancedness_gaps(moved) - L.balancedness_gaps(weights))) < EXACT


# ---------------------------------------------------------------- bad input


def test_layers_that_do_not_chain_are_refused_in_words():
    with pytest.raises(
        ValueError, match=r"layer W_2 has shape \(3, 4\) so it takes 4 features, but layer W_1 outputs 5"
    ):
        L.end_to_end([np.ones((5, 2)), np.ones((3, 4))])


@pytest.mark.parametrize(
    "weights, message",
    [
        ([], "at least one layer"),
        (np.ones((2, 2)), "single matrix"),
        ([np.ones(3)], "must be a matrix"),
        ([np.array([[1.0, np.nan]])], r"finite entries; entry \(0, 1\) is nan"),
        ([np.ones((2, 2)), np.array([[np.inf, 0], [0, 1]])], "layer W_2 must have finite entries"),
        ([np.ones((2, 2), dtype=complex)], "real matrix"),
        ([np.ones((0, 2))], "at least one row and one column"),
    ],
)
def test_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        L.end_to_end(weights)


def test_gradient_of_the_wrong_shape_is_refused():
    weights = [np.ones((3, 2)), np.ones((4, 3))]
    with pytest.raises(ValueError, match=r"shape of the end-to-end matrix W = W_N...W_1, \(4, 2\); got \(2, 4\)"):
        L.layer_gradients(weights, np.ones((2, 4)))
    with pytest.raises(ValueError, match="the gradient G must have finite entries"):
        L.layer_gradients(weights, np.full((4, 2), np.nan))
