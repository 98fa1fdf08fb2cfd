r"""Convergence of gradient descent on deep linear networks [ACGH19].

* the limit of the critical-point approach: :func:`hessian_at_zero` (sympy) -- at all-zero weights the
  Hessian of $\phi$ vanishes for depth $N \ge 3$, so that saddle is not strict;
* the assumptions of the convergence theorem of [ACGH19]: :func:`deficiency_margin`,
  :func:`balancedness_delta`, :func:`theorem_constants`; its guarantee :func:`theorem_iterations` and the
  per-step contraction :func:`rate_bound`; how likely a random balanced start has a margin,
  :func:`margin_probability`;
* an experiment modelled on [ACGH19]'s: :func:`convergence_experiment` (iterations to converge against the
  init std, layer-wise Gaussian vs balanced init), with a fast batched GD loop;
* counterexamples to dropping the assumptions: :func:`unbalanced_init`, :func:`negative_eigenvalue_target`,
  :func:`psd_loss_floor`.

The loss throughout is the whitened-data $\ell_2$ loss $\ell(W) = \frac12 \|W - \Phi\|_F^2$
(:class:`lnnlib.L2Loss`), which equals the regression loss minus its optimum when $\frac1m X^\top X = I$.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ._validation import (
    as_list,
    as_matrix,
    as_positive_list,
    as_rng,
    check_axes,
    check_choice,
    check_count,
    check_depth,
    check_flag,
    check_nonnegative,
    check_positive,
    check_real,
    check_steps,
    check_weights,
    guard,
)
from .init import balanced_factorization, balanced_init, gaussian_init
from .network import balancedness_gaps

__all__ = [
    "deficiency_margin",
    "balancedness_delta",
    "theorem_constants",
    "rate_bound",
    "theorem_iterations",
    "margin_probability",
    "hessian_at_zero",
    "ConvergenceExperiment",
    "convergence_experiment",
    "FULL_EXPERIMENT",
    "batched_gd_iterations",
    "unbalanced_init",
    "negative_eigenvalue_target",
    "psd_loss_floor",
    "plot_convergence_experiment",
]


@guard
def deficiency_margin(W, Phi) -> float:
    r"""Return $c = \sigma_{\min}(\Phi) - \|W - \Phi\|_F$: $W$ has deficiency margin $c$ w.r.t. $\Phi$ when $c > 0$.

    The deficiency margin of [ACGH19]. If $c > 0$, every $W'$ with $\|W' - \Phi\|_F \le \|W - \Phi\|_F$ (in particular
    every later GD iterate, since the loss decreases) has $\sigma_{\min}(W') \ge c$: it stays away from
    the rank-deficient matrices, where the end-to-end dynamics could stall. A negative value means no margin.
    For $\ell(W) = \frac12\|W - \Phi\|_F^2$ this is the lecture's condition "$\ell(W) < \ell(W')$ for all $W'$ with
    $\sigma_{\min}(W') \le c$": the smallest loss over those $W'$ is $\frac12(\sigma_{\min}(\Phi) - c)^2$ (Weyl).
    """
    W = as_matrix(W, "W")
    Phi = as_matrix(Phi, "the target Phi")
    if W.shape != Phi.shape:
        raise ValueError(f"W has shape {W.shape} but the target Phi has shape {Phi.shape}; they must match")
    return float(np.linalg.svd(Phi, compute_uv=False)[-1] - np.linalg.norm(W - Phi))


@guard
def balancedness_delta(weights) -> float:
    r"""Return the smallest $\delta$ for which the layers are $\delta$-balanced:
    $\max_j \|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F$, as in [ACGH19] (0 for one layer)."""
    gaps = balancedness_gaps(weights)
    return float(gaps.max()) if gaps.size else 0.0


def theorem_constants(c: float, depth: int, phi_norm: float) -> tuple[float, float]:
    r"""Return $(\delta_{\max}, \eta_{\max})$ of the [ACGH19] theorem for margin $c$, depth $N$, $\|\Phi\|_F$:

    $$\delta \le \frac{c^2}{256\, N^3 \|\Phi\|_F^{2(N-1)/N}}, \qquad
    \eta \le \frac{c^{(4N-2)/N}}{6144\, N^3 \|\Phi\|_F^{(6N-4)/N}}.$$

    Under these, $\ell(T) \le \epsilon$ once $T \ge$ :func:`theorem_iterations`; the proof contracts the loss by
    $1 - \eta c^{2(N-1)/N}$ per step (:func:`rate_bound`). The constants 256 and 6144 are those of Cohen's
    later lecture notes (the paper's text could not be checked here). They are worst-case: much larger
    steps converge in practice (notebook 05 measures this).
    """
    c = check_positive(c, "the deficiency margin c")
    N = check_depth(depth)
    f = check_positive(phi_norm, "the norm of Phi")
    try:
        delta = c**2 / (256 * N**3 * f ** (2 * (N - 1) / N))
    except (OverflowError, ZeroDivisionError):
        delta = float("nan")
    try:
        eta = c ** ((4 * N - 2) / N) / (6144 * N**3 * f ** ((6 * N - 4) / N))
    except (OverflowError, ZeroDivisionError):
        eta = float("nan")
    for name, value, log10 in (
        ("delta_max", delta, 2 * np.log10(c) - np.log10(256 * N**3) - 2 * (N - 1) / N * np.log10(f)),
        ("eta_max", eta, (4 * N - 2) / N * np.log10(c) - np.log10(6144 * N**3) - (6 * N - 4) / N * np.log10(f)),
    ):
        if not (np.isfinite(value) and value > 0):  # beyond float64: refuse rather than return inf or 0
            raise FloatingPointError(
                f"theorem_constants: {name} is about 1e{log10:.0f}, beyond double precision (c = {c:g}, "
                f"||Phi||_F = {f:g}); rescale the problem"
            )
    return float(delta), float(eta)


@guard
def rate_bound(loss0: float, lr: float, c: float, depth: int, steps: int) -> np.ndarray:
    r"""Return $\ell(0)\,(1 - \eta\, c^{2(N-1)/N})^t$ for $t = 0, \dots, \mathrm{steps}$: the per-step
    contraction that the proof of the [ACGH19] theorem gives.

    Raises ValueError when $\eta c^{2(N-1)/N} \ge 1$, where the bound says nothing.
    """
    loss0 = check_nonnegative(loss0, "the initial loss")
    lr = check_positive(lr, "the learning rate eta")
    c = check_positive(c, "the deficiency margin c")
    N = check_depth(depth)
    steps = check_steps(steps)
    q = lr * c ** (2 * (N - 1) / N)
    if q >= 1:
        raise ValueError(f"eta c^(2(N-1)/N) = {q:.3g} >= 1: the rate bound needs a smaller step")
    return loss0 * (1 - q) ** np.arange(steps + 1)


def theorem_iterations(loss0: float, eps: float, lr: float, c: float, depth: int) -> float:
    r"""Return $T = \log(\ell(0)/\epsilon) \,/\, (\eta\, c^{2(N-1)/N})$: under the assumptions of the [ACGH19]
    theorem (:func:`theorem_constants`), gradient descent has $\ell(t) \le \epsilon$ for every $t \ge T$.

    From the per-step contraction (:func:`rate_bound`) and $1 - x \le e^{-x}$:
    $\ell(t) \le \ell(0)(1 - \eta c^{2(N-1)/N})^t \le \ell(0) e^{-\eta c^{2(N-1)/N} t} \le \epsilon$. Returns 0 when
    $\ell(0) \le \epsilon$.
    """
    loss0 = check_positive(loss0, "the initial loss")
    eps = check_positive(eps, "the target loss eps")
    lr = check_positive(lr, "the learning rate eta")
    c = check_positive(c, "the deficiency margin c")
    N = check_depth(depth)
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        T = max(np.log(loss0) - np.log(eps), 0.0) / (lr * c ** (2 * (N - 1) / N))
    if not np.isfinite(T):
        raise FloatingPointError(
            f"the step count log(l(0)/eps) / (eta c^(2(N-1)/N)) overflows for eta = {lr!r}, c = {c!r}: "
            "the guarantee is vacuous"
        )
    return float(T)


def margin_probability(Phi, std: float) -> float:
    r"""Return $P\big(\|A - \Phi\| < \|\Phi\|\big)$ for $A$ with i.i.d. $\mathcal N(0, s^2)$ entries and one output.

    For a $1 \times d_0$ target, $\sigma_{\min}(\Phi) = \|\Phi\|$, so this is the probability that a balanced
    initialization with end-to-end matrix $A$ (:func:`lnnlib.balanced_init`, exactly balanced at every scale)
    has a deficiency margin $c > 0$. $\|A - \Phi\|^2 / s^2$ is noncentral $\chi^2$ with $d_0$ degrees of freedom
    and noncentrality $\|\Phi\|^2/s^2$, so the probability is its CDF at $\|\Phi\|^2/s^2$. It tends to $1/2$ as
    $s \to 0$ (near $0$ the ball looks like the half-space $\langle A, \Phi\rangle > 0$) and to $0$ as $s \to \infty$.
    """
    from scipy.stats import ncx2

    Phi = as_matrix(Phi, "the target Phi")
    if Phi.shape[0] != 1:
        raise ValueError(f"margin_probability is for one output: Phi must be a 1 x d_0 row; got shape {Phi.shape}")
    s = check_positive(std, "the init std s")
    top = float(np.abs(Phi).max())
    if top == 0:
        raise ValueError("the target Phi is zero: no matrix has a deficiency margin")
    with np.errstate(over="ignore", under="ignore"):
        lam = float(np.square(np.linalg.norm(Phi / top) * np.float64(top / s)))  # ||Phi||^2 / s^2, no overflow
    if not np.isfinite(lam):
        raise ValueError(f"||Phi|| / s overflows for s = {s!r}: the init std is too small for this target")
    return float(ncx2.cdf(lam, df=Phi.shape[1], nc=lam))


def hessian_at_zero(depth: int, dim: int = 1):
    r"""Return ``(gradient, Hessian)`` of $\phi(W_1..W_N) = \frac12\|W_N \cdots W_1 - \Phi\|_F^2$ at all-zero
    weights, computed by sympy for ``dim`` x ``dim`` layers with a symbolic target $\Phi$.

    Every entry of $W_N \cdots W_1$ is a sum of degree-$N$ monomials, so the second derivatives at 0 of
    $\phi = \frac12\|\Phi\|^2 - \langle \Phi, W \rangle + \frac12 \|W\|^2$ vanish for $N \ge 3$ (a
    non-strict saddle, against condition (2) of the critical-point approach, Ge et al. 2015), while for
    $N = 2$ the Hessian is $\begin{pmatrix} 0 & -\cdot \\ -\cdot & 0 \end{pmatrix}$ built from $\Phi$:
    indefinite, a strict saddle. Returns sympy matrices (gradient as a column) over the variables
    ordered layer by layer, row-major.
    """
    import sympy as sp

    N = check_depth(depth)
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not 1 <= dim <= 3:
        raise ValueError(f"dim must be 1, 2 or 3 (the symbolic Hessian grows fast); got {dim!r}")
    if N * dim**2 > 16:
        raise ValueError(
            f"depth N = {N} with {dim} x {dim} layers has {N * dim**2} weights: the symbolic Hessian is limited to "
            "16 (N * dim^2 <= 16; it takes seconds already there)"
        )
    layers = [sp.Matrix(dim, dim, lambda i, k, j=j: sp.Symbol(f"w{j + 1}_{i + 1}{k + 1}")) for j in range(N)]
    Phi = sp.Matrix(dim, dim, lambda i, k: sp.Symbol(f"Phi_{i + 1}{k + 1}"))
    W = layers[0]
    for Wj in layers[1:]:
        W = Wj * W
    R = W - Phi
    phi = sum(R[i, k] ** 2 for i in range(dim) for k in range(dim)) / 2
    variables = [v for Wj in layers for v in Wj]
    zero = {v: 0 for v in variables}
    grad = sp.Matrix([sp.diff(phi, v) for v in variables]).subs(zero)
    H = sp.hessian(phi, variables).subs(zero)
    return sp.expand(grad), sp.expand(H)


# ---------------------------------------------------------------------------------------------------------
# An experiment modelled on [ACGH19]'s: batched gradient descent over a grid of learning rates
# ---------------------------------------------------------------------------------------------------------


def batched_gd_iterations(weights, Phi, lrs, cap: int, tol: float = 1e-5, blowup: float = 1e8) -> np.ndarray:
    r"""Return, for each learning rate, the first step $t$ with $\frac12\|W(t) - \Phi\|_F^2 \le \mathrm{tol}$.

    Runs gradient descent on $\phi = \frac12\|W_N \cdots W_1 - \Phi\|_F^2$ from the same layers
    ``weights`` with every step size in ``lrs`` at once (stacked arrays, one batched matmul per layer
    product), which makes a grid of runs as cheap as a few single runs. Per learning rate the result is
    the iteration count, ``-1`` if it diverged (non-finite loss or above ``blowup`` times
    $\max(\ell(0), 1)$, as :func:`lnnlib.gradient_descent`) and ``cap + 1`` if it did not reach
    ``tol`` within ``cap`` steps. Matches :func:`lnnlib.gradient_descent` step for step.
    """
    layers = check_weights(weights)
    Phi = as_matrix(Phi, "the target Phi")
    if Phi.shape != (layers[-1].shape[0], layers[0].shape[1]):
        raise ValueError(
            f"the target Phi has shape {Phi.shape} but the layers give a "
            f"{layers[-1].shape[0]} x {layers[0].shape[1]} end-to-end matrix"
        )
    lrs = as_positive_list(lrs, "lrs (the learning rates)")
    cap = check_steps(cap, "cap (the most steps)")
    tol = check_positive(tol, "tol")
    blowup = check_real(blowup, "blowup (the loss growth counted as divergence)", low=1.0, low_open=True)
    N = len(layers)
    B = lrs.size
    Ws = [np.repeat(W[None], B, axis=0) for W in layers]
    result = np.full(B, cap + 1, dtype=int)
    active = np.arange(B)
    eta = lrs[:, None, None]
    start = None
    # Thin products only (cost O(d^2 d_N) per layer): A_k = W_N..W_{k+1} from the top, V_k = W_{k-1}..W_1 G^T
    # from the bottom; then dphi/dW_k = A_k^T V_k^T [ACH18] (the chain rule of the layer gradients).
    with np.errstate(all="ignore"):
        for t in range(cap + 1):
            A = [None] * (N + 1)
            A[N - 1] = Ws[N - 1]
            for k in range(N - 2, -1, -1):
                A[k] = A[k + 1] @ Ws[k]
            G = A[0] - Phi
            loss = 0.5 * np.einsum("bij,bij->b", G, G)
            if start is None:
                start = blowup * np.maximum(loss, 1.0)
            done = loss <= tol
            bad = ~np.isfinite(loss) | (loss > start)
            if np.any(done | bad):
                result[active[done]] = t
                result[active[bad & ~done]] = -1
                keep = ~(done | bad)
                active, Ws, eta, start = active[keep], [W[keep] for W in Ws], eta[keep], start[keep]
                A, G = [None if a is None else a[keep] for a in A], G[keep]
                if active.size == 0:
                    break
            if t == cap:
                break
            V = np.swapaxes(G, 1, 2)
            for k in range(N):
                At = np.swapaxes(A[k + 1], 1, 2) if k < N - 1 else None
                grad = np.swapaxes(V, 1, 2) if At is None else At @ np.swapaxes(V, 1, 2)
                if k < N - 1:
                    V = Ws[k] @ V
                Ws[k] -= eta * grad
    return result


@dataclass
class ConvergenceExperiment:
    """Result of :func:`convergence_experiment`.

    ``iterations[i, d, s]``: fewest iterations to converge over the learning-rate grid for init
    ``inits[i]``, depth ``depths[d]`` and init std ``stds[s]`` (``cap + 1`` when no learning rate
    converged within ``cap``); ``best_lr`` the learning rate achieving it (NaN if none);
    ``diverged`` how many learning rates of the grid blew up.
    """

    inits: tuple[str, ...]
    depths: tuple[int, ...]
    stds: np.ndarray
    lrs: np.ndarray
    cap: int
    tol: float
    width: int
    iterations: np.ndarray
    best_lr: np.ndarray
    diverged: np.ndarray
    per_lr: np.ndarray = field(repr=False, default=None)

    @property
    def converged(self) -> np.ndarray:
        """Boolean array: some learning rate converged within the cap."""
        return self.iterations <= self.cap


FULL_EXPERIMENT = {
    "depths": (3, 8),
    "stds": np.logspace(-3, 0, 13),
    "lrs": np.logspace(-4, 0, 17),
    "cap": 10**6,
    "width": 32,
    "tol": 1e-5,
}
r"""A full-size setting modelled on [ACGH19]'s experiment (lr grid 1e-4..1, log-spaced; cap 1e6 iterations; the
paper's own settings could not be checked here)."""


def convergence_experiment(
    Phi,
    *,
    depths=(3, 8),
    stds=FULL_EXPERIMENT["stds"],
    lrs=FULL_EXPERIMENT["lrs"],
    cap: int = 10**6,
    width: int = 32,
    tol: float = 1e-5,
    inits=("layerwise", "balanced"),
    rng=None,
    progress: bool = False,
) -> ConvergenceExperiment:
    r"""Return iterations to converge against init std, layer-wise Gaussian vs balanced init (after [ACGH19]).

    For each init, depth $N$ and std $s$: layers of widths ``[d_0, width, ..., width, d_N]`` are
    initialized either layer-wise (every entry of every layer i.i.d. $\mathcal N(0, s^2)$,
    :func:`lnnlib.gaussian_init`) or balanced (the balanced initialization of [ACGH19], :func:`lnnlib.balanced_init`: the
    end-to-end matrix has i.i.d. $\mathcal N(0, s^2)$ entries and is split into balanced factors); then
    GD on $\frac12\|W - \Phi\|_F^2$ runs with every learning rate in ``lrs`` until the loss is within
    ``tol`` of its optimum 0, at most ``cap`` steps (:func:`batched_gd_iterations`). The default grid
    is the full-size one (hours of computing); pass a small grid and cap for a quick look, and
    ``progress=True`` for a tqdm bar over the (init, depth, std) cells.
    """
    Phi = as_matrix(Phi, "the target Phi")
    depths = tuple(check_depth(N, "each of depths") for N in as_list(depths, "depths", "depths N"))
    stds = as_positive_list(stds, "stds (each init std)")
    lrs = np.sort(as_positive_list(lrs, "lrs (the learning rates)"))
    cap = check_steps(cap, "cap (the most steps)")
    width = check_count(width, "the hidden width", high=10**4)
    inits = tuple(
        check_choice(name, "each of inits", ("layerwise", "balanced")) for name in as_list(inits, "inits", "init names")
    )
    progress = check_flag(progress, "progress")
    if width < min(Phi.shape):
        raise ValueError(f"the hidden width {width} is below min(d_0, d_N) = {min(Phi.shape)}: no balanced init exists")
    cells = [(i, d, s) for i in range(len(inits)) for d in range(len(depths)) for s in range(len(stds))]
    seeds = np.random.SeedSequence(as_rng(rng).integers(2**63)).spawn(len(cells))
    shape = (len(inits), len(depths), len(stds))
    per_lr = np.zeros(shape + (len(lrs),), dtype=int)
    from tqdm.auto import tqdm

    for (i, d, s), seed in zip(cells, tqdm(seeds, disable=not progress, desc="ACGH19 grid"), strict=True):
        N = depths[d]
        dims = [Phi.shape[1]] + [width] * (N - 1) + [Phi.shape[0]]
        gen = np.random.default_rng(seed)
        weights = (
            gaussian_init(dims, stds[s], gen) if inits[i] == "layerwise" else balanced_init(dims, gen, scale=stds[s])
        )
        per_lr[i, d, s] = batched_gd_iterations(weights, Phi, lrs, cap, tol)
    ok = per_lr >= 0
    it = np.where(ok, per_lr, cap + 1)
    best = it.min(axis=-1)
    arg = it.argmin(axis=-1)
    best_lr = np.where(best <= cap, lrs[arg], np.nan)
    return ConvergenceExperiment(
        inits, depths, stds, lrs, int(cap), float(tol), width, best, best_lr, (~ok).sum(axis=-1), per_lr
    )


def plot_convergence_experiment(result: ConvergenceExperiment, ax, depth: int):
    """Plot iterations to converge against init std for one depth, one curve per init; return ``ax``.

    Cells where no learning rate converged within the cap are drawn as crosses at the cap.
    """
    if not isinstance(result, ConvergenceExperiment):
        raise ValueError(
            f"result must be a ConvergenceExperiment (from convergence_experiment); got {type(result).__name__}"
        )
    check_axes(ax)
    depth = check_depth(depth)
    if depth not in result.depths:
        raise ValueError(f"depth {depth} was not run: the experiment has depths {result.depths}")
    d = result.depths.index(depth)
    markers = {
        "layerwise": ("o", "tab:red", "layer-wise Gaussian"),
        "balanced": ("s", "tab:blue", "balanced"),
    }
    for i, name in enumerate(result.inits):
        mk, color, label = markers[name]
        it = result.iterations[i, d].astype(float)
        conv = it <= result.cap
        ax.plot(result.stds[conv], it[conv], marker=mk, color=color, label=label)
        ax.plot(result.stds[~conv], np.full((~conv).sum(), result.cap), "x", color=color, ms=9)
    ax.plot([], [], "x", color="0.3", ms=9, label=f"no lr within {result.cap} steps")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # plain numbers at 1, 2, 5 x 10^k, no minor labels (log axes otherwise label crowded minor ticks)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("init std")
    ax.set_ylabel("iterations to converge (best lr)")
    ax.set_title(f"depth N = {depth}")
    ax.legend(fontsize=8)
    return ax


# ---------------------------------------------------------------------------------------------------------
# Counterexamples: what goes wrong without the assumptions
# ---------------------------------------------------------------------------------------------------------


@guard
def unbalanced_init(W, dims, factor: float) -> list[np.ndarray]:
    r"""Return layers whose product is $W$ but with $W_1$ scaled by ``factor`` and $W_N$ by $1/$``factor``.

    Starts from the balanced factorization (:func:`lnnlib.balanced_factorization`), so the end-to-end
    matrix -- hence its deficiency margin -- is that of $W$, while the balancedness gaps grow like
    ``factor``$^2$. The Hessian of $\phi$ then has an eigenvalue of order ``factor``$^2\|W\|^{\dots}$ along $W_N$,
    so GD with any step above about $2/\mathrm{factor}^2$ is unstable (why balancedness is needed).
    """
    layers = balanced_factorization(W, dims)
    factor = check_positive(factor, "factor")
    if len(layers) < 2:
        raise ValueError("an unbalanced init needs depth N >= 2")
    layers[0] = factor * layers[0]
    layers[-1] = layers[-1] / factor
    return layers


@guard
def negative_eigenvalue_target(dim: int, lam: float, rng=None) -> np.ndarray:
    r"""Return a random symmetric $\Phi = Q \,\mathrm{diag}(1, \dots, 1, \lambda)\, Q^\top$ with $\lambda < 0$.

    Against such a target, identity-initialized GD at even depth never converges (the loss stays above
    :func:`psd_loss_floor`): a start without a deficiency margin that fails.
    """
    dim = check_depth(dim, "dim")
    if dim < 1 or not (isinstance(lam, numbers.Real) and np.isfinite(lam) and lam < 0):
        raise ValueError(f"lam must be a finite negative number (the negative eigenvalue); got {lam!r}")
    Q, _ = np.linalg.qr(as_rng(rng).standard_normal((dim, dim)))
    eig = np.ones(dim)
    eig[-1] = lam
    Phi = (Q * eig) @ Q.T
    return (Phi + Phi.T) / 2


@guard
def psd_loss_floor(Phi) -> float:
    r"""Return the loss floor of PSD matrices, $\min_{W \succeq 0} \frac12\|W - \Phi\|_F^2$:

    $\frac12 \sum_{\lambda_i < 0} \lambda_i^2$ over the eigenvalues $\lambda_i$ of $\Phi$.

    The minimizer is the projection of $\Phi$ onto the PSD cone (clip negative eigenvalues). With
    identity init and a symmetric target, all layers stay equal to one symmetric matrix $A(t)$ that
    commutes with $\Phi$, so at even depth $W = A^N \succeq 0$ and the loss never goes below this floor.
    """
    Phi = as_matrix(Phi, "the target Phi")
    if Phi.shape[0] != Phi.shape[1] or not np.allclose(Phi, Phi.T, atol=1e-12 * max(1.0, np.abs(Phi).max())):
        raise ValueError(
            f"Phi must be a symmetric square matrix; got shape {Phi.shape}"
            + ("" if Phi.shape[0] != Phi.shape[1] else " (not symmetric)")
        )
    scale = float(np.abs(Phi).max())
    if scale > 1e150 or 0 < scale < 1e-150:  # the floor is quadratic in Phi: scale extreme data to unit size
        return scale * (scale * psd_loss_floor(Phi / scale))
    lam = np.linalg.eigvalsh((Phi + Phi.T) / 2)
    return float(0.5 * np.sum(np.minimum(lam, 0.0) ** 2))
