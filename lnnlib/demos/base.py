r"""The lecture demos' base: a :class:`Demo` is controls, a progress bar with a status line, and a figure.

Design choices, all for a lecturer who moves a slider while talking:

- the figure is a matplotlib ``Figure`` drawn off-screen (Agg) and shown as a PNG in an
  ``ipywidgets.Image``: no pyplot state, no dependence on the kernel's matplotlib backend, no figure
  leaking into the cell's own output, no flicker;
- a training run is computed once per parameter set and kept in a small cache; a move to a setting
  already computed redraws from it; sliders that only select what is shown (a training step, a gradient
  direction) move animated artists over the stored picture (blitting), without any training;
- a move that needs a new run answers at once (status line and progress bar) and trains in a worker
  thread, which streams the run so far every ``FRAME_INTERVAL`` seconds; a second move during training
  abandons the stale run and starts the new one (``set`` and ``sweep``, for scripts, compute in the
  caller's thread);
- sliders whose move costs training use ``continuous_update=False``; scales and learning rates use
  ``FloatLogSlider``;
- a value that makes no sense is refused: the control goes back to its previous value and the status line
  says why; a run that diverges is reported in the status line, never as a traceback.
"""

from __future__ import annotations

import html
import io
import math
import numbers
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator
from threadpoolctl import threadpool_limits

from ..train import Stopped

__all__ = ["Demo"]

FIGURE_DPI = 80  # PNG resolution: sharp on a projector, and rendered in a few tens of ms
CACHE_SIZE = 48  # training runs kept per demo (each a few hundred kB at most)
BACKGROUND_CACHE_SIZE = 16  # rendered figures kept per demo (about 1 MB each, RGBA)
GAP_FLOOR = 1e-16  # exact zeros on a log axis are drawn at this level
TRAINING_THREAD = "lnnlib-demo-training"  # the worker threads' name (tests wait for them)
FRAME_INTERVAL = 0.12  # s between two partial frames of a run training in the background
MAX_DEMO_SIZE = 200  # matrix side or layer width of a demo: each slider move retrains in well under a second
MAX_DEMO_STEPS = 100_000


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

    def put(self, key, value) -> None:
        """Store a run computed elsewhere (in the background): it counts as a miss."""
        self.misses += 1
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.size:
            self._data.popitem(last=False)

    def __contains__(self, key) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)


class Demo(widgets.VBox):
    """A lecture demo: controls, a progress bar and status line, and a figure shown as a PNG image.

    Subclasses set ``view_only`` (names of controls that only select what is drawn) and implement
    ``_build`` (create the axes and artists once; artists that view-only controls move are created with
    ``animated=True`` and listed in ``self.animated``), ``_update`` (put ``self.result`` into the
    artists) and ``_update_view`` (move the animated artists; return the status text), and either
    ``_runs(p)`` and ``_assemble(p, runs, final)`` (a demo that trains: the runs a setting needs, and
    ``self.result`` from them, partial runs included) or ``_compute`` (a demo that only computes), and
    optionally ``_refuse(name, value)`` (a reason to refuse a value, or ``None``).

    A view-only change restores the rendered background and draws only the animated artists (blitting):
    no training, no axis layout, just the cursor and the PNG encoding. A change that needs a run not in
    the cache answers at once in the status line (``data-state="training"``) and trains in a worker
    thread, which sends the run so far every ``FRAME_INTERVAL`` seconds and the final picture
    (``data-state="done"``) at its end; a later move abandons it (:class:`lnnlib.train.Stopped`).

    Attributes
    ----------
    controls : dict of name -> widget, the sliders and menus.
    result : dict, what the last computation produced (the data the figure shows).
    figure : matplotlib Figure drawn off-screen; ``image.value`` holds it as PNG bytes.
    status : HTML widget, what the figure shows or why a value was refused.
    progress : FloatProgress widget, visible while a training run is computed.
    cache : the training runs computed so far (``cache.misses`` counts the runs).
    background : bool, whether slider moves train in a worker thread (``set``/``sweep`` never do).
    training : bool, whether a run is training in the background; ``wait()`` waits for it.
    redraw_seconds : float, wall time of the last update (computation, if any, plus drawing).
    first_response_seconds : float, time from the last training move to its status line.
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
        self.background = True  # slider moves that must train do so in a worker thread
        self._sync = False  # set/sweep: compute in the caller's thread
        self._lock = threading.RLock()  # one thread draws at a time
        self._generation = 0  # bumped by every move that needs a new run; a stale worker stops
        self._thread: threading.Thread | None = None
        self.first_response_seconds = math.nan
        self._build()
        _freeze_layout(self.figure)
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
        self.wait()
        self._generation += 1  # a run still training in the background is abandoned
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
        self.wait()
        original = control.value
        results = {}
        self._sync = True
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
            self._sync = False
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
            if self.background and not self._sync:
                self._move(name)
            else:
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
                    # the status line first (a few ms): the new numbers show while the figure is drawn
                    self._message(self._update_view(), state="drawing")
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

    # ---- training in the background ------------------------------------------------------------------

    def _runs(self, p: dict[str, Any]) -> list[tuple[Any, Callable]]:
        """The training runs the picture for controls ``p`` needs: ``(cache key, train)`` pairs, where
        ``train(monitor)`` returns the run and calls ``monitor(fraction, partial_run)`` as it goes."""
        return []

    def _assemble(self, p: dict[str, Any], runs: dict, final: bool) -> None:
        """Fill ``self.result`` from the runs (``None``: not started; partial runs while training)."""
        raise NotImplementedError  # pragma: no cover - demos that train implement it

    def _compute(self) -> None:
        """Fill ``self.result`` for the current controls, training (in this thread) what is not cached."""
        p = self.params()
        runs = {}
        for key, train in self._runs(p):
            runs[key] = self.cache.get(key, lambda train=train: train(lambda f, _: self._report_progress(f)))
        self._assemble(p, runs, final=True)

    def wait(self) -> None:
        """Wait until the run training in the background (if any) has finished and been drawn."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    @property
    def training(self) -> bool:
        """Whether a run is training in the background."""
        return self._thread is not None and self._thread.is_alive()

    def _move(self, name: str) -> None:
        """A control moved in the browser: redraw from the cache at once, or answer at once (status line
        and progress bar) and train in a worker thread that streams the run so far."""
        start = time.perf_counter()
        if name in self.view_only:
            if self.training:  # the finished run is drawn at the slider's value then
                return
            with self._lock:
                self.refresh(changed=name)
            return
        p = self.params()
        needed = self._runs(p)
        if all(key in self.cache for key, _ in needed):
            self._generation += 1  # a run still training for an older setting is abandoned
            with self._lock:
                self.refresh(changed=name)
            return
        self._generation += 1
        generation = self._generation
        self._background = None
        self._report_progress(0.0)
        self._message(f"training: {self._describe(p)}", state="training")
        self.first_response_seconds = time.perf_counter() - start
        self._thread = threading.Thread(
            target=self._train_in_background, args=(generation, p, needed, start), daemon=True, name=TRAINING_THREAD
        )
        self._thread.start()

    def _describe(self, p: dict[str, Any]) -> str:
        return ", ".join(
            f"{name} {value:.3g}" if isinstance(value, float) else f"{name} {value}"
            for name, value in p.items()
            if name not in self.view_only
        )

    def _train_in_background(self, generation: int, p: dict[str, Any], needed, start: float) -> None:
        runs: dict = {key: self.cache.peek(key) for key, _ in needed}
        last_frame = [time.perf_counter()]

        def stale() -> bool:
            return generation != self._generation

        try:
            with threadpool_limits(1, "blas"):  # small matrices: threads cost more than they give
                for i, (key, train) in enumerate(needed):
                    if runs[key] is not None:
                        continue

                    def monitor(fraction, partial, key=key, i=i):
                        if stale():
                            raise Stopped
                        total = (i + fraction) / len(needed)
                        now = time.perf_counter()
                        if now - last_frame[0] < FRAME_INTERVAL:
                            return
                        with self._lock:
                            if stale():
                                raise Stopped
                            self._assemble(p, {**runs, key: partial}, final=False)
                            self._update()
                            self.canvas.draw()
                            self.image.value = self._png()
                            self.frames += 1
                            self._report_progress(total)
                            self._message(
                                f"training: {self._describe(p)} ({total:.0%}, the run so far)", state="training"
                            )
                        last_frame[0] = time.perf_counter()

                    runs[key] = train(monitor)
                    self.cache.put(key, runs[key])
            with self._lock:
                if stale():
                    return
                self._refresh_once(None)  # every run is cached now: the final picture
                self.redraw_seconds = time.perf_counter() - start
        except Stopped:
            return
        except (ValueError, FloatingPointError) as exc:
            with self._lock:
                if not stale():
                    self.progress.layout.visibility = "hidden"
                    self._message(str(exc), error=True)
        except Exception as exc:  # a lecture must never show a traceback
            with self._lock:
                if not stale():
                    self.progress.layout.visibility = "hidden"
                    self._message(f"internal error ({type(exc).__name__}: {exc}); please report it", error=True)

    def _figure_key(self) -> tuple:
        """The values of the controls that the static part of the figure depends on."""
        return tuple((name, c.value) for name, c in self.controls.items() if name not in self.view_only)

    def _png(self) -> bytes:
        width, height = self.canvas.get_width_height()
        rgba = PIL.Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        rgba.save(buffer, format="png", compress_level=1)  # fast: the image goes over a local socket
        return buffer.getvalue()

    def _message(self, text: str, error: bool = False, state: str = "done") -> None:
        self._status_text, self._failed = text, error
        color = "#b00020" if error else "#333333"
        # data-frame counts the figures sent, data-state says whether the picture is final: the browser
        # test waits for them
        self.status.value = (
            f'<span data-frame="{self.frames}" data-state="{state}" style="color:{color}">{html.escape(text)}</span>'
        )

    def _report_progress(self, fraction: float) -> None:
        self.progress.layout.visibility = "visible"
        self.progress.value = float(min(max(fraction, 0.0), 1.0))

    def _build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update_view(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _freeze_layout(figure) -> None:
    """Fix what matplotlib would otherwise re-measure on every draw: no minor ticks on log axes (each
    one is a text extent to measure), titles and axis labels at fixed positions. Halves a full redraw
    (about 190 ms to 80 ms for demo 1 on the reference machine)."""
    for ax in figure.axes:
        if ax.get_yscale() == "log":
            ax.yaxis.set_minor_locator(NullLocator())
        ax.title.set_y(1.0)  # an explicit position: no search for overlapping tick labels
        ax._autotitlepos = False  # (matplotlib's flag for the same; set_y alone keeps searching)
        if ax.get_xlabel():
            ax.xaxis.set_label_coords(0.5, -0.1)
        if ax.get_ylabel():
            ax.yaxis.set_label_coords(-0.14, 0.5)


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
