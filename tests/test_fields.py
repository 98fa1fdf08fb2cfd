"""lnnlib.fields against the general preconditioner of the core, exact cases and the sympy results."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lnnlib as L  # noqa: E402

EXACT = 1e-10
CURL_TOL = 1e-6  # central differences with h = 1e-5 on O(1) fields


@pytest.mark.parametrize("N", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_single_output_field_is_the_general_preconditioned_gradient(N, d):
    rng = np.random.default_rng(10 * N + d)
    w, g = rng.standard_normal(d), rng.standard_normal(d)
    expected = L.preconditioned_gradient(w[None, :], g[None, :], N)[0]
    assert np.abs(L.single_output_field(w, g, N) - expected).max() < EXACT
    P = L.single_output_preconditioner(w, N)
    assert np.abs(P @ g - expected).max() < EXACT
    assert np.abs(P - L.preconditioner(w[None, :], N)).max() < EXACT
    # eigenvalues: N r^(2-2/N) along w, r^(2-2/N) across (d-1 times)
    r = np.linalg.norm(w)
    expected_eigs = np.sort([N * r ** (2 - 2 / N)] + [r ** (2 - 2 / N)] * (d - 1))
    assert np.abs(np.linalg.eigvalsh(P) - expected_eigs).max() < EXACT


def test_single_output_field_is_vectorized_and_zero_at_origin():
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    F = L.single_output_field(w, g, 3)
    assert F.shape == (4, 3, 2)
    assert np.abs(F[2, 1] - L.single_output_field(w[2, 1], g[2, 1], 3)).max() == 0
    assert np.all(L.single_output_field(np.zeros(2), np.ones(2), 3) == 0)
    assert np.all(L.single_output_field(np.zeros(2), np.ones(2), 1) == 1)
    assert np.all(L.single_output_preconditioner(np.zeros(2), 2) == 0)
    assert np.all(L.single_output_preconditioner(np.zeros(2), 1) == np.eye(2))


def test_single_output_rejects_bad_inputs():
    with pytest.raises(ValueError, match="shape of w"):
        L.single_output_field(np.ones(2), np.ones(3), 2)
    with pytest.raises(ValueError, match="finite"):
        L.single_output_field(np.array([np.nan, 1.0]), np.ones(2), 2)
    with pytest.raises(ValueError, match="depth"):
        L.single_output_field(np.ones(2), np.ones(2), 0)
    with pytest.raises(ValueError, match="real vector"):
        L.single_output_field("ab", np.ones(2), 2)
    with pytest.raises(ValueError, match="one vector"):
        L.single_output_preconditioner(np.ones((2, 2)), 2)
    with pytest.raises(ValueError, match="at least one entry"):
        L.single_output_preconditioner(np.ones(0), 2)


def linear_field(a, N):
    return lambda w: L.single_output_field(w, np.broadcast_to(a, np.shape(w)), N)


def quadratic_field(H, b, N):
    return lambda w: L.single_output_field(w, np.asarray(w) @ H.T - b, N)


@pytest.mark.parametrize("N", [1, 2, 3, 5])
def test_numeric_curl_matches_closed_form(N):
    H = np.array([[3.0, 0.5], [0.5, 1.0]])
    b = np.array([1.0, -2.0])
    # l = 1/2 w^T H w - b^T w: l_1, l_2 = H w - b, l_11 = 3, l_22 = 1, l_12 = 0.5
    pts = np.array([[0.8, -1.2], [1.5, 0.3], [-0.6, 0.9]])
    g = pts @ H.T - b
    r = np.linalg.norm(pts, axis=1)
    w1, w2 = pts[:, 0], pts[:, 1]
    closed = (
        (N - 1)
        * r ** (-2 / N)
        * ((N - 2) / N * (g[:, 0] * w2 - g[:, 1] * w1) - 0.5 * (w1**2 - w2**2) + (3.0 - 1.0) * w1 * w2)
    )
    assert np.abs(L.numeric_curl(quadratic_field(H, b, N), pts) - closed).max() < CURL_TOL


def test_numeric_curl_known_fields_and_errors():
    pts = np.random.default_rng(1).standard_normal((5, 2))
    assert np.abs(L.numeric_curl(lambda w: np.stack([-w[..., 1], w[..., 0]], -1), pts) - 2).max() < CURL_TOL
    grad_field = lambda w: np.stack([2 * w[..., 0] * w[..., 1], w[..., 0] ** 2], -1)  # noqa: E731
    assert np.abs(L.numeric_curl(grad_field, pts)).max() < CURL_TOL
    with pytest.raises(ValueError, match="2 coordinates"):
        L.numeric_curl(grad_field, np.ones((2, 3)))
    with pytest.raises(ValueError, match="step h"):
        L.numeric_curl(grad_field, pts, h=0)
    with pytest.raises(ValueError, match="function"):
        L.numeric_curl(np.ones(2), pts)


@pytest.mark.parametrize("alpha, r_in, r_out", [(1.0, 1.0, 2.0), (2.5, 0.5, 3.0), (6.0, 1.0, 1.5)])
def test_annular_sector_path_geometry(alpha, r_in, r_out):
    n = 50
    path = L.annular_sector_path(alpha, r_in, r_out, n)
    assert path.shape == (4 * n + 1, 2)
    assert np.allclose(path[0], [r_in, 0]) and np.allclose(path[-1], path[0])
    radii = np.linalg.norm(path, axis=1)
    assert np.all(radii >= r_in - EXACT) and np.all(radii <= r_out + EXACT)
    assert np.allclose(radii[n : 2 * n], r_out) and np.allclose(radii[3 * n : 4 * n], r_in)
    angles = np.arctan2(path[:, 1], path[:, 0]) % (2 * np.pi)
    assert np.all(angles <= alpha + EXACT)
    # shoelace area of the polygon approaches the sector's area (alpha/2)(r_out^2 - r_in^2), counter-clockwise
    fine = L.annular_sector_path(alpha, r_in, r_out, 4000)
    area = 0.5 * np.sum(fine[:-1, 0] * fine[1:, 1] - fine[1:, 0] * fine[:-1, 1])
    assert abs(area - alpha / 2 * (r_out**2 - r_in**2)) < 1e-5


def test_annular_sector_rejects_bad_geometry():
    for args in [(0.0,), (7.0,), (1.0, 2.0, 1.0), (1.0, -1.0, 2.0)]:
        with pytest.raises(ValueError):
            L.annular_sector_path(*args)
    with pytest.raises(ValueError, match="n"):
        L.annular_sector_path(1.0, n=1)
    with pytest.raises(ValueError, match="nodes"):
        L.loop_integral(lambda w: w, 1.0, nodes=0)
    with pytest.raises(ValueError, match="function"):
        L.loop_integral(3, 1.0)


@pytest.mark.parametrize("alpha, r_in, r_out", [(1.0, 1.0, 2.0), (2.5, 0.5, 3.0)])
def test_loop_integral_exact_cases(alpha, r_in, r_out):
    rotation = lambda w: np.stack([-w[..., 1], w[..., 0]], -1)  # noqa: E731
    area = alpha / 2 * (r_out**2 - r_in**2)
    assert abs(L.loop_integral(rotation, alpha, r_in, r_out) - 2 * area) < EXACT
    gradient = lambda w: np.stack([np.cos(w[..., 0]) * w[..., 1], np.sin(w[..., 0])], -1)  # noqa: E731
    assert abs(L.loop_integral(gradient, alpha, r_in, r_out)) < EXACT


@pytest.mark.parametrize("N", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("alpha", [0.7, 2.0, 4.0])
def test_loop_integral_linear_loss_matches_closed_form(N, alpha):
    a = np.array([1.3, -0.4])
    numeric = L.loop_integral(linear_field(a, N), alpha, 0.8, 2.2)
    closed = L.linear_loss_loop_integral(a, N, alpha, 0.8, 2.2)
    assert abs(numeric - closed) < 1e-9
    if N >= 3:
        assert abs(closed) > 0.1
    else:
        assert closed == 0


def test_linear_closed_form_known_value_and_errors():
    # N = 3, r 1 -> 2, alpha = pi, a = (1, 0): (2*1/7)(2^(7/3) - 1)(1 - cos pi) = (4/7)(2^(7/3) - 1)
    assert abs(L.linear_loss_loop_integral([1.0, 0.0], 3, np.pi) - 4 / 7 * (2 ** (7 / 3) - 1)) < EXACT
    with pytest.raises(ValueError, match="plane"):
        L.linear_loss_loop_integral([1.0, 0.0, 2.0], 3, 1.0)
    with pytest.raises(ValueError, match="depth"):
        L.linear_loss_loop_integral([1.0, 0.0], 0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        L.linear_loss_loop_integral([1.0, 0.0], 3, -1.0)


def test_anisotropic_depth_two_loop_is_nonzero_isotropic_zero():
    H = np.diag([3.0, 1.0])
    b = np.array([1.0, 0.5])
    assert abs(L.loop_integral(quadratic_field(H, b, 2), 1.5)) > 0.1
    assert abs(L.loop_integral(quadratic_field(np.eye(2), b, 2), 1.5)) < EXACT


def test_plot_helpers_return_ax_and_draw():
    fig, ax = plt.subplots()
    out = L.plot_field(ax, linear_field(np.array([1.0, 0.5]), 3), loop=(1.2, 1.0, 2.0), title="F", n=9)
    assert out is ax and len(ax.collections) >= 1 and len(ax.lines) >= 2 and ax.get_title() == "F"
    fig2, ax2 = plt.subplots()
    out2 = L.plot_preconditioner_action(ax2, np.array([[1.0, 0.0], [0.5, 1.0]]), 3)
    assert out2 is ax2 and len(ax2.patches) >= 2
    # the drawn ellipse's long axis lies along w, N times the short one
    xy = ax2.lines[1].get_xydata() - np.array([1.0, 0.0])
    extent = np.ptp(xy, axis=0)
    assert abs(extent[0] / extent[1] - 3) < 1e-3
    with pytest.raises(ValueError, match="origin"):
        L.plot_preconditioner_action(ax2, np.zeros((1, 2)), 3)
    with pytest.raises(ValueError, match="shape"):
        L.plot_preconditioner_action(ax2, np.ones(2), 3)
    with pytest.raises(ValueError, match="n"):
        L.plot_field(ax, linear_field(np.ones(2), 3), n=1)
    with pytest.raises(ValueError, match="function"):
        L.plot_field(ax, None)
    plt.close(fig)
    plt.close(fig2)


def test_plot_curl_shows_the_curl_on_cell_centres():
    fig, axes = plt.subplots(1, 3)
    # the rotation field (-w2, w1) has curl 2 everywhere; a gradient field has curl 0
    out = L.plot_curl(axes[0], lambda w: np.stack([-w[..., 1], w[..., 0]], -1), extent=1.0, n=6, loop=(1.0, 0.3, 0.8))
    assert out is axes[0] and len(axes[0].images) == 1 and len(axes[0].lines) >= 2
    image = axes[0].images[-1]
    assert image.get_array().shape == (6, 6) and np.abs(image.get_array() - 2).max() < CURL_TOL
    assert image.get_clim() == pytest.approx((-2, 2))  # default scale: symmetric, the largest |curl|
    L.plot_curl(axes[1], lambda w: np.stack([2 * w[..., 0] * w[..., 1], w[..., 0] ** 2], -1), n=4, vmax=3.0, flow=False)
    assert np.abs(axes[1].images[-1].get_array()).max() < CURL_TOL and axes[1].images[-1].get_clim() == (-3.0, 3.0)
    # the depth-3 linear-loss field at the cell centres, against the closed form of notebook 04
    a = np.array([1.0, 0.5])
    L.plot_curl(axes[2], linear_field(a, 3), extent=2.0, n=8, title="N = 3")
    c = -2.0 + (np.arange(8) + 0.5) * 0.5
    X, Y = np.meshgrid(c, c)
    closed = 2 / 3 * (X**2 + Y**2) ** (-1 / 3) * (a[0] * Y - a[1] * X)
    assert np.abs(axes[2].images[-1].get_array() - closed).max() < CURL_TOL and axes[2].get_title() == "N = 3"
    with pytest.raises(ValueError, match="n"):
        L.plot_curl(axes[0], linear_field(a, 3), n=1)
    with pytest.raises(ValueError, match="vmax"):
        L.plot_curl(axes[0], linear_field(a, 3), n=4, vmax=-1.0)
    with pytest.raises(ValueError, match="function"):
        L.plot_curl(axes[0], None)
    plt.close(fig)


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_layerwise_velocity_matches_preconditioned_gradient_on_balanced_weights(N):
    rng = np.random.default_rng(N)
    weights = L.balanced_init([3] + [4] * (N - 1) + [2], rng)
    G = rng.standard_normal((2, 3))
    v = L.layerwise_end_to_end_velocity(weights, G)
    assert np.abs(v + L.preconditioned_gradient(L.end_to_end(weights), G, N)).max() < 1e-10
    # against a tiny gradient-descent step (first order in eta)
    eta = 1e-7
    stepped = [W - eta * g for W, g in zip(weights, L.layer_gradients(weights, G), strict=True)]
    fd = (L.end_to_end(stepped) - L.end_to_end(weights)) / eta
    assert np.abs(fd - v).max() < 1e-5
    if N >= 2:
        unbalanced = L.gaussian_init([3] + [4] * (N - 1) + [2], 1.0, rng)
        u = L.layerwise_end_to_end_velocity(unbalanced, G)
        assert np.abs(u + L.preconditioned_gradient(L.end_to_end(unbalanced), G, N)).max() > 1e-3
    with pytest.raises(ValueError, match="shape"):
        L.layerwise_end_to_end_velocity(weights, np.ones((3, 3)))


def test_circle_loop_integral():
    rotation = lambda w: np.stack([-w[..., 1], w[..., 0]], -1)  # noqa: E731
    assert abs(L.circle_loop_integral(rotation, 1.5, (0.3, -0.2)) - 2 * np.pi * 1.5**2) < EXACT
    H = np.diag([3.0, 1.0])
    b = np.array([1.0, 0.5])
    for N in (2, 3, 5):
        # centred at the origin: zero for every loss; off-centre: the curl shows
        assert abs(L.circle_loop_integral(quadratic_field(H, b, N), 1.3)) < EXACT
        assert abs(L.circle_loop_integral(quadratic_field(H, b, N), 0.8, (1.5, 0.5))) > 1e-3
    with pytest.raises(ValueError, match="centre"):
        L.circle_loop_integral(rotation, 1.0, (0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="radius"):
        L.circle_loop_integral(rotation, 0.0)
    with pytest.raises(ValueError, match="nodes"):
        L.circle_loop_integral(rotation, 1.0, nodes=2)
