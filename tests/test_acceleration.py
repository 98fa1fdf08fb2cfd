"""Tests of lnnlib.acceleration: the single-output preconditioner and the batched learning-rate grid, each
against the library's one-run reference (layer-wise GD, the end-to-end rule, AdaGrad, AdaDelta)."""

import numpy as np
import pytest

import lnnlib as L


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
@pytest.mark.parametrize("d", [1, 2, 6])
def test_single_output_form_matches_preconditioned_gradient(seed, depth, d):
    rng = np.random.default_rng(seed)
    w, g = rng.normal(size=d), rng.normal(size=d)
    got = L.single_output_preconditioned_gradient(w, g, depth)
    ref = L.preconditioned_gradient(w[None, :], g[None, :], depth)[0]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


def test_single_output_form_at_zero_and_bad_inputs():
    g = np.array([1.0, -2.0])
    np.testing.assert_array_equal(L.single_output_preconditioned_gradient(np.zeros(2), g, 3), 0.0)
    np.testing.assert_array_equal(L.single_output_preconditioned_gradient(np.zeros(2), g, 1), g)
    with pytest.raises(ValueError, match="same length"):
        L.single_output_preconditioned_gradient(np.ones(2), np.ones(3), 2)
    with pytest.raises(ValueError, match="finite"):
        L.single_output_preconditioned_gradient(np.array([np.inf, 1.0]), g, 2)
    with pytest.raises(ValueError, match="depth"):
        L.single_output_preconditioned_gradient(np.ones(2), g, 0)


@pytest.mark.parametrize("p", [2.0, 3.0, 4.0])
def test_two_example_problem(p):
    loss = L.two_example_problem(5.0, 0.5, p)
    w = np.array([[1.0, 2.0]])
    assert loss.value(w) == pytest.approx((4.0**p + 1.5**p) / (2 * p), rel=1e-14)
    assert loss.value(np.array([[5.0, 0.5]])) == 0.0
    with pytest.raises(ValueError, match="finite"):
        L.two_example_problem(np.nan, 1.0)


def _data(seed, m=40, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d)) * rng.uniform(0.3, 2.0, size=d)
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=m)
    return X, y / np.std(y)


def _reference(method, X, y, p, lr, steps, target, w0, **kw):
    """Iterations and loss curve of one run through the library's single-run functions."""
    loss = L.LpRegressionLoss(X, y, p)
    row = np.asarray(w0, float)[None, :]
    if method == "gd":
        traj = L.gradient_descent([row], loss, lr, steps, tol=target)
    elif method in ("depth2", "depth3"):
        k = 1 if method == "depth2" else 2
        if kw.get("omega0") == "balanced":
            om = np.linalg.norm(row) ** (1 / (k + 1))
            layers = [row / om**k] + [np.array([[om]])] * k
        else:
            layers = [row] + [np.array([[1.0]])] * k
        traj = L.gradient_descent(layers, loss, lr, steps, tol=target)
    elif method == "adagrad":
        traj = L.adagrad(row, loss, lr, steps, tol=target)
    elif method == "adadelta":
        traj = L.adadelta(row, loss, lr, steps, tol=target)
    else:
        traj = L.end_to_end_descent(row, loss, lr, steps, kw.get("depth", 2), tol=target)
    return (traj.iterations if traj.converged else steps + 1), traj.loss


CASES = [
    ("gd", {}),
    ("depth2", {}),
    ("depth3", {}),
    ("depth2", {"omega0": "balanced"}),
    ("depth3", {"omega0": "balanced"}),
    ("adagrad", {}),
    ("adadelta", {}),
    ("end_to_end", {}),
    ("end_to_end", {"depth": 3}),
]


@pytest.mark.parametrize("method, kw", CASES)
@pytest.mark.parametrize("p", [2.0, 4.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_lr_grid_single_rate_matches_reference(method, kw, p, seed):
    X, y = _data(seed)
    w0 = 0.05 * np.random.default_rng(seed + 10).normal(size=X.shape[1])
    loss = L.LpRegressionLoss(X, y, p)
    target = loss.value(np.zeros(loss.shape)) * 0.5
    lr = {"adadelta": 1.0, "adagrad": 0.05}.get(method, 0.02)
    r = L.lr_grid(X, y, p, method, [lr], 300, target, w0=w0, **kw)
    it, curve = _reference(method, X, y, p, lr, 300, target, w0, **kw)
    assert r.iterations == it
    np.testing.assert_allclose(r.curve, curve[: len(r.curve)], rtol=1e-9)
    if r.reached:
        assert r.best_lr == lr


@pytest.mark.parametrize("method", ["gd", "depth2", "adagrad", "end_to_end"])
def test_lr_grid_best_is_min_over_single_runs(method):
    X, y = _data(3)
    p = 4.0
    w0 = np.full(X.shape[1], 0.01)
    loss = L.LpRegressionLoss(X, y, p)
    target = 1.05 * L.lp_minimum(loss)
    lrs = np.logspace(-3, 1, 9)
    r = L.lr_grid(X, y, p, method, lrs, 2000, target, w0=w0)
    single = []
    for lr in lrs:
        try:
            single.append(_reference(method, X, y, p, lr, 2000, target, w0)[0])
        except FloatingPointError:
            single.append(np.inf)
            # a rate that blew up before the grid stopped is flagged as diverged
    best = min(single)
    assert r.iterations == best
    assert r.best_lr == lrs[single.index(best)]
    for k in range(len(lrs)):
        if r.diverged[k]:
            assert single[k] == np.inf


def test_lr_grid_reports_unreached_and_diverged():
    X, y = _data(4)
    r = L.lr_grid(X, y, 4.0, "gd", [1e-6, 1e3], 50, 0.0)
    assert not r.reached and r.iterations == 51 and np.isnan(r.best_lr)
    np.testing.assert_array_equal(r.diverged, [False, True])
    assert len(r.curve) == 51 and np.all(np.diff(r.curve) <= 0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "newton"}, "method must be"),
        ({"lrs": []}, "learning rates"),
        ({"lrs": [0.1, -1.0]}, "learning rates"),
        ({"steps": -1}, "steps"),
        ({"target": np.nan}, "target"),
        ({"w0": np.ones(3)}, "w0 must have"),
        ({"method": "end_to_end"}, "nonzero w0"),
        ({"method": "depth2", "omega0": "balanced"}, "nonzero w0"),
        ({"method": "depth2", "omega0": -1.0}, "omega0"),
        ({"method": "adagrad", "eps": 0.0}, "eps"),
    ],
)
def test_lr_grid_bad_inputs(kwargs, message):
    X, y = _data(0)
    args = {"method": "gd", "lrs": [0.1], "steps": 10, "target": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        L.lr_grid(X, y, 4.0, args.pop("method"), args.pop("lrs"), args.pop("steps"), args.pop("target"), **args)


def test_lr_grid_needs_one_output():
    X, _ = _data(0)
    with pytest.raises(ValueError, match="one output"):
        L.lr_grid(X, np.ones((X.shape[0], 2)), 2.0, "gd", [0.1], 5, 0.1)


def test_compare_methods_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = _data(5)
    loss = L.LpRegressionLoss(X, y, 2.0)
    target = 1.01 * L.lp_minimum(loss)
    res = L.compare_methods(X, y, 2.0, np.logspace(-2, 0, 5), 3000, target)
    assert set(res) == set(L.METHODS)
    for name, r in res.items():
        assert r.method == name and r.reached, name
        assert r.curve[-1] <= target
    fig, ax = plt.subplots()
    assert L.plot_best_curves(res, ax, optimum=L.lp_minimum(loss), target=target) is ax
    assert len(ax.get_lines()) == len(res) + 1
    # every method's curve is drawn with its own (line style, marker) pair, so coinciding curves stay distinct
    styles = {(line.get_linestyle(), line.get_marker()) for line in ax.get_lines()[: len(res)]}
    assert len(styles) == len(res)
    plt.close(fig)


def test_two_example_depth_beats_gd():
    """[ACH18]'s construction: with y1/y2 = 16, the depth-2 end-to-end rule needs far fewer iterations."""
    loss = L.two_example_problem(16.0, 1.0, 4)
    w0 = np.full(2, 0.01)
    lrs = np.logspace(-4, 1, 21)
    gd = L.lr_grid(loss.X, loss.Y[:, 0], 4, "gd", lrs, 20000, 1e-4, w0=w0)
    e2e = L.lr_grid(loss.X, loss.Y[:, 0], 4, "end_to_end", lrs, 20000, 1e-4, w0=w0)
    assert gd.reached and e2e.reached
    assert e2e.iterations * 5 < gd.iterations


def test_small_start_is_a_scaled_negative_gradient():
    X, y = _data(6)
    w0 = L.small_start(X, y, 4.0, 1e-3)
    g = L.LpRegressionLoss(X, y, 4.0).gradient(np.zeros((1, X.shape[1])))[0]
    np.testing.assert_allclose(w0, -1e-3 * g, rtol=1e-14)
    with pytest.raises(ValueError, match="size"):
        L.small_start(X, y, 4.0, 0.0)


def _gap_target(X, y, p, rel):
    """The loss l* + rel (l(0) - l*): the notebook's stopping rule."""
    loss = L.LpRegressionLoss(X, y, p)
    opt = L.lp_minimum(loss)
    return opt + rel * (loss.value(np.zeros(loss.shape)) - opt)


def test_grid_result_resolution_is_the_spacing_next_to_the_best_rate():
    X, y = _data(8)
    target = _gap_target(X, y, 4.0, 1e-6)
    lrs = [0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 1.0, 3.0]
    r = L.lr_grid(X, y, 4.0, "gd", lrs, 20000, target)
    k = lrs.index(r.best_lr)
    assert 0 < k < len(lrs) - 1
    assert r.resolution == pytest.approx(max(lrs[k] / lrs[k - 1], lrs[k + 1] / lrs[k]) - 1, rel=1e-12)
    # a best rate at an end of the grid says nothing about the rates beyond it
    assert L.lr_grid(X, y, 4.0, "gd", lrs[5:7], 20000, target).resolution == np.inf
    assert np.isnan(L.lr_grid(X, y, 4.0, "gd", lrs, 3, 0.0).resolution)


@pytest.mark.parametrize("p", [2.0, 4.0])
@pytest.mark.parametrize("method", ["gd", "depth2", "end_to_end"])
def test_lr_search_matches_a_dense_grid(method, p):
    """The zoomed search against an independent brute-force grid with 1% spacing over the whole range."""
    X, y = _data(8)
    w0 = np.full(X.shape[1], 0.01)
    target = _gap_target(X, y, p, 1e-6)
    r = L.lr_search(X, y, p, method, np.logspace(-3, 1, 9), 20000, target, resolution=0.01, w0=w0)
    assert r.reached and r.resolution <= 0.01
    dense = L.lr_grid(X, y, p, method, np.geomspace(1e-3, 10, 927), 20000, target, w0=w0)
    assert abs(r.iterations - dense.iterations) <= 0.05 * dense.iterations, (r.iterations, dense.iterations)
    # the reported rate really takes the reported number of iterations (one run, the library's reference)
    assert _reference(method, X, y, p, r.best_lr, 20000, target, w0)[0] == r.iterations
    # and rates within the resolution on both sides of it were tried
    k = int(np.searchsorted(r.lrs, r.best_lr))
    assert r.lrs[k] == r.best_lr and r.lrs[k + 1] / r.lrs[k - 1] <= 1.01**2


def test_lr_search_extends_beyond_the_starting_grid():
    X, y = _data(9)
    target = _gap_target(X, y, 2.0, 1e-6)
    dense = L.lr_grid(X, y, 2.0, "gd", np.geomspace(1e-3, 10, 927), 20000, target)
    r = L.lr_search(X, y, 2.0, "gd", [1e-3, 2e-3], 20000, target, resolution=0.01)  # both far below the best
    assert r.best_lr > 10 * 2e-3
    assert abs(r.iterations - dense.iterations) <= 0.05 * dense.iterations, (r.iterations, dense.iterations)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"resolution": 0.0}, "resolution"),
        ({"resolution": 0.01, "points": 0}, "points"),
        ({"resolution": 0.01, "lrs": [0.1]}, "two starting rates"),
        ({"resolution": 1e-9, "max_rounds": 2}, "zooms"),
    ],
)
def test_lr_search_bad_inputs(kwargs, message):
    X, y = _data(0)
    target = _gap_target(X, y, 2.0, 1e-6)
    args = {"lrs": [0.01, 0.1, 1.0], **kwargs}
    with pytest.raises(ValueError, match=message):
        L.lr_search(X, y, 2.0, "gd", args.pop("lrs"), 20000, target, **args)


@pytest.mark.parametrize("method, kw", [("gd", {}), ("depth2", {"omega0": "balanced"})])
def test_lr_search_continued_from_a_coarser_search_equals_a_fresh_search(method, kw):
    X, y = _data(8)
    w0 = np.full(X.shape[1], 0.01)
    target = _gap_target(X, y, 4.0, 1e-6)
    lrs = np.logspace(-3, 1, 9)
    coarse = L.lr_search(X, y, 4.0, method, lrs, 20000, target, resolution=0.05, w0=w0, **kw)
    fresh = L.lr_search(X, y, 4.0, method, lrs, 20000, target, resolution=0.002, w0=w0, **kw)
    cont = L.lr_search(X, y, 4.0, method, lrs, 20000, target, resolution=0.002, start=coarse, w0=w0, **kw)
    assert coarse.resolution > 0.002 >= cont.resolution
    assert (cont.iterations, cont.best_lr) == (fresh.iterations, fresh.best_lr)
    np.testing.assert_array_equal(cont.lrs, fresh.lrs)
    with pytest.raises(ValueError, match="earlier 'adagrad' search"):
        L.lr_search(X, y, 4.0, "adagrad", lrs, 20000, target, resolution=0.002, start=coarse)
