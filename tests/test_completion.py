"""Matrix completion: problem generators, the completion loss, ADMM nuclear-norm minimization against
cvxpy + SCS, and the fast descent loop against small-step plain gradient descent."""

import numpy as np
import pytest

import lnnlib as L
from lnnlib.losses import Loss

NNM_TOL = 1e-6  # relative accuracy the ADMM solver promises on the observed entries


# ---------------------------------------------------------------------------------------------- problems


@pytest.mark.parametrize("n,rank", [(10, 1), (20, 3), (100, 5)])
def test_low_rank_matrix_has_rank_and_norm(n, rank):
    M = L.low_rank_matrix(n, rank, rng=0)
    s = np.linalg.svd(M, compute_uv=False)
    assert np.isclose(np.linalg.norm(M), n)
    assert s[rank - 1] > 1e-8 * s[0]
    assert np.all(s[rank:] < 1e-10 * s[0])
    np.testing.assert_array_equal(M, L.low_rank_matrix(n, rank, rng=0))


def test_low_rank_matrix_paper_scale():
    # [ACHL19]: the 100 x 100 rank-5 ground truth has nuclear norm ~221 and effective rank ~4.9
    vals = [L.low_rank_matrix(100, 5, rng=s) for s in range(3)]
    nuc = np.mean([L.nuclear_norm(M) for M in vals])
    er = np.mean([L.effective_rank(M) for M in vals])
    assert 200 < nuc < 240
    assert 4.5 < er < 5.0


@pytest.mark.parametrize(
    "n,rank,msg", [(5, 6, "rank at most n"), (5, 0, "at least 1"), (0, 1, "at least 1"), (4.5, 1, "integer")]
)
def test_low_rank_matrix_bad_input(n, rank, msg):
    with pytest.raises(ValueError, match=msg):
        L.low_rank_matrix(n, rank, rng=0)


@pytest.mark.parametrize("shape,count", [((3, 3), 4), ((5, 7), 35), ((10, 10), 1)])
def test_sample_mask_counts(shape, count):
    mask = L.sample_mask(shape, count, rng=1)
    assert mask.shape == shape and mask.dtype == bool and int(mask.sum()) == count


def test_sample_mask_is_uniform():
    rng = np.random.default_rng(3)
    freq = np.mean([L.sample_mask((3, 3), 4, rng) for _ in range(4000)], axis=0)
    # each entry is observed with probability 4/9; 4000 draws give a standard error of ~0.008
    assert np.max(np.abs(freq - 4 / 9)) < 0.04


@pytest.mark.parametrize(
    "shape,count,msg", [((3, 3), 10, "only 9 entries"), ((3, 3), 0, "at least 1"), ((3,), 1, "pair")]
)
def test_sample_mask_bad_input(shape, count, msg):
    with pytest.raises(ValueError, match=msg):
        L.sample_mask(shape, count, rng=0)


# ------------------------------------------------------------------------------------------------- loss


def test_completion_loss_and_gradient_vs_finite_differences():
    rng = np.random.default_rng(0)
    M, mask = L.completion_problem(6, 2, 15, rng)
    W = rng.standard_normal((6, 6))
    idx = np.argwhere(mask)
    expected = np.mean([(W[i, j] - M[i, j]) ** 2 for i, j in idx])
    assert np.isclose(L.completion_loss(W, M, mask), expected, rtol=1e-14)
    G = L.completion_gradient(W, M, mask)
    h = 1e-6
    for i in range(6):
        for j in range(6):
            E = np.zeros((6, 6))
            E[i, j] = h
            fd = (L.completion_loss(W + E, M, mask) - L.completion_loss(W - E, M, mask)) / (2 * h)
            assert abs(fd - G[i, j]) < 1e-8


def test_unobserved_entries_are_ignored_even_nan():
    M, mask = L.completion_problem(6, 2, 15, 0)
    W = np.ones((6, 6))
    holes = np.where(mask, M, np.nan)
    assert L.completion_loss(W, holes, mask) == L.completion_loss(W, M, mask)


@pytest.mark.parametrize("fn", ["loss", "nnm", "descent"])
def test_bad_observations(fn):
    M, mask = L.completion_problem(6, 2, 15, 0)
    call = {
        "loss": lambda obs, m: L.completion_loss(np.zeros((6, 6)), obs, m),
        "nnm": lambda obs, m: L.nuclear_norm_minimization(obs, m),
        "descent": lambda obs, m: L.complete_matrix(obs, m, 2, rng=0),
    }[fn]
    with pytest.raises(ValueError, match="mask has shape"):
        call(M, mask[:5])
    bad = M.copy()
    i, j = np.argwhere(mask)[0]
    bad[i, j] = np.nan
    with pytest.raises(ValueError, match=rf"observed entry \({i}, {j}\) is nan"):
        call(bad, mask)
    with pytest.raises(ValueError, match="observes no entry"):
        call(M, np.zeros_like(mask))
    with pytest.raises(ValueError, match="boolean"):
        call(M, mask * 0.5)


# ------------------------------------------------------------------------- nuclear norm minimization


def _cvxpy_nnm(M, mask):
    cp = pytest.importorskip("cvxpy", reason="cvxpy (test extra) is not installed: no oracle for the ADMM solver")
    X = cp.Variable(M.shape)
    idx = np.argwhere(mask)
    cons = [X[int(i), int(j)] == M[i, j] for i, j in idx]
    prob = cp.Problem(cp.Minimize(cp.normNuc(X)), cons)
    prob.solve(solver="SCS", eps=1e-9, max_iters=200_000)
    return X.value, prob.value


@pytest.mark.parametrize("shape,rank,count,seed", [((8, 8), 2, 30, 0), ((8, 8), 1, 30, 1), ((10, 7), 2, 35, 2)])
def test_nuclear_norm_minimization_matches_cvxpy_scs(shape, rank, count, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    mask = L.sample_mask(shape, count, rng)
    res = L.nuclear_norm_minimization(M, mask, tol=1e-7, max_iterations=20_000)
    X_ref, value_ref = _cvxpy_nnm(M, mask)
    assert res.converged
    assert abs(res.nuclear_norm - value_ref) <= 1e-5 * value_ref
    # the minimizer is unique here (generic instance): the two solutions agree
    assert np.linalg.norm(res.X - X_ref) <= 1e-3 * np.linalg.norm(X_ref)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nuclear_norm_minimization_feasible_and_below_truth(seed):
    M, mask = L.completion_problem(30, 3, 300, seed)
    res = L.nuclear_norm_minimization(M, mask)
    assert res.converged
    rel = np.linalg.norm((res.X - M)[mask]) / np.linalg.norm(M[mask])
    assert rel <= NNM_TOL
    assert res.constraint_residual <= NNM_TOL
    # the ground truth is feasible, so the minimum is at most its nuclear norm
    assert res.nuclear_norm <= L.nuclear_norm(M) * (1 + NNM_TOL)


@pytest.mark.parametrize("n,rank,count,seed", [(30, 2, 600, 0), (40, 2, 900, 1), (100, 5, 5000, 2)])
def test_nuclear_norm_minimization_recovers_oversampled_low_rank(n, rank, count, seed):
    M, mask = L.completion_problem(n, rank, count, seed)
    res = L.nuclear_norm_minimization(M, mask)
    assert res.converged
    assert L.reconstruction_error(res.X, M) < 1e-10


def test_box_constraint_is_met_and_lowers_the_norm():
    M, mask = L.completion_problem(30, 3, 300, 4)
    eq = L.nuclear_norm_minimization(M, mask)
    box = L.nuclear_norm_minimization(M, mask, box=1e-2)
    assert box.converged
    viol = np.abs(box.X - M)[mask].max()
    assert viol <= 1e-2 + NNM_TOL * np.linalg.norm(M[mask])
    assert viol > 0.5e-2  # the box is used, not ignored
    assert box.nuclear_norm < eq.nuclear_norm


def test_nuclear_norm_minimization_reports_non_convergence():
    M, mask = L.completion_problem(30, 3, 300, 0)
    res = L.nuclear_norm_minimization(M, mask, max_iterations=3)
    assert not res.converged and res.iterations == 3
    with pytest.raises(L.NotConvergedError, match="3 iterations"):
        L.nuclear_norm_minimization(M, mask, max_iterations=3, strict=True)


@pytest.mark.parametrize("kw,msg", [({"box": -1.0}, "box"), ({"tol": 0.0}, "tol"), ({"max_iterations": 0}, "max_iter")])
def test_nuclear_norm_minimization_bad_options(kw, msg):
    M, mask = L.completion_problem(6, 1, 20, 0)
    with pytest.raises(ValueError, match=msg):
        L.nuclear_norm_minimization(M, mask, **kw)


# ------------------------------------------------------------------------------------- complete_matrix


class _CompletionLoss(Loss):
    """The completion loss as a core Loss, to drive the generic lnnlib.gradient_descent."""

    def __init__(self, M, mask):
        self.M, self.mask, self.shape = M, mask, M.shape

    def value(self, W):
        return L.completion_loss(W, self.M, self.mask)

    def gradient(self, W):
        return L.completion_gradient(W, self.M, self.mask)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_plain_steps_equal_generic_gradient_descent(depth):
    M, mask = L.completion_problem(12, 2, 60, 5)
    steps = 25
    fast = L.complete_matrix(
        M, mask, depth, rng=7, init_scale=0.1, lr=2.0, momentum=0.0, dtype=np.float64, max_steps=steps, tol=1e-30
    )
    init = L.near_zero_init([12] * (depth + 1), 0.1, rng=7)
    ref = L.gradient_descent(init, _CompletionLoss(M, mask), lr=2.0, steps=steps)
    assert fast.iterations == steps and not fast.converged
    np.testing.assert_allclose(fast.end_to_end, ref.final, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.losses, ref.loss, rtol=1e-10)


def test_identity_init_and_recording():
    M, mask = L.completion_problem(10, 2, 40, 0)
    res = L.complete_matrix(
        M,
        mask,
        3,
        init="identity",
        init_scale=1e-3,
        lr=1.0,
        record=[0, 5, 10],
        max_steps=10,
        tol=1e-30,
        dtype=np.float64,
    )
    np.testing.assert_array_equal(res.steps, [0, 5, 10])
    np.testing.assert_allclose(res.singular_values[0], 1e-3, rtol=1e-12)
    np.testing.assert_allclose(res.singular_values[-1], L.singular_values(res.end_to_end), rtol=1e-10)


# (n, rank, count, seed): small instances where depth 2 and depth 3 end at clearly different solutions
SMALL_INSTANCES = [(30, 2, 250, 0), (30, 2, 250, 2), (30, 2, 350, 0), (40, 3, 500, 1)]


@pytest.mark.parametrize("n,rank,count,seed", SMALL_INSTANCES)
@pytest.mark.parametrize("depth", [2, 3])
def test_fast_scheme_keeps_the_implicit_bias(n, rank, count, seed, depth):
    """float32 + large step + late momentum ends where small-step float64 plain GD ends: same effective
    rank (to 0.25) and the same order of reconstruction error (within a factor 10)."""
    M, mask = L.completion_problem(n, rank, count, seed)
    fast = L.complete_matrix(M, mask, depth, rng=seed + 10, lr=2.0)
    slow = L.complete_matrix(M, mask, depth, rng=seed + 10, lr=1.0, momentum=0.0, dtype=np.float64, max_steps=200_000)
    assert fast.converged and slow.converged
    assert fast.momentum_from is not None and fast.iterations < slow.iterations
    assert abs(L.effective_rank(fast.end_to_end) - L.effective_rank(slow.end_to_end)) < 0.25
    e_fast, e_slow = L.reconstruction_error(fast.end_to_end, M), L.reconstruction_error(slow.end_to_end, M)
    assert abs(np.log10(e_fast / e_slow)) < 1.0


# The notebooks' setting: n = 100, rank 5, 2000 observations, Gaussian init 1e-3, complete_matrix's defaults.
# Reference: plain gradient descent with half the step and no momentum. Measured on these instances at depth 2:
# halving the reference's step again moves its effective rank by <= 0.015 and its error by <= 0.7%; the defaults
# end within 0.016, 0.1% and a distance 1.4e-3 * ||M||_F of it, while the former defaults (eta = 5, momentum
# below loss 1e-3) ended 0.21-0.24 lower in effective rank, 11-15% lower in error and 1.5e-2 * ||M||_F away,
# which the bounds below reject. At depth 3 both runs recover M to the floor that stopping at training loss 1e-6 leaves: there the
# error (1e-5 to 5e-5) depends on how the last digits were fitted, not on the implicit bias, so the sharp
# comparison is the effective rank. About 12 s in all.
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("depth", [2, 3])
def test_default_scheme_matches_small_step_gd_at_n100(seed, depth):
    M, mask = L.completion_problem(100, 5, 2000, seed)
    fast = L.complete_matrix(M, mask, depth, rng=seed + 10)
    slow = L.complete_matrix(M, mask, depth, rng=seed + 10, lr=1.0, momentum=0.0, max_steps=100_000)
    assert fast.converged and slow.converged
    assert fast.momentum_from is not None and fast.iterations < slow.iterations / 2
    d_rank = L.effective_rank(fast.end_to_end) - L.effective_rank(slow.end_to_end)
    e_fast, e_slow = (L.reconstruction_error(r.end_to_end, M) for r in (fast, slow))
    if depth == 2:
        assert abs(d_rank) < 0.1 and abs(e_fast / e_slow - 1) < 0.05
        assert np.linalg.norm(fast.end_to_end - slow.end_to_end) < 5e-3 * np.linalg.norm(M)
    else:
        assert abs(d_rank) < 0.02 and max(e_fast, e_slow) < 1e-4


def test_momentum_from_the_start_changes_the_solution():
    """The reason momentum is switched on late: from the start it finds a higher-rank solution."""
    M, mask = L.completion_problem(30, 2, 250, 0)
    late = L.complete_matrix(M, mask, 2, rng=10, lr=2.0)
    early = L.complete_matrix(M, mask, 2, rng=10, lr=2.0, momentum_below=1e9)
    assert early.momentum_from == 0
    assert L.effective_rank(early.end_to_end) > L.effective_rank(late.end_to_end) + 1.0


def test_depth_lowers_effective_rank_on_few_observations():
    M, mask = L.completion_problem(30, 2, 250, 0)
    errs = {N: L.reconstruction_error(L.complete_matrix(M, mask, N, rng=1, lr=2.0).end_to_end, M) for N in (2, 3)}
    assert errs[3] < errs[2] / 10


def test_step_cap_is_reported_and_divergence_raises():
    M, mask = L.completion_problem(30, 2, 250, 0)
    res = L.complete_matrix(M, mask, 2, rng=0, max_steps=5)
    assert not res.converged and res.iterations == 5 and res.loss > 1e-6
    with pytest.raises(L.NotConvergedError, match="step cap 5"):
        L.complete_matrix(M, mask, 2, rng=0, max_steps=5, strict=True)
    with pytest.raises(FloatingPointError, match="diverged"):
        L.complete_matrix(M, mask, 2, rng=0, lr=500.0)


@pytest.mark.parametrize(
    "kw,msg",
    [
        ({"depth": 0}, "at least 1"),
        ({"lr": -1.0}, "learning rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"init": "orthogonal"}, "init must be"),
        ({"dtype": np.int64}, "dtype"),
        ({"record": 0}, "record"),
    ],
)
def test_complete_matrix_bad_options(kw, msg):
    M, mask = L.completion_problem(6, 1, 20, 0)
    kw = {"depth": 2, **kw}
    depth = kw.pop("depth")
    with pytest.raises(ValueError, match=msg):
        L.complete_matrix(M, mask, depth, rng=0, **kw)


def test_complete_matrix_needs_square():
    mask = np.ones((3, 4), dtype=bool)
    with pytest.raises(ValueError, match="square"):
        L.complete_matrix(np.ones((3, 4)), mask, 2, rng=0)


# ---------------------------------------------------------------------------------------- experiments


def test_completion_table_records_and_format():
    recs = L.completion_table(counts=(250,), methods=("nuclear", 2, 3), seeds=(0, 1), n=30, rank=2, lr=2.0)
    assert len(recs) == 6
    assert {r["method"] for r in recs} == {"nuclear norm min", "depth 2", "depth 3"}
    assert all(r["converged"] for r in recs)
    summary = L.summarize_completion_table(recs)
    assert [s["seeds"] for s in summary] == [2, 2, 2]
    for s in summary:
        assert s["error_min"] <= s["error_geomean"] <= s["error_max"]
    text = L.format_completion_table(recs)
    assert text.count("\n") == 3 and "depth 3" in text


def test_error_vs_init_scale_arranges_the_sweep():
    recs = L.init_scale_sweep(250, depths=(2, 3), init_scales=(1e-2, 1e-3), seeds=(0,), n=30, rank=2, lr=2.0)
    errs, depths, scales, seeds = L.error_vs_init_scale(recs)
    assert errs.shape == (2, 2, 1) and np.all(errs > 0)
    assert (depths, scales, seeds) == ([2, 3], [1e-2, 1e-3], [0])
    for r in recs:
        assert errs[depths.index(r["depth"]), scales.index(r["init_scale"]), 0] == r["error"]
    with pytest.raises(ValueError, match="do not cover every"):
        L.error_vs_init_scale(recs[:-1])


def test_nuclear_norm_vs_eigenvalues():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 3))
    lam = np.clip(np.linalg.eigvalsh(W.T @ W), 0, None)
    assert np.isclose(L.nuclear_norm(W), np.sum(np.sqrt(lam)), rtol=1e-12)


def test_plot_helpers_return_their_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3)
    errs = np.array([[[1e-1], [1e-2]], [[1e-3], [1e-5]]])
    assert L.plot_error_vs_init_scale(axes[0], [1e-2, 1e-3], errs, [2, 3]) is axes[0]
    assert len(axes[0].get_lines()) == 2
    sv = np.abs(np.random.default_rng(0).standard_normal((4, 6)))
    assert L.plot_singular_values(axes[1], [0, 1, 10, 100], sv, top=3) is axes[1]
    assert len(axes[1].get_lines()) == 3
    assert L.plot_spectra(axes[2], {"a": np.eye(3), "b": np.diag([3.0, 2.0, 1.0])}) is axes[2]
    plt.close(fig)


def test_init_scale_sweep_records_match_the_table_instance_and_a_direct_run():
    # seed s of the sweep is the instance of seed s of completion_table; each record's metrics are those of
    # the completed matrix, recomputed here independently
    kw = dict(n=30, rank=2, lr=2.0)
    recs = L.init_scale_sweep(250, depths=(2,), init_scales=(1e-2, 1e-3), seeds=(1,), keep_matrices=True, **kw)
    table = L.completion_table(counts=(250,), methods=("nuclear",), seeds=(1,), keep_matrices=True, n=30, rank=2)
    assert [(r["depth"], r["init_scale"], r["seed"]) for r in recs] == [(2, 1e-2, 1), (2, 1e-3, 1)]
    for r in recs:
        np.testing.assert_array_equal(r["M"], table[0]["M"])
        s = np.linalg.svd(r["W"], compute_uv=False)
        assert np.isclose(r["nuclear_norm"], s.sum(), rtol=1e-12)
        q = s / s.sum()
        assert np.isclose(r["effective_rank"], np.exp(-np.sum(q[q > 0] * np.log(q[q > 0]))), rtol=1e-9)
        assert np.isclose(r["error"], np.sum((r["W"] - r["M"]) ** 2) / np.sum(r["M"] ** 2), rtol=1e-12)


def test_format_completion_table_names_the_lecture():
    recs = L.completion_table(counts=(250,), methods=("nuclear",), seeds=(0,), n=30, rank=2)
    header = L.format_completion_table(recs).splitlines()[0]
    assert "lecture" in header and "paper" not in header


@pytest.mark.parametrize("highlight", [0, 3, 2.0, True])
def test_plot_singular_values_rejects_bad_highlight(highlight):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    sv = np.abs(np.random.default_rng(0).standard_normal((4, 6)))
    with pytest.raises(ValueError, match="highlight"):
        L.plot_singular_values(ax, [0, 1, 10, 100], sv, top=3, highlight=highlight)
    plt.close(fig)


def test_plot_singular_values_highlight_groups_and_integer_spectrum_ticks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    sv = np.sort(np.abs(np.random.default_rng(0).standard_normal((4, 6))), axis=1)[:, ::-1]
    L.plot_singular_values(axes[0], [0, 1, 10, 100], sv, top=5, highlight=2)
    lines = axes[0].get_lines()
    assert len(lines) == 5 and [ln.get_linestyle() for ln in lines] == ["-", "-", "--", "--", "--"]
    # one legend entry (and colour) per highlighted curve, one for the grey group
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == [
        r"$\sigma_{1}$",
        r"$\sigma_{2}$",
        r"$\sigma_{3} \dots \sigma_{5}$",
    ]
    assert lines[0].get_color() != lines[1].get_color()
    # step 0 is on the axis (not clipped to 1 by a log scale)
    assert axes[0].get_xscale() == "symlog" and lines[0].get_xdata()[0] == 0 and axes[0].get_xlim()[0] <= 0
    L.plot_spectra(axes[1], {"a": np.diag(np.arange(10.0, 0.0, -1.0))}, top=10)
    fig.canvas.draw()
    ticks = [t for t in axes[1].get_xticks() if 1 <= t <= 10]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close(fig)
