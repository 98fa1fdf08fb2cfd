"""Initializations: their products, balance and scale."""

import numpy as np
import pytest
from conftest import EXACT, relative_error

import lnnlib as L


@pytest.mark.parametrize("dims", [[3, 3], [4, 4, 4], [3, 5, 6, 2], [6, 5, 5, 5, 5], [2, 7, 7, 7, 7, 3]])
def test_balanced_init_is_exactly_balanced(dims):
    weights = L.balanced_init(dims, rng=0)
    assert [W.shape for W in weights] == [(dims[j + 1], dims[j]) for j in range(len(dims) - 1)]
    assert np.max(L.balancedness_gaps(weights), initial=0) < EXACT


def test_balanced_init_product_is_the_sampled_gaussian():
    # Procedure 1 of [ACGH19]: the product equals the sample A, here N(0, scale^2) entries
    dims = [4, 6, 6, 3]
    W = L.end_to_end(L.balanced_init(dims, rng=np.random.default_rng(5), scale=0.3))
    A = 0.3 * np.random.default_rng(5).standard_normal((3, 4))
    assert relative_error(W, A) < EXACT


def test_balanced_factorization_of_a_rank_deficient_matrix_is_exact():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))
    weights = L.balanced_factorization(W, [4, 5, 5, 5, 5])
    assert relative_error(L.end_to_end(weights), W) < EXACT
    assert np.max(L.balancedness_gaps(weights)) < EXACT
    assert all(np.linalg.matrix_rank(w, tol=1e-12) == 2 for w in weights)


def test_near_zero_init_has_end_to_end_norm_about_sqrt_n_times_scale():
    # [ACHL19]'s init: for 100 x 100 factors the end-to-end Frobenius norm is about 10 * init_scale
    norms = [np.linalg.norm(L.end_to_end(L.near_zero_init([100] * 4, 1e-3, rng=s))) for s in range(5)]
    assert 0.5e-2 < np.median(norms) < 2e-2


def test_gaussian_init_per_layer_std():
    weights = L.gaussian_init([200, 300, 100], [0.5, 2.0], rng=1)
    assert abs(weights[0].std() - 0.5) < 0.01 and abs(weights[1].std() - 2.0) < 0.05


def test_identity_init():
    weights = L.identity_init([3, 3, 3, 3], scale=8.0)
    assert relative_error(L.end_to_end(weights), 8.0 * np.eye(3)) < EXACT
    assert np.max(L.balancedness_gaps(weights)) < EXACT


def test_inits_are_reproducible_from_a_seed():
    a, b = L.near_zero_init([5, 5, 5], 1e-2, rng=3), L.near_zero_init([5, 5, 5], 1e-2, rng=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.balanced_init([4, 2, 4], rng=0), "d_1 = 2 is a bottleneck"),
        (lambda: L.balanced_init([4, 0, 4], rng=0), "d_1 = 0"),
        (lambda: L.balanced_init([4], rng=0), "at least d_0 and d_1"),
        (lambda: L.balanced_init([4, 4], rng=0, scale=-1), "scale must be a finite positive number"),
        (lambda: L.near_zero_init([3, 3], 0.0), "init_scale must be a finite positive number"),
        (lambda: L.gaussian_init([3, 3, 3], [1.0, 2.0, 3.0]), "one per layer"),
        (lambda: L.gaussian_init([3, 3], np.nan), "std of layer W_1"),
        (lambda: L.identity_init([3, 2.5]), "positive integer"),
        (lambda: L.balanced_factorization(np.ones((3, 4)), [3, 4, 4]), r"3 x 4 end-to-end matrix|describe a 4 x 3"),
    ],
)
def test_init_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
