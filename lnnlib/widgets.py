r"""Lecture demos: sliders that retrain a small deep linear network and redraw its picture at once.

Each builder returns a :class:`Demo`, an ``ipywidgets.VBox`` holding the controls, a progress bar with a
status line, and the figure. Design choices, all for a lecturer who moves a slider while talking:

- the figure is a matplotlib ``Figure`` drawn off-screen (Agg) and shown as a PNG in an
  ``ipywidgets.Image``: no pyplot state, no dependence on the kernel's matplotlib backend (the demos work
  the same under ``MPLBACKEND=Agg``), no figure leaking into the cell's own output, no flicker;
- a training run is computed once per parameter set and kept in a small cache; the progress bar shows
  while it runs; sliders that only select what is shown (a training step, a gradient direction) redraw
  from the cache without any training;
- sliders whose move costs training use ``continuous_update=False`` (one run when the slider is
  released); scales and learning rates use ``FloatLogSlider``;
- a value that makes no sense (a non-finite or non-positive scale, which ``FloatLogSlider`` itself lets
  through) is refused: the control goes back to its previous value and the status line says why; a run
  that diverges is reported in the status line, never as a traceback.

The problems are small on purpose (30 x 30 completion, 4 x 4 regression, the 442 x 10 diabetes data), so
that a new parameter set trains in well under a second and a redraw takes a few tens of milliseconds.
"""

from __future__ import annotations

import html
import io
import math
import numbers
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._validation import (
    MAX_STEPS,
    as_array,
    as_matrix,
    as_rng,
    check_callable,
    check_choice,
    check_depth,
    check_int,
    check_positive,
    check_real,
    check_seed,
    check_steps,
    guard,
)
from .completion import low_rank_matrix
from .dynamics import preconditioner
from .init import balanced_init, gaussian_init, identity_init, near_zero_init
from .losses import LpRegressionLoss
from .metrics import effective_rank, reconstruction_error
from .network import _backward, _forward, balancedness_gaps, end_to_end

__all__ = [
    "Demo",
    "completion_trajectory",
    "lp_minimum",
    "matrix_completion_demo",
    "balancedness_demo",
    "preconditioner_demo",
    "acceleration_demo",
]

FIGURE_DPI = 80  # PNG resolution: sharp on a projector, and rendered in a few tens of ms
CACHE_SIZE = 48  # training runs kept per demo (each a few hundred kB at most)
BACKGROUND_CACHE_SIZE = 16  # rendered figures kept per demo (about 1 MB each, RGBA)
GAP_FLOOR = 1e-16  # exact zeros on a log axis are drawn at this level


class _LRU:
    """A small least-recently-used cache of training runs, keyed by the parameter tuple."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self.misses = 0

    def get(self, key, compute: Callable[[], Any]):
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        self.misses += 1
        value = compute()
        self._data[key] = value
        if len(self._data) > self.size:
            self._data.popitem(last=False)
        return value

    def peek(self, key):
        """Return the cached value (marking it recently used), or ``None``."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        return None

    def __len__(self) -> int:
        return len(self._data)


class Demo(widgets.VBox):
    """A lecture demo: controls, a progress bar and status line, and a figure shown as a PNG image.

    Subclasses set ``view_only`` (names of controls that only select what is drawn) and implement
    ``_build`` (create the axes and artists once; artists that view-only controls move are created with
    ``animated=True`` and listed in ``self.animated``), ``_compute`` (fill ``self.result`` from the
    controls, through ``self.cache``), ``_update`` (put ``self.result`` into the artists) and
    ``_update_view`` (move the animated artists; return the status text), and optionally
    ``_refuse(name, value)`` (a reason to refuse a value, or ``None``).

    A view-only change restores the rendered background and draws only the animated artists (blitting):
    no training, no axis layout, just the cursor and the PNG encoding.

    Attributes
    ----------
    controls : dict of name -> widget, the sliders and menus.
    result : dict, what the last computation produced (the data the figure shows).
    figure : matplotlib Figure drawn off-screen; ``image.value`` holds it as PNG bytes.
    status : HTML widget, what the figure shows or why a value was refused.
    progress : FloatProgress widget, visible while a training run is computed.
    cache : the training runs computed so far (``cache.misses`` counts the runs).
    redraw_seconds : float, wall time of the last update (computation, if any, plus drawing).
    full_redraws : int, how many updates redrew the whole figure (the others only moved a cursor).
    frames : int, how many figures were sent to the page.
    """

    view_only: frozenset[str] = frozenset()
    kind = "demo"

    def __init__(self, controls: dict[str, widgets.ValueWidget], figsize: tuple[float, float]):
        self.controls = dict(controls)
        self.figure = Figure(figsize=figsize, dpi=FIGURE_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        self.animated: list = []
        self._background = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{int(figsize[0] * FIGURE_DPI)}px"))
        self.progress = widgets.FloatProgress(
            value=0.0, min=0.0, max=1.0, description="training", layout=widgets.Layout(visibility="hidden")
        )
        self.status = widgets.HTML()
        self.cache = _LRU()
        self._backgrounds = _LRU(BACKGROUND_CACHE_SIZE)  # rendered figures (without cursors) by setting
        self.result: dict[str, Any] = {}
        self.redraw_seconds = math.nan
        self.full_redraws = 0
        self.frames = 0
        self._quiet = False
        self._busy = False
        self._pending: list[str | None] = []
        self._status_text, self._failed = "", False
        self._build()
        super().__init__(
            children=[
                widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
                widgets.HBox([self.progress, self.status]),
                self.image,
            ]
        )
        # CSS classes: stable handles for the browser test (tests/test_browser.py) and for custom styling
        self.add_class("lnnlib-demo")
        self.add_class(f"lnnlib-demo-{self.kind}")
        self.image.add_class("lnnlib-figure")
        self.status.add_class("lnnlib-status")
        for name, control in self.controls.items():
            control.add_class(f"lnnlib-control-{name}")
            control.observe(self._make_handler(name), names="value")
        self.refresh()
        if self._failed:  # a demo that cannot draw its first picture is refused here, not in its status line
            raise ValueError(f"the demo cannot start: {self._status_text}")

    def params(self) -> dict[str, Any]:
        """Return the current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values) -> dict[str, Any]:
        """Set several controls at once (one computation, one redraw) and return the new ``result``.

        Raises ValueError for an unknown control, a refused value, or a run that fails.
        """
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"this demo has no control {unknown[0]!r}; its controls are {', '.join(self.controls)}")
        for name, value in values.items():
            reason = self._refuse(name, value)
            if reason is not None:
                raise ValueError(f"{name} = {value!r} refused: {reason}")
        self._quiet = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._quiet = False
        self.refresh()
        if self._failed:
            raise ValueError(self._status_text)
        return self.result

    def sweep(self, name: str, values) -> dict[Any, dict[str, Any]]:
        """Return ``{value: result}`` for each value of control ``name``, then restore the control.

        Moves the control as a lecturer would (so the runs land in the cache and later moves to these
        values redraw at once); raises ValueError when a value is refused or its run fails.
        """
        if name not in self.controls:
            raise ValueError(f"this demo has no control {name!r}; its controls are {', '.join(self.controls)}")
        control = self.controls[name]
        original = control.value
        results = {}
        try:
            if values is None or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise ValueError(f"values must be a list of values of {name}; got {values!r}")
            for value in values:
                reason = self._refuse(name, value)
                if reason is not None:
                    raise ValueError(f"{name} = {value!r} refused: {reason}")
                control.value = value
                if control.value != value:
                    raise ValueError(f"{name} = {value!r} is outside the slider's range or not one of its entries")
                if self._failed:
                    raise ValueError(f"{name} = {value!r}: {self._status_text}")
                results[value] = self.result
        finally:
            control.value = original
        return results

    def _make_handler(self, name):
        def handler(change):
            if self._quiet:
                return
            reason = self._refuse(name, change["new"])
            if reason is not None:
                self._quiet = True
                try:
                    self.controls[name].value = change["old"]
                finally:
                    self._quiet = False
                self._message(f"refused {name} = {change['new']!r}: {reason}; kept {change['old']!r}", error=True)
                return
            self.refresh(changed=name)

        return handler

    def _refuse(self, name: str, value) -> str | None:
        """A reason to refuse ``value`` for control ``name`` (the wrong type, outside the slider's range,
        not a menu entry), or ``None``. The sliders clamp what the browser sends; ``set`` and ``sweep``
        refuse instead, so that a script never gets a silently clamped run."""
        control = self.controls[name]
        if isinstance(control, (widgets.FloatLogSlider, widgets.FloatSlider)):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                return "the value must be a finite number"
            if isinstance(control, widgets.FloatLogSlider):
                if value <= 0:
                    return "a scale must be positive"
                lo, hi = control.base**control.min, control.base**control.max
            else:
                lo, hi = control.min, control.max
            if not lo - 1e-12 * abs(lo) <= value <= hi + 1e-12 * abs(hi):
                return f"outside the slider's range {lo:.3g}..{hi:.3g}"
        elif isinstance(control, widgets.IntSlider):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                return "the value must be an integer"
            if not control.min <= value <= control.max:
                return f"outside the slider's range {control.min}..{control.max}"
        elif isinstance(control, widgets.Dropdown):
            entries = [o[1] if isinstance(o, tuple) else o for o in control.options]
            if isinstance(value, (bool, np.bool_, np.ndarray)) or not any(value == e for e in entries):
                return f"not one of the menu's entries ({', '.join(repr(e) for e in entries)})"
        return None

    def refresh(self, changed: str | None = None) -> None:
        """Recompute (through the cache) and redraw everything, unless only a view-only control changed:
        then move the animated artists over the stored background.

        Re-entrant calls are queued: the kernel may deliver a slider's message while a run is training
        (the frontend snaps a slider to its new range), and that update must wait for the new background.
        """
        if self._busy:
            self._pending.append(changed)
            return
        self._busy = True
        try:
            self._refresh_once(changed)
            while self._pending:
                pending, self._pending = self._pending, []
                full = any(name is None or name not in self.view_only for name in pending)
                self._refresh_once(None if full else pending[-1])
        finally:
            self._busy = False

    def _refresh_once(self, changed: str | None) -> None:
        start = time.perf_counter()
        try:
            if changed is None or changed not in self.view_only or self._background is None:
                self._background = None  # stale until the new figure is drawn
                self._compute()
                key = self._figure_key()
                cached = self._backgrounds.peek(key)
                self._update()  # also when cached: the cursors are drawn with these axes' limits
                if cached is None:
                    self.canvas.draw()  # animated artists are skipped here
                    cached = self._backgrounds.get(key, lambda: self.canvas.copy_from_bbox(self.figure.bbox))
                    self.full_redraws += 1
                self.canvas.restore_region(cached)  # a setting shown before: its picture, not a redraw
                self._background = cached
            else:
                self.canvas.restore_region(self._background)
            text = self._update_view()
            for artist in self.animated:
                if artist.get_visible():
                    artist.axes.draw_artist(artist)
            self.image.value = self._png()
            self.frames += 1
            self._message(text)
        except (ValueError, FloatingPointError) as exc:
            self._message(str(exc), error=True)
        except Exception as exc:  # a lecture must never show a traceback: say what failed, keep going
            self._background = None
            self._message(f"internal error ({type(exc).__name__}: {exc}); please report it", error=True)
        finally:
            self.progress.layout.visibility = "hidden"
        self.redraw_seconds = time.perf_counter() - start

    def _figure_key(self) -> tuple:
        """The values of the controls that the static part of the figure depends on."""
        return tuple((name, c.value) for name, c in self.controls.items() if name not in self.view_only)

    def _png(self) -> bytes:
        width, height = self.canvas.get_width_height()
        rgba = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        rgba.save(buffer, format="png", compress_level=1)  # fast: the image goes over a local socket
        return buffer.getvalue()

    def _message(self, text: str, error: bool = False) -> None:
        self._status_text, self._failed = text, error
        color = "#b00020" if error else "#333333"
        # data-frame counts the figures sent: the browser test waits for it to change
        self.status.value = f'<span data-frame="{self.frames}" style="color:{color}">{html.escape(text)}</span>'

    def _report_progress(self, fraction: float) -> None:
        self.progress.layout.visibility = "visible"
        self.progress.value = float(min(max(fraction, 0.0), 1.0))

    def _build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _compute(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update_view(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _set_log_ylim(ax, *arrays, floor: float = 1e-300) -> None:
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values) & (values > floor)]
    if values.size:
        lo, hi = float(values.min()), float(values.max())
        ax.set_ylim(lo / 2, hi * 2 if hi > lo else lo * 10)


def _log_slider(description, value, lo, hi, step=0.25, continuous=False, fmt=".1e"):
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=continuous,
        readout_format=fmt,
        style={"description_width": "initial"},
    )


def _int_slider(description, value, lo, hi, step=1, continuous=False):
    return widgets.IntSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=continuous,
        style={"description_width": "initial"},
    )


def _descend(layers, loss_and_gradient, lr, steps, *, record_every=10, tol=None, record=None, progress=None):
    r"""Run $W_j \leftarrow W_j - \eta\, (W_N \cdots W_{j+1})^\top G\, (W_{j-1} \cdots W_1)^\top$ [ACH18].

    The same steps as :func:`lnnlib.gradient_descent`, without its per-step input checks (the demos
    call it with layers they built themselves), so that a demo's run takes tenths of a second.
    ``loss_and_gradient(W)`` returns $(\ell(W), \nabla\ell(W))$. ``record(t, layers, W, value)`` is
    called every ``record_every`` steps, at the last step and when the loss reaches ``tol``.

    Returns ``(layers, losses, diverged)``: the last layers, the loss before each step taken and after
    the last, and ``None`` or the step at which the loss became non-finite or grew by 1e8.
    """
    losses = []
    diverged = None
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for t in range(steps + 1):
            try:
                W, prefixes = _forward(layers)
                value, G = loss_and_gradient(W)
            except FloatingPointError:
                value, G = math.inf, None
            if not math.isfinite(value) or value > 1e8 * max(losses[0] if losses else value, 1.0):
                diverged = t
                break
            losses.append(value)
            done = t == steps or (tol is not None and value <= tol)
            if record is not None and (t % record_every == 0 or done):
                record(t, layers, W, value)
                if progress is not None:
                    progress(t / max(steps, 1))
            if done:
                break
            try:
                layers = [Wj - lr * g for Wj, g in zip(layers, _backward(layers, G, prefixes), strict=True)]
            except FloatingPointError:
                diverged = t + 1
                break
    return layers, np.array(losses), diverged


# ----------------------------------------------------------------------------------------------------
# 1. Matrix completion


@guard
def completion_trajectory(
    target,
    mask,
    depth: int,
    init_scale: float,
    *,
    rng=None,
    lr: float | None = None,
    max_steps: int = 3000,
    tol: float = 1e-5,
    record_every: int = 10,
    progress: Callable[[float], None] | None = None,
) -> dict[str, np.ndarray]:
    r"""Return the training record of plain gradient descent on deep matrix factorization.

    Minimizes $\phi(W_1..W_N) = \frac{1}{|\Omega|} \sum_{(i,j) \in \Omega} ((W_N \cdots W_1)_{ij} -
    M_{ij})^2$ over $N$ square factors from the near-zero Gaussian init of [ACHL19, Section 5] (see
    :func:`lnnlib.near_zero_init`), until the loss is at most ``tol`` or ``max_steps`` steps.

    The default step size is $\eta = \frac12 \min\big(|\Omega|/2,\; n^2 / (N \sigma_1(M)^{2 - 2/N})\big)$: the
    end-to-end dynamics multiply the gradient along the top singular direction by
    $N \sigma_1^{2-2/N}$ [ACH18, Theorem 1], and that direction carries a fraction $|\Omega|/n^2$ of the
    observed curvature $2/|\Omega|$; the first term is the depth-1 limit $2/\eta > 2/|\Omega|$.

    Returns
    -------
    dict with ``steps`` (k,), ``singular_values`` (k, n) of $W$, ``error`` (k,) the reconstruction
    error $\|W - M\|_F^2 / \|M\|_F^2$, ``erank`` (k,) the effective rank, ``loss`` (k,) the training
    loss, all at the recorded steps; ``lr``; ``converged`` (bool); ``final`` the last $W$.
    """
    M = as_matrix(target, "the target M")
    n, n2 = M.shape
    if n != n2:
        raise ValueError(f"the demo factorizes square matrices; the target M has shape {M.shape}")
    mask = np.asarray(mask)
    if mask.shape != M.shape or mask.dtype != bool:
        raise ValueError(f"the mask must be a boolean matrix of the target's shape {M.shape}")
    count = int(mask.sum())
    if count == 0:
        raise ValueError("the mask observes no entry: there is nothing to fit")
    N = check_depth(depth)
    init_scale = check_positive(init_scale, "the init scale")
    max_steps = check_steps(max_steps, "max_steps")
    tol = check_real(tol, "tol (0: run every step)", low=0.0)
    record_every = check_int(record_every, "record_every", low=1, high=MAX_STEPS)
    if progress is not None:
        check_callable(progress, "progress", "of the fraction done (or None)")
    sigma1 = float(np.linalg.svd(M, compute_uv=False)[0])
    if lr is None:
        lr = 0.5 * min(count / 2, n * n / (N * sigma1 ** (2 - 2 / N)))
    lr = check_positive(lr, "the learning rate eta")
    layers = near_zero_init([n] * (N + 1), init_scale, as_rng(rng))
    observed = mask.astype(M.dtype)
    steps, svals, errors, eranks, losses = [], [], [], [], []

    def loss_and_gradient(W):
        R = (W - M) * observed
        return float(np.sum(R * R)) / count, (2.0 / count) * R

    def record(t, layers, W, value):
        steps.append(t)
        svals.append(np.linalg.svd(W, compute_uv=False))
        errors.append(reconstruction_error(W, M))
        eranks.append(effective_rank(W))
        losses.append(value)

    layers, _, diverged = _descend(
        layers, loss_and_gradient, lr, max_steps, record_every=record_every, tol=tol, record=record, progress=progress
    )
    if diverged is not None:
        raise FloatingPointError(
            f"gradient descent diverged at step {diverged} with learning rate eta = {lr:.3g}; try a smaller init scale"
        )
    return {
        "steps": np.array(steps),
        "singular_values": np.array(svals),
        "error": np.array(errors),
        "erank": np.array(eranks),
        "loss": np.array(losses),
        "lr": lr,
        "converged": losses[-1] <= tol,
        "final": end_to_end(layers),
    }


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

    def _compute(self):
        p = self.params()
        key = (p["depth"], float(p["init_scale"]), p["observations"])

        def run():
            return completion_trajectory(
                self.target,
                self.mask(p["observations"]),
                p["depth"],
                p["init_scale"],
                rng=self.seed + 1,
                max_steps=self.max_steps,
                progress=self._report_progress,
            )

        self.result = self.cache.get(key, run)
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
    r"""Return the matrix-completion demo [ACHL19, Section 5, scaled down].

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
    n = check_int(n, "n", low=1, high=_MAX_DEMO_SIZE, why="a demo must answer a slider at once")
    max_steps = check_int(
        max_steps, "max_steps", low=1, high=_MAX_DEMO_STEPS, why="a demo must answer a slider at once"
    )
    if rank > n:
        raise ValueError(f"the rank of an {n} x {n} matrix is at most {n}; got rank {rank}")
    if shown > n:
        raise ValueError(f"shown = {shown} singular values, but an {n} x {n} matrix has only {n}")
    return MatrixCompletionDemo(n, int(rank), check_seed(seed), max_steps, int(shown))


# ----------------------------------------------------------------------------------------------------
# 2. Balancedness

INITS = ("near-zero Gaussian", "identity", "layer-wise Gaussian", "balanced")
_MAX_DEMO_SIZE = 200  # matrix side or layer width of a demo: each slider move retrains in well under a second
_MAX_DEMO_STEPS = 100_000


class BalancednessDemo(Demo):
    """Init type, init scale, step size and depth -> balancedness gaps over training."""

    kind = "balancedness"

    def __init__(self, width: int, seed: int, steps: int):
        self.width = width
        self.seed = seed
        self.steps = steps
        self.target = as_rng(seed).standard_normal((width, width))
        controls = {
            "init": widgets.Dropdown(options=INITS, value="near-zero Gaussian", description="init"),
            "scale": _log_slider("init scale", 1e-2, -3, 0.5, step=0.25),
            "lr": _log_slider("step size", 1e-2, -3, -0.5, step=0.25),
            "depth": _int_slider("depth N", 3, 2, 4),
        }
        super().__init__(controls, figsize=(10.0, 3.6))

    def initial_weights(self, init: str, scale: float, depth: int) -> list[np.ndarray]:
        """Return the initial layers for the menu entry ``init`` (fixed seed: the same draw each time)."""
        init = check_choice(init, "init", INITS)
        dims = [self.width] * (check_depth(depth) + 1)
        rng = as_rng(self.seed + 1)
        if init == "near-zero Gaussian":
            return near_zero_init(dims, scale, rng)
        if init == "identity":
            return identity_init(dims, scale)
        if init == "layer-wise Gaussian":
            return gaussian_init(dims, scale, rng)
        if init == "balanced":
            return balanced_init(dims, rng, scale)
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")

    def _compute(self):
        p = self.params()
        key = (p["init"], float(p["scale"]), float(p["lr"]), p["depth"])
        self.result = self.cache.get(key, lambda: self._train(p))

    def _train(self, p) -> dict[str, Any]:
        layers = self.initial_weights(p["init"], p["scale"], p["depth"])
        Phi = self.target
        steps, gaps = [], []

        def loss_and_gradient(W):
            D = W - Phi
            return 0.5 * float(np.sum(D * D)), D

        def record(t, layers, W, value):
            steps.append(t)
            gaps.append(balancedness_gaps(layers))

        _, losses, diverged = _descend(
            layers,
            loss_and_gradient,
            p["lr"],
            self.steps,
            record_every=10,
            record=record,
            progress=self._report_progress,
        )
        if len(steps) < 2:
            raise FloatingPointError(
                f"gradient descent diverged at step {diverged} with step size {p['lr']:.3g} and {p['init']} init "
                f"of scale {p['scale']:.3g}: lower the step size or the scale"
            )
        text = None if diverged is None else f"diverged at step {diverged} (lower the step size or the scale)"
        return {"steps": np.array(steps), "gaps": np.array(gaps), "loss": losses, "diverged": text}

    def _build(self):
        self.ax_gap, self.ax_loss = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.83, wspace=0.22)
        self.gap_lines = [
            self.ax_gap.semilogy([], [], label=rf"$\|W_{j + 2}^\top W_{j + 2} - W_{j + 1} W_{j + 1}^\top\|_F$")[0]
            for j in range(self.controls["depth"].max - 1)
        ]
        self.ax_gap.set(xlabel="step", ylabel="gap")
        self.ax_gap.set_title(f"balancedness gaps (exact 0 drawn at {GAP_FLOOR:.0e})", fontsize=10)
        (self.loss_line,) = self.ax_loss.semilogy([], [], color="C3")
        self.ax_loss.set(xlabel="step")
        self.ax_loss.set_title(r"loss $\frac{1}{2}\|W - \Phi\|_F^2$", fontsize=10)

    def _update(self):
        r = self.result
        gaps = np.maximum(r["gaps"], GAP_FLOOR)
        for j, line in enumerate(self.gap_lines):
            if j < gaps.shape[1]:
                line.set_data(r["steps"], gaps[:, j])
                line.set_visible(True)
            else:
                line.set_data([], [])
                line.set_visible(False)
        self.ax_gap.legend(handles=self.gap_lines[: gaps.shape[1]], loc="lower right", fontsize=8)
        self.ax_gap.set_ylim(GAP_FLOOR / 3, max(10.0, 3 * float(gaps.max())))
        self.ax_gap.set_xlim(0, self.steps)
        self.loss_line.set_data(np.arange(len(r["loss"])), r["loss"])
        _set_log_ylim(self.ax_loss, r["loss"])
        self.ax_loss.set_xlim(0, self.steps)
        p = self.params()
        self.figure.suptitle(
            f"{p['init']} init, scale {p['scale']:.2g}, step size {p['lr']:.2g}, depth {p['depth']}", fontsize=10
        )

    def _update_view(self) -> str:
        r = self.result
        g0, g1 = r["gaps"][0].max(), r["gaps"][-1].max()
        text = f"largest gap: {g0:.2e} at the start, {g1:.2e} after {int(r['steps'][-1])} steps"
        if r["diverged"]:
            text += f"; then {r['diverged']}"
        return text


def balancedness_demo(width: int = 4, *, seed: int = 0, steps: int = 1000) -> BalancednessDemo:
    r"""Return the balancedness demo [ACH18, Theorem 1; ACGH19, Definition 1].

    Gradient descent on $\frac12 \|W_N \cdots W_1 - \Phi\|_F^2$ with square ``width`` x ``width`` layers
    and a Gaussian target $\Phi$. The figure shows the gaps $\|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F$
    over training: gradient flow keeps them fixed, gradient descent lets them drift by $O(\eta)$ over a
    fixed time.
    """
    for value, name in ((width, "width"), (steps, "steps")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    width = check_int(width, "width", low=1, high=_MAX_DEMO_SIZE, why="a demo must answer a slider at once")
    steps = check_int(steps, "steps", low=1, high=_MAX_DEMO_STEPS, why="a demo must answer a slider at once")
    return BalancednessDemo(width, check_seed(seed), steps)


# ----------------------------------------------------------------------------------------------------
# 3. Preconditioner


class PreconditionerDemo(Demo):
    """A 2-D single-output w and depth N -> the image of the unit circle of gradients under P_w."""

    kind = "preconditioner"

    view_only = frozenset({"gradient_angle"})

    def __init__(self):
        controls = {
            "norm": _log_slider("|w|", 1.0, -1, 1, step=0.1, continuous=True, fmt=".2f"),
            "angle": _int_slider("angle of w (deg)", 30, 0, 180, step=5, continuous=True),
            "depth": _int_slider("depth N", 3, 1, 8, continuous=True),
            "gradient_angle": _int_slider("angle of gradient (deg)", 100, 0, 355, step=5, continuous=True),
        }
        super().__init__(controls, figsize=(10.0, 4.6))

    def _compute(self):
        p = self.params()
        a = math.radians(p["angle"])
        w = p["norm"] * np.array([math.cos(a), math.sin(a)])
        # one output: W = w^T is 1 x 2 and P_W is 2 x 2 ([ACH18, eq. (8)] with d_N = 1)
        self.result = {"w": w, "P": preconditioner(w[None, :], p["depth"]), "depth": p["depth"]}

    def _build(self):
        from matplotlib.patches import FancyArrowPatch

        self.axes = self.figure.subplots(1, 2)
        self.figure.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=0.86, wspace=0.15)
        theta = np.linspace(0, 2 * np.pi, 181)
        self.circle = np.stack([np.cos(theta), np.sin(theta)])
        self.ellipses, self.w_arrows, self.g_arrows, self.Pg_arrows = [], [], [], []
        for ax, title in zip(
            self.axes,
            (r"true size: $P_w g$ for $\|g\| = 1$", r"shape: rescaled by $1 / (N \|w\|^{2-2/N})$"),
            strict=True,
        ):
            ax.plot(*self.circle, color="0.6", ls=":", lw=1, label=r"gradients $g$, $\|g\| = 1$")
            self.ellipses.append(ax.plot([], [], color="C0", lw=2, label=r"$P_w g$")[0])
            for store, color, width, animated in (
                (self.w_arrows, "k", 2.0, False),
                (self.g_arrows, "C1", 1.5, True),
                (self.Pg_arrows, "C0", 1.5, True),
            ):
                arrow = FancyArrowPatch((0, 0), (1, 0), arrowstyle="-|>", mutation_scale=14, color=color, lw=width)
                arrow.set_animated(animated)
                ax.add_patch(arrow)
                store.append(arrow)
            ax.set_aspect("equal")
            ax.set_title(title, fontsize=10)
        self.axes[0].legend(loc="lower left", fontsize=8)
        self.axes[0].xaxis.set_major_locator(MaxNLocator(5))
        self.axes[0].yaxis.set_major_locator(MaxNLocator(5))
        # the rescaled panel shows a shape: no ticks (and no tick layout to redo on every move)
        self.axes[1].set(xticks=[], yticks=[], xlim=(-1.15, 1.15), ylim=(-1.15, 1.15))
        self.animated = [*self.g_arrows, *self.Pg_arrows]

    def _scales(self):
        N, w = self.result["depth"], self.result["w"]
        factor = float(np.linalg.norm(w)) ** (2 - 2 / N)
        return factor, (1.0, 1.0 / (N * factor))

    def _update(self):
        r = self.result
        w, P = r["w"], r["P"]
        image = P @ self.circle
        _, scales = self._scales()
        for ax, ellipse, w_arrow, scale in zip(self.axes, self.ellipses, self.w_arrows, scales, strict=True):
            ellipse.set_data(*(image * scale))
            # the rescaled panel shows the direction of w only
            w_arrow.set_positions((0, 0), tuple(w if ax is self.axes[0] else w / np.linalg.norm(w)))
            if ax is self.axes[0]:
                lim = 1.15 * max(1.0, float(np.abs(image).max()), float(np.linalg.norm(w)))
                ax.set(xlim=(-lim, lim), ylim=(-lim, lim))
        self.figure.suptitle(
            rf"$P_w = \|w\|^{{2-2/N}}(I + (N-1)\hat w \hat w^\top)$ for $N = {r['depth']}$, "
            rf"$\|w\| = {np.linalg.norm(w):.2f}$ (black arrow: $w$)",
            fontsize=10,
        )

    def _update_view(self) -> str:
        r = self.result
        N, w, P = r["depth"], r["w"], r["P"]
        b = math.radians(self.controls["gradient_angle"].value)
        g = np.array([math.cos(b), math.sin(b)])
        Pg = P @ g
        r["g"], r["Pg"] = g, Pg
        factor, scales = self._scales()
        for g_arrow, Pg_arrow, scale in zip(self.g_arrows, self.Pg_arrows, scales, strict=True):
            g_arrow.set_positions((0, 0), tuple(g))
            Pg_arrow.set_positions((0, 0), tuple(Pg * scale))
        # angle between g and P_w g, positive when P_w g is closer to the line of w than g is
        angle = math.degrees(math.atan2(abs(g[0] * Pg[1] - g[1] * Pg[0]), float(g @ Pg)))  # stable near 0
        w_hat = w / np.linalg.norm(w)
        closer = abs(Pg @ w_hat) / np.linalg.norm(Pg) >= abs(g @ w_hat) - 1e-12
        r["turn"] = angle if closer else -angle
        return (
            f"N = {N}: gradients are stretched by N |w|^(2-2/N) = {N * factor:.3g} along w and by "
            f"|w|^(2-2/N) = {factor:.3g} across it; the orange gradient is turned {angle:.1f} deg toward the line of w"
        )


def preconditioner_demo() -> PreconditionerDemo:
    r"""Return the preconditioner demo [ACH18, Section 4 (single output)].

    For one output the end-to-end preconditioner is
    $P_w = \|w\|^{2-2/N} \big(I + (N - 1) \hat w \hat w^\top\big)$: it stretches gradients by
    $N \|w\|^{2-2/N}$ along $w$ and by $\|w\|^{2-2/N}$ across it. Sliders: $\|w\|$, the direction of $w$,
    $N$ and a gradient direction (that last one only moves an arrow).
    """
    return PreconditionerDemo()


# ----------------------------------------------------------------------------------------------------
# 4. Acceleration


@guard
def lp_minimum(loss: LpRegressionLoss, *, iterations: int = 100) -> float:
    r"""Return $\min_W \ell(W)$ for a single-output :class:`lnnlib.LpRegressionLoss` with $p \ge 2$.

    Newton's method from the least-squares solution, with backtracking: the gradient is
    $\frac1m \sum_i |r_i|^{p-2} r_i x_i$ and the Hessian $\frac{p-1}{m} \sum_i |r_i|^{p-2} x_i x_i^\top$
    (convex, so Newton converges to the global minimum).
    """
    if not isinstance(loss, LpRegressionLoss) or loss.shape[0] != 1:
        raise ValueError("lp_minimum needs an LpRegressionLoss with one output")
    if loss.p < 2:
        raise ValueError(f"lp_minimum uses Newton's method, which needs p >= 2; got p = {loss.p}")
    iterations = check_int(iterations, "iterations", low=1, high=10**4, why="Newton's method converges long before")
    X = loss.X
    W = loss.least_squares_solution()
    value = loss.value(W)
    for _ in range(iterations):
        r = loss.residual(W)[:, 0]
        g = loss.gradient(W)[0]
        H = (loss.p - 1) / loss.m * (X.T * np.abs(r) ** (loss.p - 2)) @ X
        try:
            d = np.linalg.solve(H + 1e-14 * np.trace(H) * np.eye(len(g)), g)
        except np.linalg.LinAlgError:
            raise ValueError("the l_p Hessian is singular: the features are linearly dependent") from None
        step = 1.0
        while step > 1e-8:
            trial = W - step * d[None, :]
            new = loss.value(trial)
            if new <= value:
                break
            step /= 2
        else:
            break
        if value - new <= 1e-15 * max(value, 1e-300):
            W, value = trial, new
            break
        W, value = trial, new
    return float(value)


class AccelerationDemo(Demo):
    """Depth, learning rate and p -> l_p loss above its minimum, depth-N network against plain GD."""

    kind = "acceleration"

    def __init__(self, X, y, steps: int, eps: float):
        self.X = as_matrix(X, "the inputs X")
        y = as_array(y, "the targets y", what="vector", empty=True).astype(float, copy=False)
        if y.ndim != 1 or len(y) != self.X.shape[0]:
            raise ValueError(f"y must hold one target per row of X ({self.X.shape[0]}); got shape {y.shape}")
        self.y = y
        self.steps = steps
        self.eps = eps
        self._minimum: dict[float, float] = {}
        controls = {
            "depth": _int_slider("depth N", 2, 2, 4),
            "lr": _log_slider("learning rate", 10**-1, -2, -0.5, step=0.25, fmt=".3f"),
            "p": widgets.Dropdown(options=[("l4 loss", 4), ("l2 loss", 2)], value=4, description="loss"),
        }
        super().__init__(controls, figsize=(7.5, 4.0))

    def loss(self, p: float) -> LpRegressionLoss:
        return LpRegressionLoss(self.X, self.y, p=p)

    def minimum(self, p: float) -> float:
        p = check_real(p, "p")
        if p not in self._minimum:
            self._minimum[p] = lp_minimum(self.loss(p))
        return self._minimum[p]

    def _run(self, depth: int, lr: float, p: float, progress: Callable[[float], None]) -> dict[str, Any]:
        # the linear model w starts at 0; deeper: w = w_1 * omega_2 ... omega_N with scalars omega = 1
        # [ACH18, Section 7], so all depths start from the same end-to-end model
        layers = [np.zeros((1, self.X.shape[1]))] + [np.ones((1, 1)) for _ in range(depth - 1)]
        X, y, m = self.X, self.y[:, None], self.X.shape[0]

        def loss_and_gradient(W):
            R = X @ W.T - y
            A = np.abs(R)
            return float(np.sum(A**p)) / (p * m), (np.sign(R) * A ** (p - 1)).T @ X / m

        _, losses, diverged = _descend(
            layers,
            loss_and_gradient,
            lr,
            self.steps,
            record_every=max(1, self.steps // 20),
            record=lambda *args: None,
            progress=progress,
        )
        return {"loss": losses, "diverged": diverged}

    def _compute(self):
        p = self.params()
        lr = float(p["lr"])
        gd = self.cache.get(
            ("gd", lr, p["p"]), lambda: self._run(1, lr, p["p"], lambda f: self._report_progress(f / 2))
        )
        deep = self.cache.get(
            ("deep", p["depth"], lr, p["p"]),
            lambda: self._run(p["depth"], lr, p["p"], lambda f: self._report_progress(0.5 + f / 2)),
        )
        self.result = {"gd": gd, "deep": deep, "minimum": self.minimum(p["p"])}

    def reach(self, values: np.ndarray) -> int | None:
        """Return the first step at which the loss is within ``eps`` of its minimum (``None``: never)."""
        values = as_array(values, "values (the losses along a run)", ndim=1, what="vector")
        hit = np.flatnonzero(values - self.result["minimum"] <= self.eps)
        return int(hit[0]) if hit.size else None

    def _build(self):
        self.ax = self.figure.subplots()
        self.figure.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.9)
        # limits before any artist: an empty log axis cannot autoscale
        self.ax.set(yscale="log", xlim=(0, self.steps), ylim=(1e-8, 1.0))
        self.ax.set(xlabel="step", ylabel=r"$\ell(w) - \min \ell$")
        (self.gd_line,) = self.ax.plot([], [], color="C0", label="GD, linear model")
        (self.deep_line,) = self.ax.plot([], [], color="C3", label="depth N")
        self.ax.axhline(self.eps, color="0.5", ls=":", lw=1)

    def _update(self):
        r = self.result
        p = self.params()
        gaps = []
        for line, run in ((self.gd_line, r["gd"]), (self.deep_line, r["deep"])):
            gap = np.maximum(run["loss"] - r["minimum"], 1e-16)
            line.set_data(np.arange(len(gap)), gap)
            gaps.append(gap)
        self.deep_line.set_label(f"depth {p['depth']}")
        self.ax.legend(loc="upper right", fontsize=9)
        _set_log_ylim(self.ax, *gaps, [self.eps])
        self.ax.set_title(f"l{p['p']} regression, same learning rate {p['lr']:.3f} for both", fontsize=10)

    def _update_view(self) -> str:
        r = self.result
        parts = []
        for name, run in (("GD, linear model", r["gd"]), (f"depth {self.controls['depth'].value}", r["deep"])):
            hit = self.reach(run["loss"])
            if run["diverged"] is not None:
                parts.append(f"{name}: diverged after step {run['diverged']}")
            elif hit is None:
                parts.append(f"{name}: not within {self.eps:.0e} of the minimum in {self.steps} steps")
            else:
                parts.append(f"{name}: within {self.eps:.0e} of the minimum at step {hit}")
        return "; ".join(parts)


def acceleration_demo(X=None, y=None, *, steps: int = 2000, eps: float = 1e-4) -> AccelerationDemo:
    r"""Return the acceleration demo [ACH18, Section 7]: $\ell_p$ regression, depth-$N$ network vs GD.

    The depth-$N$ model is $w = \omega_N \cdots \omega_2 \, w_1$ (one extra scalar per layer, as in the
    paper's experiment) and both models start at $w = 0$. The figure shows $\ell(w) - \min\ell$ over
    ``steps`` steps of gradient descent at the same learning rate. Default data: scikit-learn's
    ``load_diabetes``, features and target standardized (442 examples, 10 features).
    """
    if X is None and y is None:
        from sklearn.datasets import load_diabetes  # ships with scikit-learn: no download

        X, y = load_diabetes(return_X_y=True)
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        y = (y - y.mean()) / y.std()
    elif X is None or y is None:
        raise ValueError("give both X and y, or neither (then the diabetes data set is used)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    steps = check_int(steps, "steps", low=1, high=_MAX_DEMO_STEPS, why="a demo must answer a slider at once")
    eps = check_positive(eps, "eps")
    return AccelerationDemo(X, y, steps, eps)
