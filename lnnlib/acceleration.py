r"""Acceleration by depth [ACH18]: the end-to-end rule for one output, a two-example $\ell_p$ construction (ours),
and best-learning-rate comparisons of GD, overparameterized GD, AdaGrad, AdaDelta and the end-to-end rule.

Everything here is single-output regression: the linear model is a row vector $w \in \mathbb R^{d}$, the loss
$\ell(w) = \frac{1}{p\,m}\sum_i |x_i^\top w - y_i|^p$ (:class:`lnnlib.LpRegressionLoss`). For grids of many
learning rates, :func:`lr_grid` runs one method with all rates at once on stacked arrays (and
:func:`lr_search` refines a grid's best rate to a stated resolution); its steps are those of
:func:`lnnlib.gradient_descent`, :func:`lnnlib.end_to_end_descent`, :func:`lnnlib.adagrad` and
:func:`lnnlib.adadelta` (the tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_array,
    as_list,
    as_positive_list,
    check_axes,
    check_choice,
    check_depth,
    check_int,
    check_options,
    check_positive,
    check_real,
    check_steps,
    guard,
)
from .losses import LpRegressionLoss

__all__ = [
    "single_output_preconditioned_gradient",
    "two_example_problem",
    "METHODS",
    "GridResult",
    "lr_grid",
    "lr_search",
    "compare_methods",
    "small_start",
    "plot_best_curves",
    "lp_minimum",
]

METHODS = ("gd", "depth2", "depth3", "adagrad", "adadelta", "end_to_end")
r"""Methods of :func:`lr_grid`: GD on the linear model; GD on $w = \omega_2 v$ and $w = \omega_3 \omega_2 v$
(a vector layer $v$ and scalar layers $\omega_k$: [ACH18]'s experiment adds one scalar); AdaGrad; AdaDelta;
the end-to-end rule of depth 2."""


@guard
def single_output_preconditioned_gradient(w, g, depth: int) -> np.ndarray:
    r"""Return $P_w g = \|w\|^{2-2/N}\bigl(g + (N-1)\langle g, \hat w\rangle \hat w\bigr)$, $\hat w = w/\|w\|$.

    The end-to-end preconditioner [ACH18] for one output: an adaptive learning rate $\|w\|^{2-2/N}$ and an
    extra push $(N-1)$ times the gradient's component along the current $w$, the direction already taken
    (a momentum-like term). Equals ``preconditioned_gradient(w[None], g[None], N)``.
    At $w = 0$ it is 0 for $N \ge 2$ (and $g$ for $N = 1$).
    """
    w = as_array(w, "w", what="vector", empty=True).astype(float, copy=False)
    g = as_array(g, "g", what="vector", empty=True).astype(float, copy=False)
    if w.ndim != 1 or g.shape != w.shape:
        raise ValueError(f"w and g must be vectors of the same length; got shapes {w.shape} and {g.shape}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(g))):
        raise ValueError("w and g must have finite entries")
    N = check_depth(depth)
    n = np.linalg.norm(w)
    if N == 1:
        return g.copy()
    if n == 0:
        return np.zeros_like(g)
    u = w / n
    return n ** (2 - 2 / N) * (g + (N - 1) * (g @ u) * u)


def two_example_problem(y1: float, y2: float, p: float = 4.0) -> LpRegressionLoss:
    r"""Return the $\ell_p$ loss of two examples $(e_1, y_1)$, $(e_2, y_2)$:
    $\ell(w) = \frac{1}{2p}\bigl(|w_1 - y_1|^p + |w_2 - y_2|^p\bigr)$, minimum 0 at $w = (y_1, y_2)$.

    With $y_1 \gg y_2$ and $p > 2$ the curvature $\frac{p-1}{2}|w_i - y_i|^{p-2}$ differs by the factor
    $(y_1/y_2)^{p-2}$ between the coordinates: a step size that is stable for the first coordinate is tiny
    for the second. Our instance of the lecture's claim [ACH18] that for every $p > 2$ some $\ell_p$ problems
    are solved arbitrarily faster by the end-to-end dynamics than by GD (the lecture gives no instance).
    """
    y1 = check_real(y1, "the target y1")
    y2 = check_real(y2, "the target y2")
    return LpRegressionLoss(np.eye(2), np.array([y1, y2]), p)


@dataclass
class GridResult:
    """Result of :func:`lr_grid` for one method.

    ``iterations``: fewest steps over the grid to reach the target loss (``steps + 1`` if no learning
    rate did); ``best_lr``: the learning rate that did it (the smallest, on ties; NaN if none);
    ``diverged``: per learning rate, whether it blew up before the run stopped; ``curve``: the loss
    along the best run (or, if none reached the target, along the run with the lowest final loss).
    """

    method: str
    lrs: np.ndarray
    iterations: int
    best_lr: float
    diverged: np.ndarray
    curve: np.ndarray
    steps: int

    @property
    def reached(self) -> bool:
        """Whether some learning rate reached the target within ``steps``."""
        return self.iterations <= self.steps

    @property
    def resolution(self) -> float:
        r"""Relative spacing of the tried rates next to ``best_lr``: $\max(\eta^*/\eta_-, \eta_+/\eta^*) - 1$.

        $\eta_-$, $\eta_+$ are the nearest tried rates below and above the best rate $\eta^*$. Infinite when
        $\eta^*$ is the smallest or largest rate tried (the best rate may lie beyond), NaN if none reached.
        """
        if not self.reached:
            return float("nan")
        k = int(np.searchsorted(self.lrs, self.best_lr))
        if k == 0 or k == self.lrs.size - 1:
            return float("inf")
        return float(max(self.best_lr / self.lrs[k - 1], self.lrs[k + 1] / self.best_lr) - 1)


def _lp_parts(R, p):
    if p == 2:
        return R * R, R
    A = np.abs(R)
    Ap = A ** (p - 1)
    return Ap * A, np.sign(R) * Ap


def lr_grid(
    X,
    y,
    p: float,
    method: str,
    lrs,
    steps: int,
    target: float,
    *,
    w0=None,
    depth: int = 2,
    blowup: float = 1e8,
    eps: float | None = None,
    rho: float = 0.9,
    omega0: float | str = 1.0,
) -> GridResult:
    r"""Run ``method`` on the $\ell_p$ regression loss with every learning rate of ``lrs`` at once; stop at the
    first step at which one of them has loss at most ``target`` (or after ``steps`` steps).

    Methods (:data:`METHODS`), all from the end-to-end start $w(0) = $ ``w0`` (default 0):

    * ``"gd"``: $w \leftarrow w - \eta \nabla\ell(w)$;
    * ``"depth2"``, ``"depth3"``: GD on $w = \omega_2 v$ (resp. $\omega_3\omega_2 v$), a vector layer $v$
      and scalar layers $\omega_k$, from $\omega_k(0) = $ ``omega0`` (default 1, our choice) and $v(0) =
      w(0)$: $\nabla_v = (\prod\omega)\, g$, $\nabla_{\omega_k} = \langle v, g\rangle
      \prod_{l \ne k}\omega_l$. With ``omega0="balanced"`` the start is balanced instead:
      $\omega_k(0) = \|w(0)\|^{1/N}$, $v(0) = w(0)/\|w(0)\|^{(N-1)/N}$ ($\|v\| = \omega_k$), the setting
      of the end-to-end rule;
    * ``"adagrad"``, ``"adadelta"``: :func:`lnnlib.adagrad_step`, :func:`lnnlib.adadelta_step`
      (``eps`` defaults 1e-8 and 1e-6; ``rho``);
    * ``"end_to_end"``: $w \leftarrow w - \eta\, P_w \nabla\ell(w)$ with the depth-``depth`` preconditioner
      (:func:`single_output_preconditioned_gradient`); it cannot leave $w = 0$, so give a nonzero ``w0``.

    A run diverges when its loss is non-finite or exceeds ``blowup`` times $\max(\ell(0), 1)$, as in
    :func:`lnnlib.gradient_descent`; diverged runs are dropped and counted.
    """
    loss = LpRegressionLoss(X, y, p)
    if loss.shape[0] != 1:
        raise ValueError("lr_grid handles one output: y must be a vector")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    lrs = np.sort(as_positive_list(lrs, "lrs (the learning rates)"))
    steps = check_steps(steps)
    target = check_real(target, "target (the loss to reach)", low=0.0)
    N = check_depth(depth)
    blowup = check_real(blowup, "blowup (the loss growth counted as divergence)", low=1.0, low_open=True)
    rho = check_real(rho, "rho (AdaDelta's decay)", low=0.0, high=1.0, low_open=True, high_open=True)
    if isinstance(omega0, str):
        check_choice(omega0, "omega0", ("balanced",))
    else:
        check_positive(omega0, "omega0")
    Xm, yv, P, m = loss.X, loss.Y[:, 0], loss.p, loss.m
    d = Xm.shape[1]
    w_start = np.zeros(d) if w0 is None else np.ravel(as_array(w0, "w0", what="vector")).astype(float)
    if w_start.shape != (d,):
        raise ValueError(f"w0 must have {d} entries (one per feature); got {w_start.size}")
    if method == "end_to_end" and N >= 2 and not np.any(w_start):
        raise ValueError("the end-to-end rule of depth >= 2 does not move from w = 0: pass a nonzero w0")
    if eps is None:
        eps = 1e-6 if method == "adadelta" else 1e-8
    eps = check_positive(eps, "eps")
    B = lrs.size
    eta = lrs[:, None]
    W1 = np.tile(w_start, (B, 1))  # the vector factor (the model itself for the one-layer methods)
    k_scalars = {"depth2": 1, "depth3": 2}.get(method, 0)
    if k_scalars and omega0 == "balanced":
        nw = float(np.linalg.norm(w_start))
        if nw == 0:
            raise ValueError("a balanced start of the overparameterized model needs a nonzero w0")
        om = nw ** (1 / (k_scalars + 1))
        W1 = W1 / om**k_scalars
    elif k_scalars:
        om = check_positive(omega0, "omega0")
    omegas = np.full((k_scalars, B), om if k_scalars else 1.0)
    acc1 = np.zeros((B, d))
    acc2 = np.zeros((B, d))
    alive = np.arange(B)
    diverged = np.zeros(B, dtype=bool)
    curves = []  # one row per step taken, grown as the run goes (a cap of 1e9 steps allocates nothing)
    threshold = None
    found = None
    t = 0
    with np.errstate(all="ignore"):
        while True:
            scale = np.prod(omegas, axis=0) if k_scalars else None
            Wm = W1 if scale is None else W1 * scale[:, None]
            R = Wm @ Xm.T - yv
            Lp, D = _lp_parts(R, P)
            values = Lp.sum(axis=1) / (P * m)
            if threshold is None:
                threshold = blowup * np.maximum(values, 1.0)
            row = np.full(B, np.nan)
            row[alive] = values
            curves.append(row)
            bad = ~np.isfinite(values) | (values > threshold)
            hit = ~bad & (values <= target)
            if np.any(hit):
                found = (t, alive[np.flatnonzero(hit)[0]])
                break
            if np.any(bad):
                diverged[alive[bad]] = True
                keep = ~bad
                alive, W1, eta, acc1, acc2, threshold = (
                    alive[keep],
                    W1[keep],
                    eta[keep],
                    acc1[keep],
                    acc2[keep],
                    threshold[keep],
                )
                omegas = omegas[:, keep]
                scale = None if scale is None else scale[keep]
                if alive.size == 0:
                    break
                D = D[keep]
            if t == steps:
                break
            G = D @ Xm / m  # gradient of l at the end-to-end w, one row per learning rate
            if method == "gd":
                W1 = W1 - eta * G
            elif k_scalars:
                inner = np.einsum("bi,bi->b", W1, G)
                grads_w = []
                for k in range(k_scalars):
                    others = np.prod(np.delete(omegas, k, axis=0), axis=0)
                    grads_w.append(inner * others)
                W1 = W1 - eta * (scale[:, None] * G)
                omegas = omegas - lrs[alive][None, :] * np.array(grads_w)
            elif method == "adagrad":
                acc1 = acc1 + G * G
                W1 = W1 - eta * G / (np.sqrt(acc1) + eps)
            elif method == "adadelta":
                acc1 = rho * acc1 + (1 - rho) * G * G
                delta = -np.sqrt(acc2 + eps) / np.sqrt(acc1 + eps) * G
                acc2 = rho * acc2 + (1 - rho) * delta * delta
                W1 = W1 + eta * delta
            else:  # end_to_end
                n = np.linalg.norm(W1, axis=1, keepdims=True)
                u = np.divide(W1, n, out=np.zeros_like(W1), where=n > 0)
                along = np.einsum("bi,bi->b", G, u)[:, None]
                W1 = W1 - eta * n ** (2 - 2 / N) * (G + (N - 1) * along * u)
            t += 1
    curves = np.array(curves)
    if found is not None:
        t_hit, j = found
        return GridResult(method, lrs, int(t_hit), float(lrs[j]), diverged, curves[: t_hit + 1, j].copy(), int(steps))
    last = curves[t]
    if np.all(np.isnan(last)):
        j, curve = 0, curves[: t + 1, 0].copy()
    else:
        j = int(np.nanargmin(last))
        curve = curves[: t + 1, j].copy()
    return GridResult(method, lrs, int(steps) + 1, float("nan"), diverged, curve, int(steps))


def lr_search(
    X,
    y,
    p: float,
    method: str,
    lrs,
    steps: int,
    target: float,
    *,
    resolution: float,
    points: int = 7,
    max_rounds: int = 30,
    start: GridResult | None = None,
    **kwargs,
) -> GridResult:
    r"""Return ``method``'s best learning rate to a relative ``resolution``: a coarse grid, then zooms.

    Runs :func:`lr_grid` on ``lrs``; then, while the best rate $\eta^*$ has a tried neighbour farther than
    ``resolution`` (relative, :attr:`GridResult.resolution`), tries ``points`` equally spaced rates strictly
    between its neighbours $\eta_- < \eta^* < \eta_+$ (if $\eta^*$ is the smallest or the largest rate
    tried, it continues ``lrs``'s spacing at that end for ``points`` rates beyond it instead), and keeps
    the rate that reaches ``target`` in the fewest iterations (the smallest rate on ties). Each zoom cuts
    the spacing next to $\eta^*$ by about ``(points + 1) / 2``.

    The search is local: it assumes the best rate at the fine resolution lies between the coarse grid's
    neighbours of the coarse best rate (iteration counts that jump between far-apart rates can defeat it).
    Returns a :class:`GridResult` over all the rates tried (``diverged`` flags the rates that blew up before
    their run stopped; zoom runs stop once they cannot beat the current best); its ``resolution`` is the
    one reached. ``kwargs`` go to :func:`lr_grid`. Raises ValueError after ``max_rounds`` zooms without
    reaching ``resolution``.

    ``start``: the result of an earlier search on the same problem and method, at a coarser resolution;
    the search continues from it instead of running ``lrs`` again (the zooms are deterministic, so the
    result is the same as a fresh search's whenever ``start`` was one).
    """
    resolution = check_positive(resolution, "resolution")
    points = check_int(points, "points (rates per zoom)", low=1, high=1000, why="a zoom needs no more rates")
    max_rounds = check_int(max_rounds, "max_rounds", low=1, high=1000, why="each zoom already narrows the spacing")
    check_options(kwargs, lr_grid, "lr_search", exclude=("X", "y", "p", "method", "lrs", "steps", "target"))
    if start is None:
        best = lr_grid(X, y, p, method, lrs, steps, target, **kwargs)
    elif not isinstance(start, GridResult) or start.method != method or start.steps != steps:
        raise ValueError(f"start must be the GridResult of an earlier {method!r} search with {steps} steps")
    else:
        best = start
    if best.lrs.size < 2:
        raise ValueError("a learning-rate search needs at least two starting rates (lrs)")
    tried = dict(zip(best.lrs.tolist(), best.diverged.tolist(), strict=True))
    ratio_low, ratio_high = best.lrs[1] / best.lrs[0], best.lrs[-1] / best.lrs[-2]
    for _ in range(int(max_rounds)):
        if not best.reached or best.resolution <= resolution:
            return best
        rates = np.array(sorted(tried))
        k = int(np.searchsorted(rates, best.best_lr))
        eta = best.best_lr
        if k == 0:  # the best rate is the smallest tried: continue the starting grid's spacing downwards
            zoom = eta / ratio_low ** np.arange(1, int(points) + 1)
        elif k == rates.size - 1:  # the largest tried: continue upwards
            zoom = eta * ratio_high ** np.arange(1, int(points) + 1)
        else:
            zoom = np.linspace(rates[k - 1], rates[k + 1], int(points) + 2)[1:-1]
        r = lr_grid(X, y, p, method, zoom, best.iterations, target, **kwargs)
        tried.update(zip(r.lrs.tolist(), r.diverged.tolist(), strict=True))
        better = r.reached and (r.iterations, r.best_lr) < (best.iterations, best.best_lr)
        winner = r if better else best
        rates = np.array(sorted(tried))
        best = GridResult(
            method,
            rates,
            winner.iterations,
            winner.best_lr,
            np.array([tried[x] for x in rates.tolist()]),
            winner.curve,
            int(steps),
        )
    if best.reached and best.resolution > resolution:
        raise ValueError(
            f"no learning rate of resolution {resolution:g} after {max_rounds} zooms (reached {best.resolution:.3g})"
        )
    return best


@guard
def small_start(X, y, p: float, size: float) -> np.ndarray:
    r"""Return $w(0) = -\mathrm{size}\cdot\nabla\ell(0)$: a tiny point in the steepest-descent direction from 0.

    A start for the methods that cannot leave $w = 0$ (the end-to-end rule, a balanced overparameterized
    model), as close to the others' start $w = 0$ as one wishes.
    """
    loss = LpRegressionLoss(X, y, p)
    size = check_positive(size, "size")
    return -size * loss.gradient(np.zeros(loss.shape))[0]


def compare_methods(X, y, p: float, lrs, steps: int, target: float, methods=METHODS, **kwargs) -> dict[str, GridResult]:
    """Return ``{method: lr_grid(X, y, p, method, lrs, steps, target, **kwargs)}`` for each method.

    The end-to-end rule needs a nonzero start: unless ``w0`` is given, it starts from
    ``small_start(X, y, p, 1e-3 * min(lrs))`` (:func:`small_start`), the other methods from 0.
    """
    methods = [check_choice(m, "each of methods", METHODS) for m in as_list(methods, "methods", "method names")]
    lrs = as_positive_list(lrs, "lrs (the learning rates)")
    check_options(kwargs, lr_grid, "compare_methods", exclude=("X", "y", "p", "method", "lrs", "steps", "target"))
    out = {}
    for method in methods:
        kw = dict(kwargs)
        if method == "end_to_end" and kw.get("w0") is None:
            kw["w0"] = small_start(X, y, p, 1e-3 * float(np.min(lrs)))
        out[method] = lr_grid(X, y, p, method, lrs, steps, target, **kw)
    return out


# line style and marker per method in plot_best_curves: seven distinct pairs
_CURVE_STYLES = (("-", ""), ("--", "o"), ("-.", "s"), (":", "^"), ("-", "v"), ("--", "D"), ("-.", "x"))


def plot_best_curves(results: dict[str, GridResult], ax, optimum: float = 0.0, target: float | None = None):
    r"""Plot $\ell(t) - \ell^*$ along each method's best run (log scale); return ``ax``.

    Each method gets its own line style and marker (:data:`_CURVE_STYLES`), so that curves which coincide
    (methods whose best runs are nearly identical) can still be told apart.
    """
    check_axes(ax)
    if not isinstance(results, dict) or not results or not all(isinstance(r, GridResult) for r in results.values()):
        raise ValueError("results must be a non-empty dict {method: GridResult} (from compare_methods or lr_grid)")
    optimum = check_real(optimum, "optimum (the loss minimum)")
    if target is not None:
        target = check_real(target, "target")
    for k, (name, r) in enumerate(results.items()):
        gap = np.maximum(r.curve - optimum, 1e-300)
        label = f"{name} (lr {r.best_lr:.2g}, {r.iterations} it)" if r.reached else f"{name} (not reached)"
        ls, marker = _CURVE_STYLES[k % len(_CURVE_STYLES)]
        ax.semilogy(gap, ls=ls, marker=marker, markevery=0.1, markersize=5, fillstyle="none", label=label)
    if target is not None:
        ax.axhline(target - optimum, color="k", ls=":", lw=1, label="target")
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$\ell(t) - \ell^*$")
    ax.legend(fontsize=8)
    return ax


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
