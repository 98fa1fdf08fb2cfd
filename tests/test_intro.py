"""lnnlib.intro against independent computations: closed forms, long GD runs, hand-written formulas."""

import numpy as np
import pytest
from conftest import EXACT, FD_TOL, dims_for, relative_error, shape_cases

import lnnlib as L
from lnnlib.losses import Loss

FLOW_TOL = 1e-8  # gradient flow (rtol 1e-10) against a closed form


def hand_legendre(x, k):
    """P_0..P_3 written out from Rodrigues' formula."""
    return [np.ones_like(x), x, (3 * x**2 - 1) / 2, (5 * x**3 - 3 * x) / 2][k]


# --- polynomials -----------------------------------------------------------------------------------


def test_legendre_features_are_the_legendre_polynomials():
    x = np.linspace(-1, 1, 9)
    F = L.legendre_features(x, 3)
    assert F.shape == (9, 4)
    for k in range(4):
        assert relative_error(F[:, k], hand_legendre(x, k)) < EXACT


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_polynomial_fit_recovers_a_polynomial_and_predict_evaluates_it(seed):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal(4)
    x = rng.uniform(-1, 1, 20)
    y = sum(c[k] * hand_legendre(x, k) for k in range(4))
    coef = L.polynomial_fit(x, y, 3)
    assert relative_error(coef, c) < 1e-9
    xt = np.linspace(-1, 1, 7)
    assert relative_error(L.polynomial_predict(coef, xt), sum(c[k] * hand_legendre(xt, k) for k in range(4))) < 1e-9


def test_polynomial_fit_underdetermined_returns_minimum_norm_interpolant():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, 5), rng.standard_normal(5)
    coef = L.polynomial_fit(x, y, 9)
    F = L.legendre_features(x, 9)
    assert np.max(np.abs(F @ coef - y)) < 1e-9
    assert relative_error(coef, np.linalg.pinv(F) @ y) < 1e-8


def test_polynomial_errors_against_numpy_polyfit_and_nested_models():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 15)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(15)
    xt = np.linspace(-1, 1, 50)
    yt = np.sin(3 * xt)
    train, test = L.polynomial_errors(x, y, xt, yt, range(8))
    for k in (1, 2):  # monomial basis, independent solver
        p = np.polyfit(x, y, k)
        assert abs(train[k] - np.mean((np.polyval(p, x) - y) ** 2)) < 1e-10
        assert abs(test[k] - np.mean((np.polyval(p, xt) - yt) ** 2)) < 1e-10
    # a larger degree contains every smaller one: the training error cannot increase
    assert np.all(np.diff(train) <= 1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.legendre_features([0.1, 0.2], -1), "nonnegative integer"),
        (lambda: L.legendre_features([0.1, 0.2], 2.5), "nonnegative integer"),
        (lambda: L.legendre_features([[0.1, 0.2]], 2), "1-D"),
        (lambda: L.legendre_features([0.1, np.nan], 2), "finite"),
        (lambda: L.polynomial_fit([0.1, 0.2], [1.0], 1), "2 points but y has 1"),
        (lambda: L.polynomial_predict([], [0.1]), "non-empty"),
        (lambda: L.polynomial_errors([0.1, 0.2], [1, 2], [0.3], [1, 2], [1]), "test set"),
        (lambda: L.polynomial_errors([0.1, 0.2], [1, 2], [0.3], [1], [True]), "nonnegative integer"),
    ],
)
def test_polynomial_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- which global minimum ----------------------------------------------------------------------


@pytest.mark.parametrize("m, d", [(5, 12), (12, 5), (6, 6)])
def test_least_squares_gd_limit_matches_a_long_gradient_descent_run(m, d):
    rng = np.random.default_rng(m * d)
    k = min(m, d) - 1  # rank deficient: a null space even when m >= d
    U = np.linalg.qr(rng.standard_normal((m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((d, k)))[0]
    X = U @ np.diag(np.linspace(1.0, 2.0, k)) @ V.T * np.sqrt(m)
    y = rng.standard_normal(m)  # not in the range of X: no interpolant, only least-squares minimizers
    w = w0 = rng.standard_normal(d)
    for _ in range(400):  # plain GD on (1/2m) ||X w - y||^2, step 1/4 (curvature at most 4)
        w = w - 0.25 * X.T @ (X @ w - y) / m
    assert relative_error(L.least_squares_gd_limit(X, y, w0), w) < 1e-10
    run = L.gradient_descent([w0[None, :]], L.LpRegressionLoss(X, y), 0.25, 400)
    assert relative_error(run.final[0], w) < 1e-10
    # from zero: the minimum-norm least-squares solution
    assert relative_error(L.least_squares_gd_limit(X, y, np.zeros(d)), np.linalg.lstsq(X, y, rcond=None)[0]) < 1e-10


def test_minimum_l1_interpolant_is_feasible_sparse_and_no_worse_than_other_interpolants():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 40))
    w_star = np.zeros(40)
    w_star[[3, 17]] = [2.0, -1.0]
    y = X @ w_star
    w = L.minimum_l1_interpolant(X, y)
    assert np.max(np.abs(X @ w - y)) < 1e-8
    assert relative_error(w, w_star) < 1e-7  # exact recovery of a 2-sparse vector from 20 Gaussian rows
    null = np.linalg.svd(X)[2][20:].T
    for _ in range(20):
        other = np.linalg.pinv(X) @ y + null @ rng.standard_normal(20)
        assert np.abs(w).sum() <= np.abs(other).sum() + 1e-9


def _diag_loss(X, y, u, v):
    r = X @ (u * u - v * v) - y
    return 0.5 * float(r @ r) / len(y)


def test_diagonal_network_one_step_is_a_gradient_step_by_finite_differences():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((4, 3)), rng.standard_normal(4)
    alpha, lr, h = 0.7, 0.01, 1e-6
    u = v = np.full(3, alpha)
    gu, gv = np.zeros(3), np.zeros(3)
    for i in range(3):
        e = np.eye(3)[i] * h
        gu[i] = (_diag_loss(X, y, u + e, v) - _diag_loss(X, y, u - e, v)) / (2 * h)
        gv[i] = (_diag_loss(X, y, u, v + e) - _diag_loss(X, y, u, v - e)) / (2 * h)
    u1, v1 = u - lr * gu, v - lr * gv
    w, losses = L.diagonal_network_gd(X, y, alpha, lr, 1)
    assert relative_error(w, u1 * u1 - v1 * v1) < 1e-8
    # The loss at the start is the same formula evaluated twice: rounding, about 1e-16 times its size.
    assert abs(losses[0] - _diag_loss(X, y, u, v)) < 1e-12
    # The reference step uses central differences with h = 1e-6: their error is rounding, eps |loss| / h ~ 1e-10,
    # plus truncation, h^2 |loss"'| ~ 1e-12. The step multiplies it by lr = 0.01 (~1e-12 in u1, v1), and the loss
    # at the new point moves by |grad| (here < 10) times that: ~1e-11. 1e-9 bounds it with a margin; a wrong
    # gradient (a sign, a factor 2) moves the loss by about lr |grad|^2 ~ 1e-2.
    assert abs(losses[1] - _diag_loss(X, y, u1, v1)) < 1e-9


def test_diagonal_network_init_scale_selects_l1_or_l2_interpolant():
    # Woodworth et al. (2020): alpha -> 0 gives the minimum-l1 interpolant, alpha -> infinity the minimum-l2 one
    rng = np.random.default_rng(7)
    X = rng.standard_normal((12, 24))
    w_star = np.zeros(24)
    w_star[:2] = [1.5, -1.0]
    y = X @ w_star
    lam = np.linalg.eigvalsh(X.T @ X / 12)[-1]
    l1 = L.minimum_l1_interpolant(X, y)
    dist = {}
    for alpha in (1e-1, 1e-3):
        w, losses = L.diagonal_network_gd(X, y, alpha, 0.3 / lam, 20000, tol=1e-10)
        assert losses[-1] <= 1e-6
        assert np.all(np.diff(losses) <= 1e-15)  # small steps: the loss decreases
        dist[alpha] = np.max(np.abs(w - l1))
    assert dist[1e-3] < 1e-2 < dist[1e-1]
    large, losses = L.diagonal_network_gd(X, y, 10.0, 0.05 / (100 * lam), 30000, tol=1e-10)
    assert losses[-1] <= 1e-10
    assert np.max(np.abs(large - np.linalg.pinv(X) @ y)) < 1e-3


@pytest.mark.parametrize("alpha", [0.05, 0.5, 3.0])
def test_diagonal_network_sharpness_is_the_top_hessian_eigenvalue_by_finite_differences(alpha):
    """At an interpolant on the orbit u_i v_i = alpha^2: the formula against second differences of phi itself."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((4, 6))
    w = np.linalg.pinv(X) @ rng.standard_normal(4) + (np.eye(6) - np.linalg.pinv(X) @ X) @ rng.standard_normal(6)
    y = X @ w
    root = np.sqrt(w**2 + 4 * alpha**4)
    u, v = np.sqrt((root + w) / 2), np.sqrt((root - w) / 2)  # u v = alpha^2, u^2 - v^2 = w
    theta, n = np.concatenate([u, v]), 12

    def phi(t):
        return _diag_loss(X, y, t[:6], t[6:])

    h = 1e-4 * max(1.0, alpha)
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = (phi(theta + ei + ej) - phi(theta + ei - ej) - phi(theta - ei + ej) + phi(theta - ei - ej)) / (
                4 * h * h
            )
    top = np.linalg.eigvalsh((H + H.T) / 2)[-1]
    # second differences: truncation h^2 |phi^(4)| plus rounding eps |phi| / h^2 (phi = 0 here), about 1e-8
    # relative; a wrong factor (2 instead of 4, S instead of S^(1/2)) is off by 2x or more
    assert abs(L.diagonal_network_sharpness(X, w, alpha) - top) <= 1e-5 * top


def test_diagonal_network_sharpness_bad_inputs():
    with pytest.raises(ValueError, match="3 features"):
        L.diagonal_network_sharpness(np.ones((2, 3)), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="init scale"):
        L.diagonal_network_sharpness(np.ones((2, 3)), np.ones(3), 0.0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"init_scale": 0.0}, ValueError, "init scale"),
        ({"lr": -1.0}, ValueError, "learning rate"),
        ({"steps": 1.5}, ValueError, "steps"),
        ({"y": np.ones(3)}, ValueError, "4 examples"),
        ({"lr": 1e3, "init_scale": 1.0}, FloatingPointError, "diverged"),
    ],
)
def test_diagonal_network_bad_inputs(kwargs, error, message):
    args = {"X": np.arange(12.0).reshape(4, 3), "y": np.ones(4), "init_scale": 0.1, "lr": 0.01, "steps": 50}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        L.diagonal_network_gd(**args)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.least_squares_gd_limit(np.ones((3, 4)), np.ones(3), np.ones(3)), "3 entries but X has 4"),
        (lambda: L.least_squares_gd_limit(np.ones((3, 4)), np.ones(2), np.ones(4)), "3 examples"),
        (lambda: L.least_squares_gd_limit(np.ones(4), np.ones(1), np.ones(4)), "matrix"),
        (lambda: L.minimum_l1_interpolant(np.ones((2, 3)), np.array([1.0, 2.0])), "no w satisfies"),
    ],
)
def test_which_minimum_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- gradient flow -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_gradient_flow_depth_one_l2_closed_form(shape):
    rng = np.random.default_rng(sum(shape))
    Phi, W0 = rng.standard_normal(shape), rng.standard_normal(shape)
    times = np.linspace(0, 4, 9)
    flow = L.gradient_flow([W0], L.L2Loss(Phi), 4.0, times=times)
    exact = Phi + (W0 - Phi)[None] * np.exp(-times)[:, None, None]
    assert np.allclose(flow.times, times)
    assert relative_error(flow.end_to_end, exact) < FLOW_TOL
    assert np.allclose(flow.loss, 0.5 * np.sum((exact - Phi) ** 2, axis=(1, 2)), atol=FLOW_TOL)
    assert np.all(np.diff(flow.loss) <= 0)


@pytest.mark.parametrize("a0, y", [(0.1, 1.0), (0.5, 2.0), (1.5, 0.5)])
def test_gradient_flow_depth_two_scalar_balanced_is_logistic(a0, y):
    # w1 = w2 = a: each layer follows a' = -a (a^2 - y), so w = a^2 solves w' = 2w(y - w), a logistic curve
    times = np.linspace(0, 3, 7)
    flow = L.gradient_flow([np.array([[a0]]), np.array([[a0]])], L.L2Loss([[y]]), 3.0, times=times)
    w0 = a0**2
    exact = y / (1 + (y / w0 - 1) * np.exp(-2 * y * times))
    assert relative_error(flow.end_to_end[:, 0, 0], exact) < FLOW_TOL
    layers = np.array([[W[0][0, 0], W[1][0, 0]] for W in flow.weights])
    assert np.max(np.abs(layers[:, 0] - layers[:, 1])) < FLOW_TOL  # stays balanced


def test_gradient_flow_defaults_and_does_not_modify_its_input():
    W0 = [np.eye(2), 0.5 * np.eye(2)]
    before = [W.copy() for W in W0]
    flow = L.gradient_flow(W0, L.L2Loss(np.eye(2)), 1.0)
    assert np.allclose(flow.times, [0.0, 1.0])
    assert relative_error(flow.end_to_end[0], L.end_to_end(before)) < EXACT
    assert all(np.array_equal(a, b) for a, b in zip(W0, before, strict=True))
    assert flow.final.shape == (2, 2)


class CubicBlowUp(Loss):
    """l(W) = -W^4 / 4 on 1 x 1 matrices: gradient flow W' = W^3 blows up at t = 1 / (2 W0^2)."""

    shape = (1, 1)

    def value(self, W):
        return float(-(W[0, 0] ** 4) / 4)

    def gradient(self, W):
        return -(W**3)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: L.gradient_flow([np.ones((1, 1))], CubicBlowUp(), 1.0), FloatingPointError, "could not be integrated"),
        (lambda: L.gradient_flow([np.eye(2)], L.L2Loss(np.eye(2)), 0.0), ValueError, "t_end"),
        (lambda: L.gradient_flow([np.eye(2)], L.L2Loss(np.eye(2)), 1.0, times=[0.5, 0.2]), ValueError, "increasing"),
        (lambda: L.gradient_flow([np.eye(2)], L.L2Loss(np.eye(2)), 1.0, times=[0.5, 2.0]), ValueError, r"\[0, t_end\]"),
        (lambda: L.gradient_flow([np.eye(2)], L.L2Loss(np.eye(3)), 1.0), ValueError, "end-to-end matrix"),
        (lambda: L.gradient_flow([np.eye(2)], lambda W: 0.0, 1.0), ValueError, "lnnlib Loss"),
        (lambda: L.gradient_flow([np.eye(2), np.eye(3)], L.L2Loss(np.eye(2)), 1.0), ValueError, "do not chain"),
        (lambda: L.gradient_flow([np.eye(2)], L.L2Loss(np.eye(2)), 1.0, rtol=0), ValueError, "rtol"),
    ],
)
def test_gradient_flow_bad_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("lr", [0.1, 0.05, 0.01])
def test_gd_flow_deviation_depth_one_closed_form(lr):
    # GD: W_k = Phi + (W0 - Phi)(1 - eta)^k; GF: Phi + (W0 - Phi) e^{-k eta}
    rng = np.random.default_rng(8)
    Phi, W0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    k = np.arange(int(round(2.0 / lr)) + 1)
    exact = np.linalg.norm(W0 - Phi) * np.max(np.abs((1 - lr) ** k - np.exp(-k * lr)))
    assert abs(L.gd_flow_deviation([W0], L.L2Loss(Phi), lr, 2.0) - exact) < 1e-8


def test_gd_flow_deviation_is_first_order_for_a_deep_network():
    rng = np.random.default_rng(9)
    weights = L.gaussian_init([3, 4, 4, 2], 0.5, rng)
    loss = L.L2Loss(rng.standard_normal((2, 3)))
    lrs = np.array([0.01, 0.005, 0.0025])
    devs = [L.gd_flow_deviation(weights, loss, lr, 2.0) for lr in lrs]
    assert 0.9 < L.loglog_slope(lrs, devs) < 1.1


def test_gd_flow_deviation_bad_inputs():
    with pytest.raises(ValueError, match="shorter than one step"):
        L.gd_flow_deviation([np.eye(2)], L.L2Loss(np.eye(2)), 0.5, 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        L.gd_flow_deviation([np.eye(2)], L.L2Loss(np.eye(2)), -0.5, 1.0)


@pytest.mark.parametrize("N, shape", shape_cases())
def test_finite_difference_layer_gradients_match_the_chain_rule(N, shape):
    rng = np.random.default_rng(20 + N)
    weights = L.gaussian_init(dims_for(N, shape), 0.6, rng)
    d0, dN = weights[0].shape[1], weights[-1].shape[0]
    loss = L.LpRegressionLoss(rng.standard_normal((7, d0)), rng.standard_normal((7, dN)), p=4)
    # the chain rule written out by hand, with explicit products
    G = loss.gradient(L.end_to_end(weights))
    for j, fd in enumerate(L.finite_difference_layer_gradients(weights, loss)):
        above = np.eye(weights[j].shape[0])
        for W in weights[j + 1 :]:
            above = W @ above
        below = np.eye(d0)
        for W in weights[:j]:
            below = W @ below
        assert fd.shape == weights[j].shape
        assert relative_error(fd, above.T @ G @ below.T) < FD_TOL


def test_finite_difference_bad_step():
    with pytest.raises(ValueError, match="step h"):
        L.finite_difference_layer_gradients([np.eye(2)], L.L2Loss(np.eye(2)), h=0.0)


# --- small utilities --------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [-1.0, 0.5, 1.0, 2.5])
def test_loglog_slope_of_a_power_law(p):
    x = np.array([0.1, 0.2, 0.5, 1.0, 3.0])
    assert abs(L.loglog_slope(x, 3.0 * x**p) - p) < 1e-12


@pytest.mark.parametrize(
    "x, y, message",
    [
        ([1.0, 2.0], [1.0, -2.0], "positive"),
        ([1.0], [1.0], "two points"),
        ([1.0, 1.0], [1.0, 2.0], "distinct"),
        ([1.0, 2.0], [1.0], "2 values"),
    ],
)
def test_loglog_slope_bad_inputs(x, y, message):
    with pytest.raises(ValueError, match=message):
        L.loglog_slope(x, y)


def test_verdict_strings():
    # a pass shows the tolerance, never the digits (or the power of ten) of a rounding-level error
    assert L.verdict("a", 3.1e-16, 1e-10) == "PASS  a: max error within the tolerance 1e-10"
    assert L.verdict("a", 3.1e-13, 1e-10) == L.verdict("a", 0.0, 1e-10)
    assert L.verdict("b", 2e-3, 1e-2, show=True) == "PASS  b: max error 2.0e-03, within the tolerance 1e-2"
    # a failure always shows the measured error
    assert L.verdict("c", 2e-3, 1e-6) == "FAIL  c: max error 2.0e-03, above the tolerance 1e-6"
    assert L.verdict("c", 2e-3, 1e-6, show=True) == "FAIL  c: max error 2.0e-03, above the tolerance 1e-6"
    assert L.verdict("d", float("inf"), 1.0) == "FAIL  d: max error inf, above the tolerance 1e0"
    assert L.verdict("e", 1e-10, 1e-10).startswith("PASS")  # the tolerance itself passes
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="nonnegative"):
            L.verdict("e", bad, 1.0)
    for bad in ("x", None, True, 1j):
        with pytest.raises(ValueError, match="real number"):
            L.verdict("e", bad, 1.0)
    with pytest.raises(ValueError, match="tolerance"):
        L.verdict("f", 1.0, 0.0)
    with pytest.raises(ValueError, match="show"):
        L.verdict("f", 1.0, 2.0, show="yes")


def test_fmt_prints_stable_digits_and_noise_as_zero():
    assert L.fmt(0.034123) == "0.034"
    assert L.fmt(633.2) == "6.3e+02"
    assert L.fmt(0.29701, 4) == "0.297"
    assert L.fmt(-2.4e-5, 1) == "-2e-05"
    # below the noise floor neither the sign nor the digits of rounding noise are printed
    assert L.fmt(3e-17, zero_below=1e-12) == "0 (below 1e-12)"
    assert L.fmt(-3e-17, zero_below=1e-12) == "0 (below 1e-12)"
    assert L.fmt(0.0, zero_below=1e-12) == L.fmt(4e-13, zero_below=1e-12)
    assert L.fmt(2e-12, zero_below=1e-12) == "2e-12"
    assert L.fmt(float("inf")) == "inf"
    assert L.fmt(float("nan"), zero_below=1e-12) == "nan"  # NaN is shown, never hidden as 0
    for args, message in [
        (("x",), "real number"),
        ((1.0, 0), "digits"),
        ((1.0, 2.5), "digits"),
        ((1.0, True), "digits"),
    ]:
        with pytest.raises(ValueError, match=message):
            L.fmt(*args)
    with pytest.raises(ValueError, match="noise floor"):
        L.fmt(1.0, zero_below=-1.0)


def test_claim_strings():
    assert L.claim("depth 3 recovers", True) == "PASS  depth 3 recovers"
    assert L.claim("depth 2 recovers", np.bool_(False)) == "FAIL  depth 2 recovers"
    with pytest.raises(ValueError, match="pass a bool"):
        L.claim("an array is not a verdict", np.array([True, False]))
