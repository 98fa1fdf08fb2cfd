r"""Demo 4, acceleration by depth: depth, learning rate and p -> l_p loss above its minimum, deep vs linear."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from .._validation import as_array, as_matrix, check_int, check_positive, check_real
from ..acceleration import lp_minimum
from ..losses import LpRegressionLoss
from ..train import descend_layers
from .base import MAX_DEMO_STEPS, Demo, _int_slider, _log_slider, _set_log_ylim

__all__ = ["acceleration_demo"]


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

    def _run(self, depth: int, lr: float, p: float, monitor=None) -> dict[str, Any]:
        # the linear model w starts at 0; deeper: w = w_1 * omega_2 ... omega_N with scalars omega = 1
        # [ACH18]'s experiment, so all depths start from the same end-to-end model
        layers = [np.zeros((1, self.X.shape[1]))] + [np.ones((1, 1)) for _ in range(depth - 1)]
        X, y, m = self.X, self.y[:, None], self.X.shape[0]
        recorded = []

        def loss_and_gradient(W):
            R = X @ W.T - y
            A = np.abs(R)
            return float(np.sum(A**p)) / (p * m), (np.sign(R) * A ** (p - 1)).T @ X / m

        def record(t, layers, W, value):
            recorded.append(value)

        def progress(fraction):
            if monitor is not None:
                monitor(fraction, {"loss": np.array(recorded), "every": every, "diverged": None})

        every = max(1, self.steps // 40)
        _, losses, diverged = descend_layers(
            layers, loss_and_gradient, lr, self.steps, record_every=every, record=record, progress=progress
        )
        return {"loss": losses, "every": 1, "diverged": diverged}

    def _runs(self, p):
        lr = float(p["lr"])
        return [
            (("gd", lr, p["p"]), lambda monitor: self._run(1, lr, p["p"], monitor)),
            (("deep", p["depth"], lr, p["p"]), lambda monitor: self._run(p["depth"], lr, p["p"], monitor)),
        ]

    def _assemble(self, p, runs, final):
        gd, deep = runs.values()
        empty = {"loss": np.array([]), "every": 1, "diverged": None}
        self.result = {"gd": gd or empty, "deep": deep or empty, "minimum": self.minimum(p["p"])}

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
            line.set_data(run["every"] * np.arange(len(gap)), gap)
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
    r"""Return the acceleration demo: $\ell_p$ regression, a depth-$N$ network against GD on the linear model.

    The depth-$N$ model is $w = \omega_N \cdots \omega_2 \, w_1$ (one extra scalar per layer, as in
    [ACH18]'s experiment) and both models start at $w = 0$. The figure shows $\ell(w) - \min\ell$ over
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
    steps = check_int(steps, "steps", low=1, high=MAX_DEMO_STEPS, why="a demo must answer a slider at once")
    eps = check_positive(eps, "eps")
    return AccelerationDemo(X, y, steps, eps)
