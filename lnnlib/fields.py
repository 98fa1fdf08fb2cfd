r"""The single-output end-to-end field, numerically: preconditioner, curl, loop integrals, pictures.

With one output ($d_N = 1$) the end-to-end matrix is a row $w^\top$ and the end-to-end dynamics of
[ACH18] (single-output case of the end-to-end dynamics) read $\dot w = -F(w)$ with

$$F(w) = P_w \nabla\ell(w) = \|w\|^{2 - \frac2N}\Big(\nabla\ell(w) + (N-1)\,\langle \nabla\ell(w), \hat w\rangle\,
\hat w\Big), \qquad P_w = \|w\|^{2 - \frac2N}\big(I + (N-1)\,\hat w \hat w^\top\big),$$

$\hat w = w / \|w\|$. The lecture states ([ACH18]) that for $\nabla\ell(0) \ne 0$ the field is not the gradient
of any function; notebook 04 shows it for $N \ge 3$ (an integral around a closed loop is not zero) and that
at $N \le 2$ linear losses do give gradient fields.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validation import as_array, check_axes, check_depth, check_flag, check_int, check_positive, field_values, guard
from .network import end_to_end, layer_gradients

__all__ = [
    "layerwise_end_to_end_velocity",
    "single_output_field",
    "single_output_preconditioner",
    "numeric_curl",
    "annular_sector_path",
    "loop_integral",
    "circle_loop_integral",
    "linear_loss_loop_integral",
    "plot_field",
    "plot_curl",
    "plot_preconditioner_action",
]


@guard
def layerwise_end_to_end_velocity(weights, grad) -> np.ndarray:
    r"""Return $\dot W = \sum_{j=1}^N W_N \cdots W_{j+1} \, \dot W_j \, W_{j-1} \cdots W_1$ with
    $\dot W_j = -\partial\phi/\partial W_j$: the true velocity of the end-to-end matrix under gradient flow
    over the layers (product rule), with no balancedness assumed (the first step of the implicit
    preconditioning proof, [ACH18]).

    Compare with ``-lnnlib.preconditioned_gradient(W, grad, N)``, which equals it on balanced weights.
    """
    grads = layer_gradients(weights, grad)
    layers = [np.asarray(Wj, dtype=float) for Wj in weights]
    d_out, d_in = layers[-1].shape[0], layers[0].shape[1]
    total = np.zeros((d_out, d_in))
    for j, g in enumerate(grads):
        after = end_to_end(layers[j + 1 :]) if j + 1 < len(layers) else np.eye(d_out)
        before = end_to_end(layers[:j]) if j > 0 else np.eye(d_in)
        total -= after @ g @ before
    return total


def _as_points(w, name: str = "w") -> np.ndarray:
    A = as_array(w, name, what="vector (or an array of vectors)", empty=True).astype(float, copy=False)
    if A.ndim == 0 or A.shape[-1] == 0:
        raise ValueError(f"{name} must be a vector with at least one entry (last axis); got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must have finite entries")
    return A


@guard
def single_output_field(w, grad, depth: int) -> np.ndarray:
    r"""Return $F(w) = \|w\|^{2-2/N}\big(g + (N-1)\langle g, \hat w\rangle \hat w\big)$ with $g$ = ``grad``.

    The end-to-end velocity $-\dot w$ of a depth-$N$ single-output network under gradient flow from
    balanced weights [ACH18, single-output case]. Vectorized: ``w`` and ``grad`` of shape ``(..., d)``. At $w = 0$
    the field is $g$ for $N = 1$ and $0$ for $N \ge 2$ (its limit: the factor $\|w\|^{2-2/N} \to 0$).
    """
    w = _as_points(w)
    g = _as_points(grad, "grad")
    if g.shape != w.shape:
        raise ValueError(f"grad must have the shape of w, {w.shape}; got {g.shape}")
    N = check_depth(depth)
    r = np.linalg.norm(w, axis=-1, keepdims=True)
    safe = np.where(r > 0, r, 1.0)
    w_hat = w / safe
    along = np.sum(g * w_hat, axis=-1, keepdims=True)
    F = r ** (2.0 - 2.0 / N) * (g + (N - 1) * along * w_hat)
    return np.where(r > 0, F, g if N == 1 else 0.0)


@guard
def single_output_preconditioner(w, depth: int) -> np.ndarray:
    r"""Return $P_w = \|w\|^{2-2/N}\big(I + (N-1)\,\hat w \hat w^\top\big)$, the $d \times d$ preconditioner of a
    single-output network [ACH18, single-output case]; $P_0 = I$ for $N = 1$ and $0$ for $N \ge 2$.

    It equals ``lnnlib.preconditioner(w[None, :], N)``: the general $P_W$ at $W = w^\top$.
    """
    w = _as_points(w)
    if w.ndim != 1:
        raise ValueError(f"w must be one vector (shape (d,)); got shape {w.shape}")
    N = check_depth(depth)
    d = w.size
    r = float(np.linalg.norm(w))
    if r == 0:
        return np.eye(d) if N == 1 else np.zeros((d, d))
    w_hat = w / r
    return r ** (2.0 - 2.0 / N) * (np.eye(d) + (N - 1) * np.outer(w_hat, w_hat))


def _check_field_fn(field) -> None:
    if not callable(field):
        raise ValueError(
            f"field must be a function mapping points (..., 2) to vectors (..., 2); got {type(field).__name__}"
        )


@guard
def numeric_curl(field: Callable, points, h: float = 1e-5) -> np.ndarray:
    r"""Return $\partial F_2/\partial w_1 - \partial F_1/\partial w_2$ by central differences with step ``h``.

    ``field`` maps an array of points of shape ``(..., 2)`` to the field there; ``points`` has shape
    ``(..., 2)``; the result has shape ``points.shape[:-1]``. Error $O(h^2)$ plus rounding $O(\epsilon/h)$.
    """
    _check_field_fn(field)
    P = _as_points(points, "points")
    if P.shape[-1] != 2:
        raise ValueError(f"the curl is computed in the plane: points need 2 coordinates; got shape {P.shape}")
    h = check_positive(h, "the step h")
    e1, e2 = np.array([h, 0.0]), np.array([0.0, h])
    dF2_dw1 = (field_values(field, P + e1)[..., 1] - field_values(field, P - e1)[..., 1]) / (2 * h)
    dF1_dw2 = (field_values(field, P + e2)[..., 0] - field_values(field, P - e2)[..., 0]) / (2 * h)
    return dF2_dw1 - dF1_dw2


def _check_sector(alpha, r_inner, r_outer):
    r_inner = check_positive(r_inner, "the inner radius r_inner")
    r_outer = check_positive(r_outer, "the outer radius r_outer")
    if r_inner >= r_outer:
        raise ValueError(f"the annular sector needs r_inner < r_outer; got {r_inner} and {r_outer}")
    alpha = check_positive(alpha, "the sector's angle alpha")
    if alpha >= 2 * np.pi:
        raise ValueError(f"the sector's angle alpha must lie in (0, 2 pi); got {alpha}")
    return alpha, r_inner, r_outer


def annular_sector_path(alpha: float, r_inner: float = 1.0, r_outer: float = 2.0, n: int = 100) -> np.ndarray:
    r"""Return the closed loop around the annular sector as an ``(4 n + 1, 2)`` polyline, counter-clockwise:
    radially out at angle 0, outer arc to angle $\alpha$, radially in, inner arc back."""
    alpha, r_inner, r_outer = _check_sector(alpha, r_inner, r_outer)
    n = check_int(n, "n (points per leg)", low=2, high=10**6, why="a polyline needs no more points")
    s = np.linspace(0.0, 1.0, n, endpoint=False)
    radii = r_inner + (r_outer - r_inner) * s
    legs = [
        np.stack([radii, np.zeros(n)], axis=1),
        r_outer * np.stack([np.cos(alpha * s), np.sin(alpha * s)], axis=1),
        (r_outer - (r_outer - r_inner) * s)[:, None] * np.array([np.cos(alpha), np.sin(alpha)]),
        r_inner * np.stack([np.cos(alpha * (1 - s)), np.sin(alpha * (1 - s))], axis=1),
    ]
    return np.vstack(legs + [legs[0][:1]])


@guard
def loop_integral(field: Callable, alpha: float, r_inner: float = 1.0, r_outer: float = 2.0, nodes: int = 64) -> float:
    r"""Return $\oint F \cdot dw$ around the annular sector by Gauss-Legendre quadrature on each leg.

    The loop is that of :func:`annular_sector_path`. In polar coordinates the radial legs contribute
    $\int F\cdot\hat w \, dr$ and the arcs $\int F\cdot\hat\theta \, r\, d\theta$; with ``nodes`` points per
    leg the rule is exact for polynomials of degree $2\,\mathrm{nodes} - 1$, so smooth fields converge to
    rounding error.
    """
    _check_field_fn(field)
    alpha, r_inner, r_outer = _check_sector(alpha, r_inner, r_outer)
    nodes = check_int(nodes, "nodes", low=1, high=1000, why="Gauss-Legendre rules beyond that cost seconds to build")
    x, wts = np.polynomial.legendre.leggauss(int(nodes))
    u = (x + 1) / 2  # nodes on [0, 1], weights wts / 2

    def radial(theta):
        direction = np.array([np.cos(theta), np.sin(theta)])
        r = r_inner + (r_outer - r_inner) * u
        F = field_values(field, r[:, None] * direction)
        return (r_outer - r_inner) / 2 * float(np.sum(wts * (F @ direction)))

    def arc(radius):
        theta = alpha * u
        tangent = np.stack([-np.sin(theta), np.cos(theta)], axis=1)
        F = field_values(field, radius * np.stack([np.cos(theta), np.sin(theta)], axis=1))
        return alpha / 2 * radius * float(np.sum(wts * np.sum(F * tangent, axis=1)))

    return radial(0.0) + arc(r_outer) - radial(alpha) - arc(r_inner)


@guard
def circle_loop_integral(field: Callable, radius: float, centre=(0.0, 0.0), nodes: int = 128) -> float:
    r"""Return $\oint F \cdot dw$ counter-clockwise around the circle of the given ``radius`` and ``centre``
    (trapezoidal rule in the angle, spectrally accurate for smooth periodic integrands).

    Centred at the origin this is zero for the single-output field and *every* loss: on such a circle
    only the tangential part $\|w\|^{2-2/N} \partial_\theta \ell / \|w\|$ of $F$ counts, and
    $\oint \partial_\theta \ell \, d\theta = 0$. Off-centre circles do detect the curl.
    """
    _check_field_fn(field)
    radius = check_positive(radius, "radius")
    c = _as_points(centre, "centre")
    if c.shape != (2,):
        raise ValueError(f"centre must be a point in the plane (shape (2,)); got shape {c.shape}")
    nodes = check_int(nodes, "nodes", low=3, high=10**6, why="the trapezoidal rule is spectrally accurate long before")
    theta = 2 * np.pi * np.arange(nodes) / nodes
    unit = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    tangent = np.stack([-np.sin(theta), np.cos(theta)], axis=1)
    F = field_values(field, c + radius * unit)
    return float(2 * np.pi / nodes * radius * np.sum(F * tangent))


@guard
def linear_loss_loop_integral(a, depth: int, alpha: float, r_inner: float = 1.0, r_outer: float = 2.0) -> float:
    r"""Return the closed form of the loop integral for the linear loss $\ell(w) = \langle a, w\rangle$:

    $$\oint F\cdot dw = \frac{(N-1)(N-2)}{3N-2}\,\big(r_{out}^{3-2/N} - r_{in}^{3-2/N}\big)
    \big(a_1 (1 - \cos\alpha) - a_2 \sin\alpha\big),$$

    derived with sympy in notebook 04 (the loop that shows no regularizer emulates depth). Zero for
    $N = 1, 2$; nonzero for $N \ge 3$ unless the bracket vanishes.
    """
    a = _as_points(a, "a")
    if a.shape != (2,):
        raise ValueError(f"a must be a vector in the plane (shape (2,)); got shape {a.shape}")
    N = check_depth(depth)
    alpha, r_inner, r_outer = _check_sector(alpha, r_inner, r_outer)
    k = 3.0 - 2.0 / N
    return (
        (N - 1)
        * (N - 2)
        / (3 * N - 2)
        * (r_outer**k - r_inner**k)
        * (a[0] * (1 - np.cos(alpha)) - a[1] * np.sin(alpha))
    )


def _draw_loop(ax, loop, color: str = "crimson") -> None:
    """Draw the annular-sector loop ``(alpha, r_inner, r_outer)`` with arrows showing its orientation."""
    if loop is None:
        return
    path = annular_sector_path(*loop)
    ax.plot(path[:, 0], path[:, 1], color=color, lw=2, label="loop")
    m = len(path) // 4
    for k in range(4):
        i = k * m + m // 2
        ax.annotate("", xy=path[i + 1], xytext=path[i - 1], arrowprops={"arrowstyle": "-|>", "color": color, "lw": 2})


def _frame_plane(ax, extent: float, title: str | None):
    """Mark the origin, make the (w_1, w_2) square [-extent, extent]^2 with labelled axes, set the title."""
    ax.plot(0, 0, "k+", ms=8)
    ax.set_aspect("equal")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_field(ax, field: Callable, extent: float = 2.5, n: int = 21, *, loop=None, title: str | None = None):
    r"""Draw the direction of $-F$ (the flow) on an $n \times n$ grid of $[-\mathrm{extent}, \mathrm{extent}]^2$,
    arrows normalized and coloured by $\log_{10}\|F\|$; optionally the loop ``(alpha, r_inner, r_outer)``
    of :func:`annular_sector_path` drawn with arrows showing its orientation. Returns ``ax``."""
    check_axes(ax)
    _check_field_fn(field)
    extent = check_positive(extent, "extent")
    if extent > 1e150:
        raise ValueError(f"extent = {extent:g} is too large to draw (at most 1e150)")
    n = check_int(n, "n (grid points per axis)", low=2, high=1000, why="more arrows than a figure can show")
    if loop is not None and (isinstance(loop, (str, bytes)) or np.ndim(loop) != 1 or len(loop) != 3):
        raise ValueError(f"loop must be (alpha, r_inner, r_outer), the sector of annular_sector_path; got {loop!r}")
    g = np.linspace(-extent, extent, n)
    X, Y = np.meshgrid(g, g)
    F = -field_values(field, np.stack([X, Y], axis=-1))
    size = np.linalg.norm(F, axis=-1)
    unit = F / np.where(size > 0, size, 1.0)[..., None]
    colour = np.log10(np.where(size > 0, size, np.nan))
    ax.quiver(X, Y, unit[..., 0], unit[..., 1], colour, cmap="viridis", pivot="mid", scale=n * 1.3, width=0.004)
    _draw_loop(ax, loop)
    return _frame_plane(ax, extent, title)


def plot_curl(
    ax,
    field: Callable,
    extent: float = 2.5,
    n: int = 120,
    *,
    vmax: float | None = None,
    loop=None,
    flow: bool = True,
    title: str | None = None,
):
    r"""Draw $\mathrm{curl}\,F = \partial_1 F_2 - \partial_2 F_1$ (:func:`numeric_curl`) as a heat map; return ``ax``.

    The curl is evaluated at the centres of an $n \times n$ grid of cells covering
    $[-\mathrm{extent}, \mathrm{extent}]^2$ (for even $n$ the origin, where $F$ may not be differentiable, is
    a cell corner, not a centre), on a diverging colour scale symmetric about 0 from $-$``vmax`` to ``vmax``
    (default: the largest $|\mathrm{curl}\,F|$ on the grid; pass the same ``vmax`` to compare panels). With
    ``flow=True`` light streamlines show the flow $-F$; ``loop`` ``(alpha, r_inner, r_outer)`` draws the
    annular sector of :func:`annular_sector_path`. A gradient field has zero curl everywhere: white. The
    heat map is ``ax.images[-1]`` (for a colour bar).
    """
    check_axes(ax)
    _check_field_fn(field)
    extent = check_positive(extent, "extent")
    if not 1e-100 <= extent <= 1e150:
        raise ValueError(f"extent = {extent:g} is too small or too large to draw (1e-100 .. 1e150)")
    n = check_int(n, "n (grid cells per axis)", low=2, high=2000, why="more cells than a figure can show")
    flow = check_flag(flow, "flow")
    centres = -extent + (np.arange(n) + 0.5) * (2 * extent / n)
    X, Y = np.meshgrid(centres, centres)
    curl = numeric_curl(field, np.stack([X, Y], axis=-1))
    if vmax is None:
        vmax = float(np.abs(curl).max()) or 1.0
    vmax = check_positive(vmax, "vmax")
    ax.imshow(curl, origin="lower", extent=(-extent, extent, -extent, extent), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    if flow:
        F = -field_values(field, np.stack([X, Y], axis=-1))
        ax.streamplot(X, Y, F[..., 0], F[..., 1], color="0.45", linewidth=0.6, density=0.9, arrowsize=0.7)
    _draw_loop(ax, loop, color="black")
    ax.grid(False)
    return _frame_plane(ax, extent, title)


def plot_preconditioner_action(ax, points, depth: int, radius: float = 0.35, n: int = 200):
    r"""Draw, at each point $w$, the image $\{P_w u : \|u\| = 1\}$ of the unit circle of gradients.

    Each ellipse is rescaled so that its longest axis has length ``radius``; the number beside it (on the
    far side from the origin) is the true stretch along $w$, $N\|w\|^{2-2/N}$. The grey circle is the unit
    circle itself (no preconditioning), rescaled by the same factor, and the grey arrow from the origin is the vector $w$. The ellipse's long
    axis lies along $w$, $N$ times longer than across: the gradient component along the line $\mathbb R w$
    is amplified $N$ times more than the orthogonal ones, whichever sign it has.
    Returns ``ax``.
    """
    check_axes(ax)
    P = _as_points(points, "points")
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"points must be an array of shape (k, 2); got shape {P.shape}")
    if np.abs(P).max() > 1e100:
        raise ValueError("points must lie within 1e100 of the origin: P_w of farther points is beyond float64")
    if np.any(np.linalg.norm(P, axis=1) == 0):
        raise ValueError("P_w is zero at w = 0 for N >= 2: pick points away from the origin")
    N = check_depth(depth)
    radius = check_positive(radius, "radius")
    n = check_int(n, "n (points per ellipse)", low=3, high=10**5, why="a drawn curve needs no more points")
    t = np.linspace(0, 2 * np.pi, n)
    circle = np.stack([np.cos(t), np.sin(t)])
    for w in P:
        M = single_output_preconditioner(w, N)
        image = M @ circle
        image *= radius / np.abs(np.linalg.eigvalsh(M)).max()
        ax.plot(w[0] + radius * circle[0], w[1] + radius * circle[1], color="0.7", lw=1)
        ax.fill(w[0] + image[0], w[1] + image[1], color="tab:blue", alpha=0.35, lw=0)
        ax.plot(w[0] + image[0], w[1] + image[1], color="tab:blue", lw=1.2)
        ax.annotate("", xy=w, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.8})
        at = w + 1.75 * radius * w / np.linalg.norm(w)  # outside the shape, away from the origin's arrows
        label = f"x{N * np.linalg.norm(w) ** (2 - 2 / N):.2g}"
        ax.text(*at, label, ha="center", va="center", fontsize=8, bbox={"fc": "white", "ec": "none", "pad": 0.5})
    ax.plot(0, 0, "ko", ms=3)
    ax.set_aspect("equal")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    return ax
