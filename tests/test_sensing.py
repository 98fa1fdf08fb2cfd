"""Schatten quasi-norms, the sensing loss, diagonal sensing descent, and the one-entry closed forms."""

import numpy as np
import pytest

import lnnlib as L


@pytest.mark.parametrize("p", [0.25, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_schatten_quasi_norm_vs_eigenvalues(p, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((5, 3)) @ rng.standard_normal((3, 4))  # rank 3, rectangular
    # independent: singular values as square roots of the eigenvalues of W^T W
    lam = np.clip(np.linalg.eigvalsh(W.T @ W), 0, None)
    s = np.sqrt(lam[lam > 1e-10 * lam.max()])
    assert np.isclose(L.schatten_quasi_norm(W, p), np.sum(s**p), rtol=1e-10)


def test_schatten_limits():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 6))
    assert np.isclose(L.schatten_quasi_norm(W, 1.0), L.nuclear_norm(W), rtol=1e-12)
    assert abs(L.schatten_quasi_norm(W, 1e-6) - 2) < 1e-3  # tends to the rank
    with pytest.raises(ValueError, match="Schatten exponent"):
        L.schatten_quasi_norm(W, 0.0)


def test_sensing_loss_gradient_vs_finite_differences():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3, 2))
    y = rng.standard_normal(4)
    loss = L.SensingLoss(A, y)
    W = rng.standard_normal((3, 2))
    expected = 0.5 * sum((np.sum(A[k] * W) - y[k]) ** 2 for k in range(4))
    assert np.isclose(loss.value(W), expected, rtol=1e-14)
    G = loss.gradient(W)
    h = 1e-6
    for i in range(3):
        for j in range(2):
            E = np.zeros((3, 2))
            E[i, j] = h
            assert abs((loss.value(W + E) - loss.value(W - E)) / (2 * h) - G[i, j]) < 1e-8


def test_sensing_loss_bad_input():
    with pytest.raises(ValueError, match="labels"):
        L.SensingLoss(np.ones((2, 3, 3)), [1.0])
    with pytest.raises(ValueError, match="finite"):
        L.SensingLoss(np.full((1, 2, 2), np.nan), [1.0])
    with pytest.raises(ValueError, match="stack of matrices"):
        L.SensingLoss(np.ones(3), [1.0])
    loss = L.SensingLoss(np.ones((1, 2, 2)), [1.0])
    with pytest.raises(ValueError, match="2 x 2"):
        loss.value(np.ones((3, 3)))


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_diagonal_descent_equals_full_layers(depth):
    """Diagonal measurements and init alpha I: full-matrix GD over the layers stays diagonal and agrees."""
    a = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]])
    y = np.array([1.0, 0.2])
    A = np.array([np.diag(r) for r in a])
    steps, lr, alpha = 200, 0.05, 0.05
    run = L.gradient_descent(L.identity_init([3] * (depth + 1), alpha), L.SensingLoss(A, y), lr, steps)
    x, taken, converged = L.diagonal_sensing_descent(a, y, depth, alpha, lr=lr, tol=1e-300, max_steps=steps)
    assert taken == steps and not converged
    W = run.final
    np.testing.assert_allclose(W - np.diag(np.diag(W)), 0.0, atol=0)
    np.testing.assert_allclose(np.diag(W), x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_commuting_instance_limit_is_interior_nuclear_minimizer(depth):
    a = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]])
    y = np.array([1.0, 0.2])
    x, _, converged = L.diagonal_sensing_descent(a, y, depth, 1e-3, lr=0.02, tol=1e-20)
    assert converged
    np.testing.assert_allclose(a @ x, y, atol=1e-9)
    assert x.min() > 0.1  # strictly inside the segment of PSD fits
    d = np.array([1.0, -2.0, 1.0])
    for p in (0.1, 0.5, 0.9):  # strictly concave along the fits: a step lowers S_p^p
        f = lambda z, p=p: np.sum(z**p)  # noqa: E731
        assert f(x + 1e-3 * d) + f(x - 1e-3 * d) < 2 * f(x)


def test_diagonal_descent_bad_input_and_divergence():
    a = np.array([[1.0, 1.0]])
    with pytest.raises(ValueError, match="labels"):
        L.diagonal_sensing_descent(a, [1.0, 2.0], 2, 0.1)
    with pytest.raises(ValueError, match="alpha"):
        L.diagonal_sensing_descent(a, [1.0], 2, 0.0)
    with pytest.raises(FloatingPointError, match="diverged"):
        L.diagonal_sensing_descent(a, [1e3], 2, 1.0, lr=10.0)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_separation_antiderivative_derivative(depth):
    s = np.linspace(0.2, 3.0, 50)
    h = 1e-6
    fd = (L.separation_antiderivative(s + h, depth) - L.separation_antiderivative(s - h, depth)) / (2 * h)
    np.testing.assert_allclose(fd, s ** (-(2 - 2 / depth)), rtol=1e-7)
    with pytest.raises(ValueError, match="positive"):
        L.separation_antiderivative(np.array([0.0, 1.0]), depth)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_one_entry_partner_matches_stationary_frame_descent(depth):
    """The closed form sigma_2(sigma_1) against gradient descent with a measurement diagonal in W's frames."""
    rng = np.random.default_rng(depth)
    U0, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V0, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    s0, c = np.array([0.3, 0.2, 0.1]), np.array([1.0, 0.6, 0.3])
    W0 = U0 @ np.diag(s0) @ V0.T
    loss = L.SensingLoss(U0 @ np.diag(c) @ V0.T, [3.0])
    run = L.gradient_descent(L.balanced_factorization(W0, [3] * (depth + 1)), loss, 5e-4, 40000, tol=1e-12)
    assert run.converged
    sig = np.diag(U0.T @ run.final @ V0)
    predicted = L.one_entry_partner(sig[0], s0[0], s0[1], c[1] / c[0], depth)
    assert abs(predicted - sig[1]) < 1e-2 * sig[1]


def test_one_entry_partner_regimes():
    s1 = np.array([1.0, 10.0, 1e3, 1e12])
    lin = L.one_entry_partner(s1, 0.3, 0.2, 0.6, 1)
    np.testing.assert_allclose(lin, 0.2 + 0.6 * (s1 - 0.3))
    power = L.one_entry_partner(s1, 0.3, 0.2, 0.6, 2)
    np.testing.assert_allclose(power, 0.2 * (s1 / 0.3) ** 0.6)
    deep = L.one_entry_partner(s1, 0.3, 0.2, 0.6, 3)
    asymptote = (0.2 ** (-1 / 3) - 0.6 * 0.3 ** (-1 / 3)) ** (-3)
    assert np.all(np.diff(deep) > 0) and np.all(deep < asymptote)
    assert abs(deep[-1] - asymptote) < 1e-2 * asymptote
