r"""Demo 1, matrix completion: depth, init scale and observations -> singular values and error over training."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_rng, check_int, check_seed
from ..completion import _completion_run, low_rank_matrix
from .base import MAX_DEMO_SIZE, MAX_DEMO_STEPS, Demo, _int_slider, _log_slider, _set_log_ylim

__all__ = ["matrix_completion_demo"]

TOL = 1e-5  # a run ends when the training loss reaches this (completion_trajectory's default)


class MatrixCompletionDemo(Demo):
    """Depth, init scale and number of observations -> singular values and error over training."""

    kind = "completion"

    view_only = frozenset({"step"})

    def __init__(self, n: int, rank: int, seed: int, max_steps: int, shown: int):
        rng = as_rng(seed)
        self.target = low_rank_matrix(n, rank, rng)  # [ACHL19]: ||M||_F = n, RMS entry 1
        self.order = rng.permutation(n * n)  # observation sets are nested: more observations add entries
        self.seed = seed
        self.max_steps = max_steps
        self.shown = shown
        self.rank = rank
        grid = max(1, n * n // 18)  # 18 positions of the slider; the default observes 2/9 of the entries
        controls = {
            "depth": _int_slider("depth N", 3, 1, 4),
            "init_scale": _log_slider("init scale", 1e-3, -4, 0, step=0.5),
            "observations": _int_slider("observed entries", 4 * grid, grid, 18 * grid, step=grid),
            # a percentage of the run: a fixed range, so a new run never changes the slider's limits
            # (the browser would clamp the value to the old ones)
            "step": _int_slider("show (% of the run)", 100, 0, 100, step=1, continuous=True),
        }
        super().__init__(controls, figsize=(10.0, 3.8))

    def mask(self, count: int) -> np.ndarray:
        """Return the mask of the first ``count`` entries of the demo's fixed random order."""
        n = self.target.shape[0]
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, numbers.Integral):
            raise ValueError(f"the number of observed entries must be an integer; got {count!r}")
        if not 1 <= count <= n * n:
            raise ValueError(f"the number of observed entries must be between 1 and n^2 = {n * n}; got {count}")
        flat = np.zeros(n * n, dtype=bool)
        flat[self.order[:count]] = True
        return flat.reshape(n, n)

    def _runs(self, p):
        key = (p["depth"], float(p["init_scale"]), p["observations"])

        def train(monitor):
            # the checks of completion_trajectory were passed once, at construction and by the sliders
            return _completion_run(
                self.target,
                self.mask(p["observations"]),
                p["depth"],
                float(p["init_scale"]),
                self.seed + 1,
                None,
                self.max_steps,
                TOL,
                10,
                monitor=monitor,
            )

        return [(key, train)]

    def _assemble(self, p, runs, final):
        (self.result,) = runs.values()
        if final:
            self._quiet = True  # a new run is shown at its end, without a second redraw
            try:
                self.controls["step"].value = 100
            finally:
                self._quiet = False

    def _build(self):
        self.ax_sv, self.ax_err = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.83, wspace=0.22)
        for s in np.linalg.svd(self.target, compute_uv=False)[: self.rank]:
            self.ax_sv.axhline(s, color="0.6", lw=1, ls=":")
        self.sv_lines = [self.ax_sv.semilogy([], [], lw=1.5)[0] for _ in range(self.shown)]
        self.ax_sv.set(xlabel="step", ylabel="singular value of $W$")
        self.ax_sv.set_title(f"top {self.shown} singular values of $W$ (dotted: truth)", fontsize=10)
        (self.err_line,) = self.ax_err.semilogy([], [], color="C3", label="reconstruction error (all entries)")
        (self.loss_line,) = self.ax_err.semilogy([], [], color="C0", label="training loss (observed entries)")
        self.ax_err.set(xlabel="step")
        self.ax_err.set_title("error vs. fit", fontsize=10)
        self.ax_err.legend(loc="lower left", fontsize=8)
        self.cursors = [ax.axvline(0, color="k", lw=1, animated=True) for ax in (self.ax_sv, self.ax_err)]
        (self.dot,) = self.ax_err.plot([], [], "o", color="C3", animated=True)
        self.animated = [*self.cursors, self.dot]

    def _update(self):
        r = self.result
        steps, S = r["steps"], np.maximum(r["singular_values"][:, : self.shown], 1e-12)
        for j, line in enumerate(self.sv_lines):
            line.set_data(steps, S[:, j])
        true_top = np.linalg.svd(self.target, compute_uv=False)[0]
        _set_log_ylim(self.ax_sv, S, [true_top])
        self.err_line.set_data(steps, r["error"])
        self.loss_line.set_data(steps, np.maximum(r["loss"], 1e-12))
        _set_log_ylim(self.ax_err, r["error"], np.maximum(r["loss"], 1e-12))
        for ax in (self.ax_sv, self.ax_err):
            ax.set_xlim(0, max(int(steps[-1]), 1))
        p = self.params()
        self.figure.suptitle(
            f"depth {p['depth']}, init scale {p['init_scale']:.0e}, {p['observations']} of "
            f"{self.target.size} entries observed",
            fontsize=11,
        )

    def _update_view(self) -> str:
        r = self.result
        target = self.controls["step"].value / 100 * r["steps"][-1]
        k = max(int(np.searchsorted(r["steps"], target + 1e-9, side="right") - 1), 0)
        t = int(r["steps"][k])
        self.result["shown_index"] = k
        for cursor in self.cursors:
            cursor.set_xdata([t, t])
        self.dot.set_data([t], [r["error"][k]])
        ended = "reached loss 1e-5" if r["converged"] else f"stopped at the cap of {self.max_steps} steps"
        return (
            f"lr {r['lr']:.3g}, {ended} after {int(r['steps'][-1])} steps. At step {t}: reconstruction error "
            f"{r['error'][k]:.2e}, effective rank {r['erank'][k]:.2f} (true rank {self.rank})"
        )


def matrix_completion_demo(
    n: int = 30, rank: int = 2, *, seed: int = 0, max_steps: int = 3000, shown: int | None = None
) -> MatrixCompletionDemo:
    r"""Return the matrix-completion demo (the [ACHL19] experiment, scaled down).

    An $n \times n$ rank-``rank`` ground truth with $\|M\|_F = n$; sliders for the depth $N$ (1-4), the
    near-zero init scale and the number of observed entries (nested sets: more observations add entries).
    The figure shows the top ``shown`` singular values of $W = W_N \cdots W_1$ over training (default
    ``min(6, n)``) and the reconstruction error; the "show (% of the run)" slider moves a cursor along the
    cached run. Sizes are bounded (``n <= 200``, ``max_steps <= 1e5``): a demo must answer a slider at once.
    """
    shown = min(6, n) if shown is None and isinstance(n, numbers.Integral) else shown
    for value, name in ((n, "n"), (rank, "the rank"), (max_steps, "max_steps"), (shown, "shown")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    n = check_int(n, "n", low=1, high=MAX_DEMO_SIZE, why="a demo must answer a slider at once")
    max_steps = check_int(max_steps, "max_steps", low=1, high=MAX_DEMO_STEPS, why="a demo must answer a slider at once")
    if rank > n:
        raise ValueError(f"the rank of an {n} x {n} matrix is at most {n}; got rank {rank}")
    if shown > n:
        raise ValueError(f"shown = {shown} singular values, but an {n} x {n} matrix has only {n}")
    return MatrixCompletionDemo(n, int(rank), check_seed(seed), max_steps, int(shown))
