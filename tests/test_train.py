"""Gradient descent over layers and the discrete end-to-end rule."""

import numpy as np
import pytest
from conftest import EXACT, relative_error

import lnnlib as L


def test_depth_one_gd_on_l2_has_the_closed_form():
    # W_t = Phi + (1 - eta)^t (W_0 - Phi) for l = 0.5 ||W - Phi||^2
    rng = np.random.default_rng(0)
    Phi, W0 = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    traj = L.gradient_descent([W0], L.L2Loss(Phi), lr=0.1, steps=25, record_every=5)
    assert list(traj.steps) == [0, 5, 10, 15, 20, 25]
    for t, W in zip(traj.steps, traj.end_to_end, strict=False):
        assert relative_error(W, Phi + 0.9**t * (W0 - Phi)) < EXACT
    assert relative_error(traj.loss, [0.5 * 0.81**t * np.sum((W0 - Phi) ** 2) for t in range(26)]) < EXACT


def test_gd_records_gaps_and_singular_values_of_its_snapshots():
    weights = L.gaussian_init([3, 4, 2], 0.5, rng=1)
    traj = L.gradient_descent(weights, L.L2Loss(np.ones((2, 3))), lr=0.05, steps=10, record_every=4)
    assert list(traj.steps) == [0, 4, 8, 10]
    assert traj.gaps.shape == (4, 1) and traj.singular_values.shape == (4, 2)
    assert relative_error(traj.gaps[-1], L.balancedness_gaps(traj.weights)) < EXACT
    assert relative_error(traj.singular_values[0], L.singular_values(L.end_to_end(weights))) < EXACT
    assert relative_error(traj.final, L.end_to_end(traj.weights)) < EXACT
    assert traj.iterations == 10 and not traj.converged


def test_gd_does_not_modify_its_input():
    weights = L.gaussian_init([2, 2, 2], 0.5, rng=2)
    copy = [w.copy() for w in weights]
    L.gradient_descent(weights, L.L2Loss(np.eye(2)), lr=0.1, steps=3)
    assert all(np.array_equal(a, b) for a, b in zip(weights, copy, strict=False))


def test_gd_stops_at_the_tolerance():
    traj = L.gradient_descent(L.balanced_init([3, 3, 3], rng=3), L.L2Loss(np.eye(3)), lr=0.1, steps=10_000, tol=1e-8)
    assert traj.converged and traj.loss[-1] <= 1e-8 < traj.loss[-2]
    assert traj.steps[-1] == traj.iterations < 10_000


def test_gd_that_blows_up_names_the_step_and_the_learning_rate():
    with pytest.raises(FloatingPointError, match=r"diverged at step \d+ with learning rate eta = 5"):
        L.gradient_descent(L.balanced_init([3, 3, 3], rng=4), L.L2Loss(np.eye(3)), lr=5.0, steps=500)


def test_end_to_end_rule_of_depth_one_is_plain_gd():
    rng = np.random.default_rng(5)
    Phi, W0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    a = L.gradient_descent([W0], L.L2Loss(Phi), lr=0.2, steps=7)
    b = L.end_to_end_descent(W0, L.L2Loss(Phi), lr=0.2, steps=7, depth=1)
    assert relative_error(a.final, b.final) < EXACT and b.gaps.shape == (2, 0)


def test_end_to_end_rule_tracks_layer_gd_from_balanced_init_to_first_order_in_eta():
    # both discretize the same flow [ACH18, Theorem 1]; their gap over a fixed time shrinks like eta
    rng = np.random.default_rng(6)
    weights = L.balanced_init([3, 4, 4, 2], rng, scale=1.0)
    loss = L.L2Loss(rng.standard_normal((2, 3)))
    gaps = []
    for eta in [0.02, 0.01, 0.005]:
        steps = int(round(0.5 / eta))
        layer = L.gradient_descent(weights, loss, eta, steps)
        rule = L.end_to_end_descent(L.end_to_end(weights), loss, eta, steps, depth=3)
        gaps.append(np.linalg.norm(layer.final - rule.final))
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    assert np.all((ratios > 1.6) & (ratios < 2.4)), ratios


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.gradient_descent([np.eye(2)], L.L2Loss(np.eye(2)), lr=0, steps=3), "learning rate eta must be"),
        (lambda: L.gradient_descent([np.eye(2)], L.L2Loss(np.eye(2)), lr=0.1, steps=-1), "nonnegative integer"),
        (lambda: L.gradient_descent([np.eye(2)], L.L2Loss(np.eye(3)), lr=0.1, steps=1), r"loss acts on \(3, 3\)"),
        (lambda: L.gradient_descent([np.eye(2)], lambda W: 0.0, lr=0.1, steps=1), "must be an lnnlib Loss"),
        (lambda: L.gradient_descent([np.eye(2)], L.L2Loss(np.eye(2)), 0.1, 2, record_every=0), "record_every"),
        (lambda: L.end_to_end_descent(np.eye(2), L.L2Loss(np.eye(2)), 0.1, 2, depth=0), "at least 1"),
    ],
)
def test_training_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
