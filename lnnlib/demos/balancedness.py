r"""Demo 2, balancedness: init, init scale, step size and depth -> balancedness gaps over training."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from .._validation import as_rng, check_choice, check_depth, check_int, check_seed
from ..init import balanced_init, gaussian_init, identity_init, near_zero_init
from ..network import balancedness_gaps
from ..train import descend_layers
from .base import GAP_FLOOR, MAX_DEMO_SIZE, MAX_DEMO_STEPS, Demo, _int_slider, _log_slider, _set_log_ylim

__all__ = ["balancedness_demo"]


INITS = ("near-zero Gaussian", "identity", "layer-wise Gaussian", "balanced")


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

    def _runs(self, p):
        key = (p["init"], float(p["scale"]), float(p["lr"]), p["depth"])
        return [(key, lambda monitor: self._train(p, monitor))]

    def _assemble(self, p, runs, final):
        (self.result,) = runs.values()

    def _train(self, p, monitor=None) -> dict[str, Any]:
        layers = self.initial_weights(p["init"], p["scale"], p["depth"])
        Phi = self.target
        steps, gaps, recorded = [], [], []

        def loss_and_gradient(W):
            D = W - Phi
            return 0.5 * float(np.sum(D * D)), D

        def record(t, layers, W, value):
            steps.append(t)
            gaps.append(balancedness_gaps(layers))
            recorded.append(value)

        def progress(fraction):
            if monitor is not None:
                monitor(
                    fraction,
                    {
                        "steps": np.array(steps),
                        "gaps": np.array(gaps),
                        "loss": np.array(recorded),
                        "loss_steps": np.array(steps),
                        "diverged": None,
                    },
                )

        _, losses, diverged = descend_layers(
            layers, loss_and_gradient, p["lr"], self.steps, record_every=10, record=record, progress=progress
        )
        if len(steps) < 2:
            raise FloatingPointError(
                f"gradient descent diverged at step {diverged} with step size {p['lr']:.3g} and {p['init']} init "
                f"of scale {p['scale']:.3g}: lower the step size or the scale"
            )
        text = None if diverged is None else f"diverged at step {diverged} (lower the step size or the scale)"
        return {
            "steps": np.array(steps),
            "gaps": np.array(gaps),
            "loss": losses,
            "loss_steps": np.arange(len(losses)),
            "diverged": text,
        }

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
        self.loss_line.set_data(r["loss_steps"], r["loss"])
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
    r"""Return the balancedness demo (the invariant of [ACH18], the balancedness of [ACGH19]).

    Gradient descent on $\frac12 \|W_N \cdots W_1 - \Phi\|_F^2$ with square ``width`` x ``width`` layers
    and a Gaussian target $\Phi$. The figure shows the gaps $\|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F$
    over training: gradient flow keeps them fixed, gradient descent lets them drift by $O(\eta)$ over a
    fixed time.
    """
    for value, name in ((width, "width"), (steps, "steps")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    width = check_int(width, "width", low=1, high=MAX_DEMO_SIZE, why="a demo must answer a slider at once")
    steps = check_int(steps, "steps", low=1, high=MAX_DEMO_STEPS, why="a demo must answer a slider at once")
    return BalancednessDemo(width, check_seed(seed), steps)
