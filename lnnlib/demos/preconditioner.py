r"""Demo 3, the preconditioner of a single-output network: |w|, its direction, N and a gradient -> P_w g."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import MaxNLocator

from ..dynamics import preconditioner
from .base import Demo, _int_slider, _log_slider

__all__ = ["preconditioner_demo"]


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
        # one output: W = w^T is 1 x 2 and P_W is 2 x 2 (the end-to-end preconditioner of [ACH18] with d_N = 1)
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
    r"""Return the preconditioner demo (the single-output preconditioner of [ACH18]).

    For one output the end-to-end preconditioner is
    $P_w = \|w\|^{2-2/N} \big(I + (N - 1) \hat w \hat w^\top\big)$: it stretches gradients by
    $N \|w\|^{2-2/N}$ along $w$ and by $\|w\|^{2-2/N}$ across it. Sliders: $\|w\|$, the direction of $w$,
    $N$ and a gradient direction (that last one only moves an arrow).
    """
    return PreconditionerDemo()
