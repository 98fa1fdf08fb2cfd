"""Tests of lnnlib.optimizers: AdaGrad and AdaDelta against scalar loops written from the papers' pseudocode."""

import math

import numpy as np
import pytest

import lnnlib as L


def _problem(seed, m=30, d=4, p=2.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d)) * rng.uniform(0.2, 3, size=d)
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=m)
    return L.LpRegressionLoss(X, y, p), X, y


def _grad_scalar(X, y, w, p):
    """Gradient of sum |x_i.w - y_i|^p / (p m), one coordinate at a time (independent of LpRegressionLoss)."""
    m, d = X.shape
    g = [0.0] * d
    for i in range(m):
        r = sum(X[i, k] * w[k] for k in range(d)) - y[i]
        s = math.copysign(abs(r) ** (p - 1), r)
        for k in range(d):
            g[k] += s * X[i, k] / m
    return g


def _adagrad_reference(X, y, p, lr, steps, eps):
    d = X.shape[1]
    w, acc = [0.0] * d, [0.0] * d
    for _ in range(steps):
        g = _grad_scalar(X, y, w, p)
        for k in range(d):
            acc[k] += g[k] ** 2
            w[k] -= lr * g[k] / (math.sqrt(acc[k]) + eps)
    return np.array(w)


def _adadelta_reference(X, y, p, lr, steps, rho, eps):
    d = X.shape[1]
    w, eg, ed = [0.0] * d, [0.0] * d, [0.0] * d
    for _ in range(steps):
        g = _grad_scalar(X, y, w, p)
        for k in range(d):
            eg[k] = rho * eg[k] + (1 - rho) * g[k] ** 2
            dx = -math.sqrt(ed[k] + eps) / math.sqrt(eg[k] + eps) * g[k]
            ed[k] = rho * ed[k] + (1 - rho) * dx**2
            w[k] += lr * dx
    return np.array(w)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("p", [2.0, 4.0])
@pytest.mark.parametrize("lr", [0.01, 0.3])
def test_adagrad_matches_pseudocode(seed, p, lr):
    loss, X, y = _problem(seed, p=p)
    traj = L.adagrad(np.zeros((1, X.shape[1])), loss, lr, 25, eps=1e-8)
    np.testing.assert_allclose(traj.final[0], _adagrad_reference(X, y, p, lr, 25, 1e-8), rtol=1e-10, atol=1e-12)
    assert traj.iterations == 25 and len(traj.loss) == 26


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("p", [2.0, 4.0])
@pytest.mark.parametrize("rho, lr", [(0.9, 1.0), (0.95, 3.0)])
def test_adadelta_matches_pseudocode(seed, p, rho, lr):
    loss, X, y = _problem(seed, p=p)
    traj = L.adadelta(np.zeros((1, X.shape[1])), loss, lr, 25, rho=rho, eps=1e-6)
    np.testing.assert_allclose(traj.final[0], _adadelta_reference(X, y, p, lr, 25, rho, 1e-6), rtol=1e-10, atol=1e-12)


def test_adagrad_reaches_least_squares():
    loss, X, y = _problem(2)
    w_star = loss.least_squares_solution()
    traj = L.adagrad(np.zeros((1, X.shape[1])), loss, 0.5, 3000)
    assert traj.loss[-1] < 1.001 * loss.value(w_star)
    np.testing.assert_allclose(traj.final, w_star, atol=1e-2)


def test_adadelta_decreases_least_squares():
    # AdaDelta's eps floors its step (Zeiler 2012), so it hovers near the minimum rather than reaching it
    loss, X, y = _problem(2)
    w_star = loss.least_squares_solution()
    traj = L.adadelta(np.zeros((1, X.shape[1])), loss, 1.0, 3000)
    assert traj.loss[-1] < 3 * loss.value(w_star) < 1e-2 * traj.loss[0]


@pytest.mark.parametrize("method", [L.adagrad, L.adadelta])
def test_optimizers_stop_at_tol(method):
    loss, X, _ = _problem(3)
    traj = method(np.zeros((1, X.shape[1])), loss, 0.5, 5000, tol=1.2 * loss.value(loss.least_squares_solution()))
    assert traj.converged and traj.loss[-1] <= traj.loss[0] and traj.iterations < 5000
    assert np.all(traj.loss[:-1] > 1.2 * loss.value(loss.least_squares_solution()))


def test_optimizers_blow_up_is_reported():
    X = np.eye(2)
    loss = L.LpRegressionLoss(X, np.array([100.0, 1.0]), 4)
    # a huge first step overshoots the l4 minimum and the quartic loss explodes
    with pytest.raises(FloatingPointError, match="eta = 1e\\+06"):
        L.adagrad(np.zeros((1, 2)), loss, 1e6, 200)
    with pytest.raises(FloatingPointError, match="step 1 "):
        L.adadelta(np.zeros((1, 2)), loss, 1e12, 200)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": -1.0}, "learning rate"),
        ({"lr": 0.1, "steps": -1}, "steps"),
        ({"lr": 0.1, "eps": 0.0}, "eps"),
    ],
)
@pytest.mark.parametrize("method", [L.adagrad, L.adadelta])
def test_optimizers_bad_inputs(method, kwargs, message):
    loss, X, _ = _problem(0)
    args = {"steps": 5, **kwargs}
    lr = args.pop("lr")
    steps = args.pop("steps")
    with pytest.raises(ValueError, match=message):
        method(np.zeros((1, X.shape[1])), loss, lr, steps, **args)


def test_optimizers_bad_shapes_and_loss():
    loss, X, _ = _problem(0)
    with pytest.raises(ValueError, match="acts on"):
        L.adagrad(np.zeros((1, X.shape[1] + 1)), loss, 0.1, 3)
    with pytest.raises(ValueError, match="lnnlib Loss"):
        L.adagrad(np.zeros((1, 2)), lambda W: 0.0, 0.1, 3)
    with pytest.raises(ValueError, match="rho"):
        L.adadelta(np.zeros((1, X.shape[1])), loss, 1.0, 3, rho=1.0)
    with pytest.raises(ValueError, match="finite"):
        L.adagrad(np.full((1, X.shape[1]), np.nan), loss, 0.1, 3)
