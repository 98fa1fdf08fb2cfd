"""Tests of lnnlib.convergence against independent computations ([ACGH19] quantities, the batched GD loop)."""

import numpy as np
import pytest
import sympy as sp

import lnnlib as L

TOL = 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1, 5), (3, 3), (2, 4), (4, 2)])
def test_deficiency_margin_definition(seed, shape):
    rng = np.random.default_rng(seed)
    Phi = rng.normal(size=shape)
    W = Phi + 0.1 * rng.normal(size=shape)
    smin = min(np.sqrt(np.linalg.eigvalsh(Phi @ Phi.T if shape[0] <= shape[1] else Phi.T @ Phi)))
    assert abs(L.deficiency_margin(W, Phi) - (smin - np.sqrt(np.sum((W - Phi) ** 2)))) < TOL


def test_deficiency_margin_implies_sigma_min_bound():
    """Weyl: sigma_min(W') >= sigma_min(Phi) - ||W' - Phi|| >= c for every W' no farther from Phi than W."""
    rng = np.random.default_rng(5)
    Phi = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    W = Phi + 0.2 * rng.normal(size=(3, 3))
    c = L.deficiency_margin(W, Phi)
    assert c > 0
    r = np.linalg.norm(W - Phi)
    for _ in range(200):
        D = rng.normal(size=(3, 3))
        Wp = Phi + r * rng.uniform() * D / np.linalg.norm(D)
        assert np.linalg.svd(Wp, compute_uv=False)[-1] >= c - TOL


def test_deficiency_margin_bad_shapes():
    with pytest.raises(ValueError, match="must match"):
        L.deficiency_margin(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dims", [[3, 4, 2], [5, 6, 6, 1], [2, 3, 3, 3, 2]])
def test_balancedness_delta(seed, dims):
    assert L.balancedness_delta(L.balanced_init(dims, rng=seed)) < 1e-10
    ws = L.gaussian_init(dims, 0.7, rng=seed)
    gaps = [np.linalg.norm(ws[j + 1].T @ ws[j + 1] - ws[j] @ ws[j].T) for j in range(len(ws) - 1)]
    assert abs(L.balancedness_delta(ws) - max(gaps)) < TOL
    assert L.balancedness_delta([np.ones((2, 3))]) == 0.0


def test_theorem_constants_formula():
    assert L.theorem_constants(1.0, 1, 1.0) == pytest.approx((1 / 256, 1 / 6144), rel=1e-14)
    c, N, f = 0.5, 3, 2.0
    d, e = L.theorem_constants(c, N, f)
    assert d == pytest.approx(0.25 / (256 * 27 * 2 ** (4 / 3)), rel=1e-14)
    assert e == pytest.approx(0.5 ** (10 / 3) / (6144 * 27 * 2 ** (14 / 3)), rel=1e-14)
    with pytest.raises(ValueError, match="deficiency margin"):
        L.theorem_constants(0.0, 3, 1.0)


@pytest.mark.parametrize(
    "loss0, eps, lr, c, N", [(1.0, 1e-5, 1e-3, 0.5, 3), (2.5, 1e-8, 0.1, 0.9, 2), (0.3, 0.1, 0.5, 0.2, 5)]
)
def test_theorem_iterations_reaches_eps(loss0, eps, lr, c, N):
    T = L.theorem_iterations(loss0, eps, lr, c, N)
    q = lr * c ** (2 * (N - 1) / N)
    exact = np.log(eps / loss0) / np.log1p(-q)  # the first t with loss0 (1 - q)^t <= eps
    assert exact <= T <= exact * (1 + q)  # 1 - q <= e^-q, and -log(1 - q) <= q (1 + q) for q <= 1/2
    assert L.rate_bound(loss0, lr, c, N, int(np.ceil(T)))[-1] <= eps * (1 + 1e-12)
    assert L.theorem_iterations(0.5, 1.0, lr, c, N) == 0.0
    with pytest.raises(ValueError, match="eps"):
        L.theorem_iterations(loss0, 0.0, lr, c, N)


@pytest.mark.parametrize("std", [0.05, 0.3, 1.0])
def test_margin_probability_against_monte_carlo(std):
    rng = np.random.default_rng(7)
    Phi = rng.normal(size=(1, 6)) * 0.3
    A = std * rng.standard_normal((200_000, 6))
    mc = np.mean(np.linalg.norm(A - Phi, axis=1) < np.linalg.norm(Phi))
    p = L.margin_probability(Phi, std)
    assert abs(p - mc) < 4 * np.sqrt(p * (1 - p) / A.shape[0]) + 1e-4


def test_margin_probability_limits_and_errors():
    Phi = np.array([[0.6, -0.8, 0.0]])
    assert abs(L.margin_probability(Phi, 1e-4) - 0.5) < 1e-3  # a half-space near 0
    assert L.margin_probability(Phi, 1e-2) > L.margin_probability(Phi, 0.3) > L.margin_probability(Phi, 3.0)
    assert L.margin_probability(Phi, 100.0) < 1e-4
    with pytest.raises(ValueError, match="one output"):
        L.margin_probability(np.eye(2), 0.1)
    with pytest.raises(ValueError, match="zero"):
        L.margin_probability(np.zeros((1, 3)), 0.1)
    with pytest.raises(ValueError, match="std"):
        L.margin_probability(Phi, -1.0)


def test_rate_bound_values_and_errors():
    b = L.rate_bound(2.0, 0.1, 0.5, 3, 4)
    q = 0.1 * 0.5 ** (4 / 3)
    np.testing.assert_allclose(b, [2 * (1 - q) ** t for t in range(5)], rtol=1e-14)
    with pytest.raises(ValueError, match=">= 1"):
        L.rate_bound(1.0, 10.0, 1.0, 2, 3)
    with pytest.raises(ValueError, match="initial loss"):
        L.rate_bound(-1.0, 0.1, 0.5, 2, 3)
    with pytest.raises(ValueError, match="steps"):
        L.rate_bound(1.0, 0.1, 0.5, 2, -3)


def test_rate_bound_holds_along_gd_within_theorem():
    """[ACGH19, Theorem 1] at its own constants: balanced init with margin, eta = eta_max."""
    rng = np.random.default_rng(0)
    Phi = rng.normal(size=(1, 4))
    W0 = Phi + 0.5 * np.linalg.norm(Phi) * rng.normal(size=(1, 4)) / 2
    c = L.deficiency_margin(W0, Phi)
    assert c > 0
    N = 3
    _, eta = L.theorem_constants(c, N, np.linalg.norm(Phi))
    traj = L.gradient_descent(L.balanced_factorization(W0, [4, 4, 4, 1]), L.L2Loss(Phi), eta, 200)
    assert np.all(traj.loss <= L.rate_bound(traj.loss[0], eta, c, N, 200) * (1 + 1e-12))


@pytest.mark.parametrize("dim", [1, 2])
def test_hessian_at_zero(dim):
    n = dim * dim
    g1, H1 = L.hessian_at_zero(1, dim)
    assert H1 == sp.eye(n)
    assert all(sp.simplify(x + sp.Symbol(f"Phi_{(i // dim) + 1}{(i % dim) + 1}")) == 0 for i, x in enumerate(g1))
    for N in (2, 3, 4) if dim == 1 else (2, 3):
        g, H = L.hessian_at_zero(N, dim)
        assert g == sp.zeros(N * n, 1)
        assert (H == sp.zeros(N * n, N * n)) == (N >= 3)
    # N = 2: compare with central second differences of phi at 0 for a numeric Phi
    rng = np.random.default_rng(dim)
    Phi = rng.normal(size=(dim, dim))
    _, H = L.hessian_at_zero(2, dim)
    Hn = np.array(
        H.subs({sp.Symbol(f"Phi_{i + 1}{k + 1}"): Phi[i, k] for i in range(dim) for k in range(dim)}), dtype=float
    )

    def phi(v):
        W1, W2 = v[:n].reshape(dim, dim), v[n:].reshape(dim, dim)
        return 0.5 * np.sum((W2 @ W1 - Phi) ** 2)

    h = 1e-4
    E = np.eye(2 * n)
    Hfd = np.array(
        [
            [
                (
                    phi(h * E[a] + h * E[b])
                    - phi(h * E[a] - h * E[b])
                    - phi(-h * E[a] + h * E[b])
                    + phi(-h * E[a] - h * E[b])
                )
                / (4 * h * h)
                for b in range(2 * n)
            ]
            for a in range(2 * n)
        ]
    )
    np.testing.assert_allclose(Hn, Hfd, atol=1e-6)
    ev = np.sort(np.linalg.eigvalsh(Hn))
    s = np.linalg.svd(Phi, compute_uv=False)
    np.testing.assert_allclose(ev, np.sort(np.concatenate([s, -s] * dim)), atol=1e-12)


def test_hessian_at_zero_bad_dim():
    with pytest.raises(ValueError, match="dim"):
        L.hessian_at_zero(3, 5)
    with pytest.raises(ValueError, match="depth"):
        L.hessian_at_zero(0, 1)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dims", [[4, 6, 1], [5, 8, 8, 2], [3, 5, 5, 5, 3]])
def test_batched_iterations_match_gradient_descent(seed, dims):
    rng = np.random.default_rng(seed)
    Phi = rng.normal(size=(dims[-1], dims[0]))
    weights = L.gaussian_init(dims, 0.5, rng=rng)
    lrs = [0.003, 0.03, 0.1, 3.0]  # no lr at the edge of stability, where rounding decides the outcome
    got = L.batched_gd_iterations(weights, Phi, lrs, 400, tol=1e-4)
    for lr, it in zip(lrs, got, strict=True):
        try:
            traj = L.gradient_descent(weights, L.L2Loss(Phi), lr, 400, tol=1e-4)
        except FloatingPointError:
            assert it == -1
            continue
        assert it == (traj.iterations if traj.converged else 401)


def test_batched_iterations_bad_inputs():
    w = L.gaussian_init([3, 4, 1], 0.5, rng=0)
    with pytest.raises(ValueError, match="target Phi has shape"):
        L.batched_gd_iterations(w, np.zeros((2, 3)), [0.1], 10)
    with pytest.raises(ValueError, match="learning rates"):
        L.batched_gd_iterations(w, np.zeros((1, 3)), [0.1, -1.0], 10)
    with pytest.raises(ValueError, match="cap"):
        L.batched_gd_iterations(w, np.zeros((1, 3)), [0.1], -1)


def test_convergence_experiment_consistency():
    rng = np.random.default_rng(0)
    Phi = rng.normal(size=(1, 5)) / 3
    stds, lrs = [0.05, 0.5], [0.01, 0.1, 1.0]
    r = L.convergence_experiment(Phi, depths=(2, 3), stds=stds, lrs=lrs, cap=300, width=6, rng=1)
    assert r.iterations.shape == r.best_lr.shape == r.diverged.shape == (2, 2, 2)
    per = np.where(r.per_lr >= 0, r.per_lr, 301)
    np.testing.assert_array_equal(r.iterations, per.min(axis=-1))
    np.testing.assert_array_equal(r.diverged, (r.per_lr < 0).sum(axis=-1))
    # recompute one cell independently with the same seeds
    again = L.convergence_experiment(Phi, depths=(2, 3), stds=stds, lrs=lrs, cap=300, width=6, rng=1)
    np.testing.assert_array_equal(r.per_lr, again.per_lr)
    assert np.all(r.converged[1])  # balanced init converges on this easy target


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"inits": ("orthogonal",)}, "inits"),
        ({"width": 2}, "hidden width"),
        ({"stds": [0.1, -1.0]}, "std"),
        ({"depths": (0,)}, "depth"),
    ],
)
def test_convergence_experiment_bad_inputs(kwargs, message):
    Phi = np.ones((3, 4))
    with pytest.raises(ValueError, match=message):
        L.convergence_experiment(Phi, **{"lrs": [0.1], "cap": 2, **kwargs})


@pytest.mark.parametrize("factor", [3.0, 30.0])
@pytest.mark.parametrize("dims", [[4, 5, 1], [3, 4, 4, 2]])
def test_unbalanced_init(factor, dims):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(dims[-1], dims[0]))
    ws = L.unbalanced_init(W, dims, factor)
    np.testing.assert_allclose(L.end_to_end(ws), W, atol=1e-12)
    assert L.balancedness_delta(ws) > 0.5 * (factor**2 - 1) * min(np.linalg.svd(W, compute_uv=False)) ** (
        2 / (len(dims) - 1)
    )
    with pytest.raises(ValueError, match="N >= 2"):
        L.unbalanced_init(W, [dims[0], dims[-1]], factor)


def test_unbalanced_init_blows_up_where_balanced_converges():
    rng = np.random.default_rng(1)
    Phi = rng.normal(size=(1, 4))
    dims = [4, 6, 6, 1]
    W0 = Phi / 2  # deficiency margin |Phi| / 2
    loss = L.L2Loss(Phi)
    with pytest.raises(FloatingPointError):
        L.gradient_descent(L.unbalanced_init(W0, dims, 100.0), loss, 1e-3, 500)
    assert L.gradient_descent(L.balanced_factorization(W0, dims), loss, 1e-3, 5000, tol=1e-5).converged


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dim, lam", [(2, -0.5), (4, -1.3)])
def test_negative_target_and_floor(seed, dim, lam):
    Phi = L.negative_eigenvalue_target(dim, lam, rng=seed)
    np.testing.assert_allclose(Phi, Phi.T, atol=0)
    np.testing.assert_allclose(np.linalg.eigvalsh(Phi), np.sort([lam] + [1.0] * (dim - 1)), atol=1e-12)
    floor = L.psd_loss_floor(Phi)
    assert floor == pytest.approx(lam**2 / 2, rel=1e-12)
    rng = np.random.default_rng(seed)
    for _ in range(100):  # no PSD matrix gets closer
        B = rng.normal(size=(dim, dim))
        assert 0.5 * np.sum((B @ B.T - Phi) ** 2) >= floor - TOL


@pytest.mark.parametrize("depth", [2, 4])
def test_identity_init_even_depth_stuck(depth):
    Phi = L.negative_eigenvalue_target(3, -1.0, rng=0)
    traj = L.gradient_descent(L.identity_init([3] * (depth + 1)), L.L2Loss(Phi), 0.05, 2000)
    assert traj.loss.min() >= L.psd_loss_floor(Phi) - 1e-9
    assert abs(traj.loss[-1] - L.psd_loss_floor(Phi)) < 1e-3  # it gets to the floor and stays


def test_negative_target_bad_inputs():
    with pytest.raises(ValueError, match="negative"):
        L.negative_eigenvalue_target(3, 0.5)
    with pytest.raises(ValueError, match="symmetric"):
        L.psd_loss_floor(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        L.psd_loss_floor(np.ones((2, 3)))


def test_convergence_experiment_progress_bar(capsys):
    Phi = np.ones((1, 3)) / 2
    quiet = L.convergence_experiment(Phi, depths=(2,), stds=[0.1], lrs=[0.1], cap=50, width=4, rng=0)
    loud = L.convergence_experiment(Phi, depths=(2,), stds=[0.1], lrs=[0.1], cap=50, width=4, rng=0, progress=True)
    np.testing.assert_array_equal(quiet.per_lr, loud.per_lr)
    assert "ACGH19 grid" in capsys.readouterr().err


def test_plot_convergence_experiment_draws_both_inits_and_plain_ticks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Phi = np.array([[0.5, -0.3, 0.2]])
    exp = L.convergence_experiment(Phi, depths=(2,), stds=[0.1, 3.0], lrs=[0.1, 0.3], cap=60, width=3, rng=0)
    fig, ax = plt.subplots()
    assert L.plot_convergence_experiment(exp, ax, 2) is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["layer-wise Gaussian", "balanced"] and labels[-1] == "no lr within 60 steps"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all("10^" not in t and "times" not in t for t in ticks)  # plain numbers, not 3x10^1
    assert not any(t.get_text() for t in ax.yaxis.get_minorticklabels())
    plt.close(fig)
