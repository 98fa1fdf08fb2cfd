r"""Matrix completion: nuclear-norm minimization and gradient descent over deep matrix factorizations.

The matrix-completion experiment of [ACHL19] (Arora, Cohen, Hu, Luo, *Implicit Regularization in Deep Matrix
Factorization*, NeurIPS 2019), as the lecture and the authors' public code set it up: a $100 \times 100$ ground
truth of rank 5, a uniformly random set $\Omega$ of observed entries, and

* the convex baseline $\min \|X\|_*$ subject to $X_{ij} = M_{ij}$ on $\Omega$ (Candes and Recht, 2009),
  solved here by ADMM with singular value thresholding (:func:`nuclear_norm_minimization`);
* gradient descent over a depth-$N$ factorization $W = W_N \cdots W_1$ of square factors on the mean
  squared error over $\Omega$ (:func:`complete_matrix`), from a near-zero initialization.

The descent runs on lnnlib's one engine (``lnnlib.train._iterate``, in place, as fast per step as the
loop it replaced: 166 vs 167 us per step at $n = 100$, depth 3, one thread) with settings chosen for speed
(float32, plain GD with a constant step $\eta = 2$, heavy-ball momentum switched on only late, once the
training loss is below ``1e-4``); the test suite checks it against small-step plain gradient descent at
$n = 100$.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.ticker import MaxNLocator
from threadpoolctl import threadpool_limits

from ._validation import (
    MAX_SIZE,
    MAX_STEPS,
    as_array,
    as_list,
    as_matrix,
    as_positive_list,
    as_rng,
    check_axes,
    check_callable,
    check_count,
    check_depth,
    check_flag,
    check_int,
    check_int_list,
    check_options,
    check_positive,
    check_real,
    check_steps,
    check_threads,
    guard,
)
from .init import identity_init, near_zero_init
from .metrics import effective_rank, reconstruction_error
from .train import _iterate, _layer_steps

__all__ = [
    "LECTURE_TABLE",
    "CompletionResult",
    "NuclearNormResult",
    "NotConvergedError",
    "low_rank_matrix",
    "sample_mask",
    "completion_problem",
    "completion_loss",
    "completion_gradient",
    "nuclear_norm",
    "nuclear_norm_minimization",
    "complete_matrix",
    "completion_trajectory",
    "completion_table",
    "summarize_completion_table",
    "format_completion_table",
    "init_scale_sweep",
    "error_vs_init_scale",
    "plot_error_vs_init_scale",
    "plot_singular_values",
    "plot_spectra",
]

#: The lecture's table of the [ACHL19] experiment: (error, nuclear norm, effective rank) per observation count
#: and method.
LECTURE_TABLE: dict[tuple[int, str], tuple[float, float, float]] = {
    (5000, "nuclear norm min"): (8e-07, 221, 5),
    (5000, "depth 2"): (5e-06, 221, 5),
    (5000, "depth 3"): (4e-06, 221, 5),
    (2000, "nuclear norm min"): (2e-01, 217, 8),
    (2000, "depth 2"): (6e-02, 220, 6),
    (2000, "depth 3"): (3e-05, 221, 5),
}

BLOWUP_FACTOR = 1e8


class NotConvergedError(RuntimeError):
    """Raised (when asked for with ``strict=True``) if a solver stops before reaching its tolerance."""


# ----------------------------------------------------------------------------------------------------
# problems


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value}")
    return check_count(value, name)


def low_rank_matrix(n: int, rank: int, rng=None) -> np.ndarray:
    r"""Return the [ACHL19] ground truth $M = U V^\top / \sqrt{r}$, rescaled to $\|M\|_F = n$.

    $U, V \in \mathbb R^{n \times r}$ have i.i.d. $\mathcal N(0, 1)$ entries, as in the [ACHL19] experiment.
    After rescaling the root-mean-square entry is 1, so the reconstruction error
    $\|W - M\|_F^2 / \|M\|_F^2$ is the mean squared error over all entries.

    Parameters
    ----------
    n : int, the matrix is ``n x n``.
    rank : int, ``1 <= rank <= n``.
    rng : np.random.Generator or seed.
    """
    n = _check_count(n, "the size n")
    r = _check_count(rank, "the rank r")
    if r > n:
        raise ValueError(f"an n x n matrix has rank at most n = {n}; asked for rank r = {r}")
    if n * n > MAX_SIZE:
        raise ValueError(f"an n x n matrix with n = {n} has {n * n:,} entries; at most {MAX_SIZE:,} are supported")
    rng = as_rng(rng)
    U = rng.standard_normal((n, r))
    V = rng.standard_normal((n, r))
    M = U @ V.T / np.sqrt(r)
    return M * (n / np.linalg.norm(M))


def sample_mask(shape, count: int, rng=None) -> np.ndarray:
    """Return a boolean mask of ``shape`` with exactly ``count`` True entries, uniform without replacement.

    These are the observed positions $\\Omega$ of [ACHL19] (sampled uniformly, no noise).
    """
    if shape is None or isinstance(shape, (str, bytes)) or np.ndim(shape) != 1:
        raise ValueError(f"shape must be a pair (rows, columns); got {shape!r}")
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(f"shape must be a pair (rows, columns) of positive integers; got {shape}")
    shape = tuple(check_count(s, "each entry of shape (rows, columns)") for s in shape)
    count = _check_count(count, "the number of observed entries")
    size = shape[0] * shape[1]
    if size > MAX_SIZE:
        raise ValueError(f"a {shape[0]} x {shape[1]} mask has {size:,} entries; at most {MAX_SIZE:,} are supported")
    if count > size:
        raise ValueError(
            f"cannot observe {count} entries of a {shape[0]} x {shape[1]} matrix: it has only {size} entries"
        )
    flat = np.zeros(size, dtype=bool)
    flat[as_rng(rng).choice(size, size=count, replace=False)] = True
    return flat.reshape(shape)


def completion_problem(n: int, rank: int, count: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(M, mask)``: a :func:`low_rank_matrix` and a :func:`sample_mask` of ``count`` entries."""
    rng = as_rng(rng)
    M = low_rank_matrix(n, rank, rng)
    return M, sample_mask(M.shape, count, rng)


def _check_observed(observed, mask) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(observed, mask)``; entries off the mask may be anything (even NaN) and are zeroed."""
    try:
        mask_arr = np.asarray(mask)
    except (TypeError, ValueError):
        raise ValueError(f"the mask must be a boolean matrix; got {type(mask).__name__}") from None
    if mask_arr.dtype != bool:
        if mask_arr.dtype.kind in "iu" and np.isin(mask_arr, (0, 1)).all():
            mask_arr = mask_arr.astype(bool)
        else:
            raise ValueError(f"the mask must be boolean (True = observed); got entries of type {mask_arr.dtype}")
    if mask_arr.ndim != 2:
        raise ValueError(f"the mask must be a matrix (2-D); got shape {mask_arr.shape}")
    M = np.array(as_array(observed, "the observed matrix", what="matrix", empty=True, finite=False), dtype=float)
    if M.ndim != 2:
        raise ValueError(f"the observed matrix must be 2-D; got shape {M.shape}")
    if M.shape != mask_arr.shape:
        raise ValueError(
            f"the mask has shape {mask_arr.shape} but the observed matrix has shape {M.shape}; "
            "the mask must mark positions of that same matrix"
        )
    if not mask_arr.any():
        raise ValueError("the mask observes no entry: there is nothing to fit")
    bad = mask_arr & ~np.isfinite(M)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"observed entry ({i}, {j}) is {M[i, j]}: every observed entry must be a finite number "
            f"({int(bad.sum())} non-finite observed entries in all)"
        )
    M[~mask_arr] = 0.0
    return M, mask_arr


@guard
def completion_loss(W, observed, mask) -> float:
    r"""Return the [ACHL19] training loss $\ell(W) = \frac{1}{|\Omega|} \sum_{(i,j) \in \Omega} (W_{ij} - M_{ij})^2$."""
    M, mask = _check_observed(observed, mask)
    W = as_matrix(W, "W")
    if W.shape != M.shape:
        raise ValueError(f"W has shape {W.shape} but the observed matrix has shape {M.shape}")
    R = np.where(mask, W - M, 0.0)
    return float(np.sum(R**2) / mask.sum())


@guard
def completion_gradient(W, observed, mask) -> np.ndarray:
    r"""Return $\nabla \ell(W) = \frac{2}{|\Omega|} P_\Omega(W - M)$, zero off the observed entries."""
    M, mask = _check_observed(observed, mask)
    W = as_matrix(W, "W")
    if W.shape != M.shape:
        raise ValueError(f"W has shape {W.shape} but the observed matrix has shape {M.shape}")
    return np.where(mask, W - M, 0.0) * (2.0 / mask.sum())


@guard
def nuclear_norm(W) -> float:
    r"""Return $\|W\|_* = \sum_r \sigma_r(W)$, the sum of singular values."""
    return float(np.linalg.svd(as_matrix(W, "W").astype(float), compute_uv=False).sum())


# ----------------------------------------------------------------------------------------------------
# nuclear norm minimization (ADMM)


@dataclass
class NuclearNormResult:
    """Outcome of :func:`nuclear_norm_minimization`.

    Attributes
    ----------
    X : the solution (the singular-value-thresholded iterate).
    nuclear_norm : $\\|X\\|_*$.
    iterations : ADMM iterations taken.
    converged : whether both residuals reached ``tol``.
    constraint_residual : $\\|P_\\Omega(X) - \\Pi(P_\\Omega X)\\|_F / \\|P_\\Omega M\\|_F$, the distance of the
        observed entries from the constraint set (equality or box), relative.
    dual_residual : the relative ADMM dual residual at the end.
    box : the half-width of the box constraint (0 for equality).
    """

    X: np.ndarray
    nuclear_norm: float
    iterations: int
    converged: bool
    constraint_residual: float
    dual_residual: float
    box: float
    seconds: float = 0.0

    @property
    def end_to_end(self) -> np.ndarray:
        """The completed matrix (same name as :class:`CompletionResult` for uniform handling)."""
        return self.X


def _svt(A: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Singular value thresholding: ``U diag(max(s - tau, 0)) V^T`` and the thresholded values."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    s = np.maximum(s - tau, 0.0)
    k = int(np.count_nonzero(s))
    return (U[:, :k] * s[:k]) @ Vt[:k], s[:k]


@guard
def nuclear_norm_minimization(
    observed,
    mask,
    *,
    box: float = 0.0,
    tol: float = 1e-6,
    max_iterations: int = 5000,
    rho: float | None = None,
    strict: bool = False,
    threads: int | None = 1,
) -> NuclearNormResult:
    r"""Return $\arg\min \|X\|_*$ subject to $|X_{ij} - M_{ij}| \le \delta$ on the observed entries.

    $\delta$ = ``box``; the default $\delta = 0$ is the equality-constrained program of Candes and Recht
    (2009). The official [ACHL19] code solves it with cvxpy + SCS and $\delta = 10^{-3}$ (a box).

    Solved by ADMM on $\min \|Z\|_* + \iota_C(X)$ s.t. $Z = X$ (in the scaled form of Boyd et al. 2011),
    $C$ the constraint set:

    $$Z \leftarrow \mathrm{SVT}_{1/\rho}(X - U), \quad X \leftarrow \Pi_C(Z + U), \quad U \leftarrow U + Z - X,$$

    with singular value thresholding $\mathrm{SVT}_\tau(A) = U_A \max(\Sigma_A - \tau, 0) V_A^\top$ and
    residual balancing of $\rho$ (Boyd et al. 2011). It stops when the primal residual
    $\|Z - X\|_F$ and the dual residual $\rho\|X - X_{\rm prev}\|_F$ are both at most ``tol`` relative to
    $\|P_\Omega M\|_F$ and $\rho \|U\|_F$; the returned $Z$ then meets the constraints to ``tol``
    relative.

    Parameters
    ----------
    observed : (n1, n2) array, the matrix $M$; entries off the mask are ignored (may be NaN).
    mask : (n1, n2) bool array, True on observed entries $\Omega$.
    box : float, $\delta \ge 0$.
    tol : float, the relative tolerance of both residuals.
    max_iterations : int.
    rho : float, the initial penalty; default $1 / (0.1\, \sigma_1)$ with $\sigma_1$ the top singular
        value of the observed entries rescaled by $n_1 n_2 / |\Omega|$ (adapted during the run).
    strict : bool, raise :class:`NotConvergedError` instead of returning ``converged=False``.
    threads : int or None, BLAS threads during the solve (1 is fastest for n ~ 100; None leaves it).
    """
    threads = check_threads(threads)
    strict = check_flag(strict, "strict")
    if threads:
        with threadpool_limits(limits=threads):
            return nuclear_norm_minimization(
                observed, mask, box=box, tol=tol, max_iterations=max_iterations, rho=rho, strict=strict, threads=None
            )
    start = time.perf_counter()
    M, mask = _check_observed(observed, mask)
    if isinstance(box, bool) or not isinstance(box, numbers.Real) or not np.isfinite(box) or box < 0:
        raise ValueError(f"the box half-width delta must be a finite number >= 0; got {box!r}")
    tol = check_positive(tol, "tol")
    max_iterations = check_steps(_check_count(max_iterations, "max_iterations"), "max_iterations")
    norm_obs = float(np.linalg.norm(M))
    if norm_obs == 0 and box == 0:
        Z = np.zeros_like(M)
        return NuclearNormResult(Z, 0.0, 0, True, 0.0, 0.0, float(box), time.perf_counter() - start)
    scale = max(norm_obs, np.finfo(float).tiny)
    lo, hi = M - box, M + box

    def project(A):
        out = A.copy()
        out[mask] = np.clip(A[mask], lo[mask], hi[mask])
        return out

    if rho is None:
        # threshold 1/rho at a fraction of the top singular value of the (rescaled) observations
        top = np.linalg.norm(M * (M.size / mask.sum()), 2)
        rho = 1.0 / (0.1 * max(top, np.finfo(float).tiny))
    rho = check_positive(rho, "rho")
    X = project(np.zeros_like(M))
    U = np.zeros_like(M)
    Z = X
    converged = False
    r_rel = s_rel = np.inf
    it = 0
    for it in range(1, max_iterations + 1):  # noqa: B007 (the count is reported)
        Z, _ = _svt(X - U, 1.0 / rho)
        X_prev = X
        X = project(Z + U)
        U = U + Z - X
        r = float(np.linalg.norm(Z - X))
        s = rho * float(np.linalg.norm(X - X_prev))
        r_rel = r / scale
        s_rel = s / max(rho * float(np.linalg.norm(U)), np.finfo(float).tiny)
        if r_rel <= tol and s_rel <= tol:
            converged = True
            break
        # residual balancing (Boyd et al. 2011): keep the two residuals within a factor 10 of each other
        if r > 10 * s:
            rho *= 2.0
            U /= 2.0
        elif s > 10 * r:
            rho /= 2.0
            U *= 2.0
    if not np.all(np.isfinite(Z)):
        raise FloatingPointError("ADMM for nuclear-norm minimization produced non-finite values")
    violation = float(np.linalg.norm(Z[mask] - np.clip(Z[mask], lo[mask], hi[mask]))) / scale
    res = NuclearNormResult(
        X=Z,
        nuclear_norm=nuclear_norm(Z),
        iterations=it,
        converged=converged,
        constraint_residual=violation,
        dual_residual=s_rel,
        box=float(box),
        seconds=time.perf_counter() - start,
    )
    if strict and not converged:
        raise NotConvergedError(
            f"nuclear-norm ADMM stopped after {it} iterations without reaching tol = {tol:g}: "
            f"relative primal residual {r_rel:.2g}, dual residual {s_rel:.2g}"
        )
    return res


# ----------------------------------------------------------------------------------------------------
# gradient descent over a deep factorization


@dataclass
class CompletionResult:
    """Outcome of :func:`complete_matrix`.

    Attributes
    ----------
    end_to_end : (n1, n2) float64 array, the completed matrix $W = W_N \\cdots W_1$.
    weights : the final layers ``[W_1, ..., W_N]`` (in the working dtype).
    depth, lr : $N$ and the step size.
    iterations : gradient steps taken.
    loss : the final training loss (float64, recomputed from ``end_to_end``).
    converged : whether the training loss reached ``tol`` before ``max_steps``.
    momentum_from : the step at which heavy-ball momentum was switched on (``None`` if never).
    losses : (iterations + 1,) array of the training loss before each step and at the end.
    steps, singular_values : the steps at which singular values were recorded and the values, (k, n).
    """

    end_to_end: np.ndarray
    weights: list[np.ndarray]
    depth: int
    lr: float
    iterations: int
    loss: float
    converged: bool
    momentum_from: int | None
    losses: np.ndarray
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    singular_values: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    seconds: float = 0.0


def _record_steps(record, max_steps: int):
    if record is None:
        return None
    if isinstance(record, numbers.Integral) and not isinstance(record, bool):
        if record < 1:
            raise ValueError(f"record (every how many steps) must be a positive integer; got {record}")
        return check_steps(record, "record (every how many steps)")
    if isinstance(record, (str, bytes, bool, float)) or np.ndim(record) != 1:
        raise ValueError(f"record must be a positive integer or a non-empty list of step numbers >= 0; got {record!r}")
    steps = check_int_list(record, "record (the steps to record)", low=0, what="step numbers")
    return set(steps)


def complete_matrix(
    observed,
    mask,
    depth: int,
    *,
    rng=None,
    init_scale: float = 1e-3,
    init: str = "gaussian",
    lr: float = 2.0,
    momentum: float = 0.97,
    momentum_below: float = 1e-4,
    tol: float = 1e-6,
    max_steps: int = 100_000,
    dtype=np.float32,
    record=None,
    strict: bool = False,
    threads: int | None = 1,
) -> CompletionResult:
    r"""Return the matrix completed by gradient descent over a depth-$N$ factorization, as in [ACHL19].

    Minimizes $\phi(W_1, \dots, W_N) = \ell(W_N \cdots W_1)$ with square $n \times n$ factors (no rank
    constraint) and the mean squared error over the observed entries,
    $\ell(W) = \frac{1}{|\Omega|}\sum_{(i,j)\in\Omega} (W_{ij} - M_{ij})^2$, by

    $$W_j \leftarrow W_j - \eta\, v_j, \qquad v_j \leftarrow \beta_t v_j + \frac{\partial \phi}{\partial W_j},
    \qquad \frac{\partial\phi}{\partial W_j} = (W_N \cdots W_{j+1})^\top \nabla\ell(W) (W_{j-1}\cdots W_1)^\top,$$

    with $\beta_t = 0$ (plain gradient descent) until the training loss first drops below
    ``momentum_below``, and $\beta_t =$ ``momentum`` afterwards (heavy ball). By then the solution's
    low-rank structure is settled and only the fit of the last digits remains, which momentum shortens;
    with the defaults the result agrees with small-step plain gradient descent at $n = 100$ (the tests
    measure it), while momentum from the start finds a different, higher-rank solution.
    Stops at training loss $\le$ ``tol`` (the $10^{-6}$ of the [ACHL19] code) or after ``max_steps`` steps
    (``converged=False``; with ``strict=True`` a :class:`NotConvergedError`).

    Initialization: ``"gaussian"`` is the [ACHL19] near-zero init, i.i.d.
    $\mathcal N(0, \mathrm{init\_scale}^{2/N}/n)$ entries, so that $\|W\|_F \approx \sqrt n \cdot
    \mathrm{init\_scale}$; ``"identity"`` is $W_j = \mathrm{init\_scale}^{1/N} I$, i.e. $W = \mathrm{init\_scale}\, I$.

    Parameters
    ----------
    observed, mask : the matrix $M$ (entries off the mask ignored) and the boolean mask of $\Omega$.
    depth : int, $N \ge 1$.
    rng : np.random.Generator or seed (for the Gaussian init).
    init_scale, init : see above.
    lr : float, the step size $\eta$ on the mean loss.
    momentum, momentum_below : the heavy-ball coefficient and the loss below which it is switched on
        (``momentum=0`` gives plain gradient descent throughout).
    tol, max_steps : stopping rule.
    dtype : ``np.float32`` (default, ~2x faster, same outcomes) or ``np.float64``.
    record : None, an int $k$ (record the singular values of $W$ every $k$ steps) or a list of steps.
    strict : bool, raise instead of flagging when ``max_steps`` is reached.
    threads : int or None, BLAS threads during the run (1 is fastest for n ~ 100; None leaves it).

    Raises
    ------
    FloatingPointError
        If the loss becomes non-finite or grows by a factor ``1e8``: the step size is too large.
    """
    threads = check_threads(threads)
    strict = check_flag(strict, "strict")
    if threads:
        with threadpool_limits(limits=threads):
            return complete_matrix(
                observed,
                mask,
                depth,
                rng=rng,
                init_scale=init_scale,
                init=init,
                lr=lr,
                momentum=momentum,
                momentum_below=momentum_below,
                tol=tol,
                max_steps=max_steps,
                dtype=dtype,
                record=record,
                strict=strict,
                threads=None,
            )
    start = time.perf_counter()
    M, mask = _check_observed(observed, mask)
    N = check_depth(depth)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"deep factorization with square factors needs a square matrix; got shape {M.shape}")
    n = M.shape[0]
    init_scale = check_positive(init_scale, "init_scale")
    lr = check_positive(lr, "the learning rate eta")
    tol = check_positive(tol, "tol")
    if not (isinstance(momentum, numbers.Real) and 0 <= momentum < 1):
        raise ValueError(f"the momentum coefficient beta must lie in [0, 1); got {momentum!r}")
    momentum_below = check_positive(momentum_below, "momentum_below")
    max_steps = check_steps(max_steps, "max_steps")
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        dtype = None
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64; got {dtype!r}")
    if np.abs(M).max() > np.sqrt(float(np.finfo(dtype).max)) / 10:  # the squared errors would overflow
        raise ValueError(
            f"observed entries up to {np.abs(M).max():.3g} are too large for {dtype} (their squares overflow): "
            f"rescale the data{' or pass dtype=np.float64' if dtype == np.float32 else ''}"
        )
    record = _record_steps(record, max_steps)
    dims = [n] * (N + 1)
    if init == "gaussian":
        layers = near_zero_init(dims, init_scale, rng)
    elif init == "identity":
        layers = identity_init(dims, init_scale)
    else:
        raise ValueError(f"init must be 'gaussian' or 'identity'; got {init!r}")
    try:
        with np.errstate(over="raise"):
            layers = [np.ascontiguousarray(W, dtype=dtype) for W in layers]
    except FloatingPointError:
        raise ValueError(f"init_scale = {init_scale:g} gives initial layers beyond {dtype}") from None
    if lr > float(np.finfo(dtype).max):
        raise ValueError(f"the learning rate eta = {lr:g} is beyond {dtype}")
    Mw = M.astype(dtype)
    maskw = mask.astype(dtype)
    m = int(mask.sum())
    gscale = dtype.type(2.0 / m)
    lr_w = dtype.type(lr)
    beta = dtype.type(momentum)

    rec_steps: list[int] = []
    rec_values: list[np.ndarray] = []
    momentum_from = None
    last = [None]  # the end-to-end matrix of the last iterate

    def loss_and_gradient(W):
        R = (W - Mw) * maskw
        return float(np.vdot(R, R)) / m, R * gscale

    def on_record(t, layers, aux, value):  # called at every iterate (record_every=1)
        last[0] = aux[0]
        if record is not None and (t in record if isinstance(record, set) else t % record == 0):
            rec_steps.append(t)
            rec_values.append(np.linalg.svd(aux[0].astype(float), compute_uv=False))

    def heavy_ball(t, value):  # momentum from the first iterate whose loss is below momentum_below
        nonlocal momentum_from
        if momentum_from is None and momentum > 0 and value < momentum_below:
            momentum_from = t
        return beta if momentum_from is not None else 0.0

    # lnnlib's descent engine, in the caller's dtype (float32: ~2x faster than float64, same outcomes)
    evaluate, update = _layer_steps(loss_and_gradient, lr_w, heavy_ball)
    layers, losses, diverged, bad = _iterate(
        layers, evaluate, update, max_steps, record_every=1, tol=tol, record=on_record
    )
    if diverged is not None:
        raise FloatingPointError(
            f"gradient descent on the completion loss diverged at step {diverged} with learning rate "
            f"eta = {lr:g} (depth {N}): the loss went from {losses[0] if len(losses) else np.nan:.3g} to "
            f"{bad:.3g}; use a smaller learning rate"
        )
    t = len(losses) - 1
    converged = bool(losses[-1] <= tol)
    W = last[0]
    if record is not None and (not rec_steps or rec_steps[-1] != t):
        rec_steps.append(t)
        rec_values.append(np.linalg.svd(W.astype(float), compute_uv=False))
    W64 = layers[0].astype(float)
    for Wj in layers[1:]:
        W64 = Wj.astype(float) @ W64
    final = float(np.sum(np.where(mask, W64 - M, 0.0) ** 2) / m)
    if strict and not converged:
        raise NotConvergedError(
            f"gradient descent (depth {N}, eta = {lr:g}) reached the step cap {max_steps} at training loss "
            f"{final:.3g} > tol = {tol:g}"
        )
    return CompletionResult(
        end_to_end=W64,
        weights=layers,
        depth=N,
        lr=lr,
        iterations=t,
        loss=final,
        converged=converged,
        momentum_from=momentum_from,
        losses=np.array(losses),
        steps=np.array(rec_steps, dtype=int),
        singular_values=np.array(rec_values) if rec_values else np.zeros((0, n)),
        seconds=time.perf_counter() - start,
    )


# ----------------------------------------------------------------------------------------------------
# experiments


def _check_method(method):
    if isinstance(method, str):
        if method != "nuclear":
            raise ValueError(f"each of methods must be 'nuclear' or a depth N >= 1; got {method!r}")
        return method
    return check_depth(method, "each of methods (a depth N, or 'nuclear')")


def _check_records(records, keys: tuple, source: str) -> list[dict]:
    """Records (dicts) holding ``keys``, with finite nonnegative errors, norms and ranks."""
    rows = as_list(records, "records", f"records of {source}")
    for i, r in enumerate(rows):
        if not isinstance(r, dict):
            raise ValueError(f"records[{i}] must be a record (a dict) of {source}; got {type(r).__name__}")
        missing = [k for k in keys if k not in r]
        if missing:
            raise ValueError(f"records[{i}] lacks {', '.join(map(repr, missing))}: pass the records of {source}")
        for k in ("error", "nuclear_norm", "effective_rank"):
            if k in keys:
                check_real(r[k], f"records[{i}][{k!r}]", low=0.0)
    return rows


def _method_name(method) -> str:
    return "nuclear norm min" if method == "nuclear" else f"depth {method}"


def _instance(seed: int, count: int, n: int, rank: int):
    """The problem of ``seed`` at ``count`` observations and the generator of its initializations:
    the same instance for :func:`completion_table` and :func:`init_scale_sweep`."""
    prob_rng, init_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), int(count)]).spawn(2))
    M, mask = completion_problem(n, rank, count, prob_rng)
    return M, mask, init_rng


def _measure(W, M, res, keep_matrices: bool, **keys) -> dict:
    """One record: the keys given, then error, nuclear norm, effective rank and the run's outcome."""
    record = dict(
        keys,
        error=reconstruction_error(W, M),
        nuclear_norm=nuclear_norm(W),
        effective_rank=effective_rank(W),
        iterations=int(res.iterations),
        converged=bool(res.converged),
    )
    if keep_matrices:
        record.update(W=W, M=M)
    return record


def completion_table(
    counts: Sequence[int] = (5000, 2000),
    methods: Sequence = ("nuclear", 2, 3),
    seeds: Sequence[int] = (0, 1, 2),
    *,
    n: int = 100,
    rank: int = 5,
    box: float = 0.0,
    threads: int | None = 1,
    keep_matrices: bool = False,
    **descent_options,
) -> list[dict]:
    """Run the [ACHL19] matrix-completion table; return one record per (count, seed, method).

    For each seed, a ground truth ``low_rank_matrix(n, rank)`` and a mask of each count are drawn from
    ``np.random.default_rng(seed)`` (the same instance for every method); each method completes it:
    ``"nuclear"`` by :func:`nuclear_norm_minimization` (equality constraints unless ``box > 0``), an
    integer ``N`` by :func:`complete_matrix` at depth ``N`` (``descent_options`` passed on). Records hold
    ``count, seed, method, error`` (:func:`lnnlib.reconstruction_error`), ``nuclear_norm``,
    ``effective_rank``, ``iterations``, ``converged``, ``seconds`` (and, with ``keep_matrices``, the
    completed matrix ``W`` and the ground truth ``M``). BLAS is pinned to ``threads``.
    """
    counts = check_int_list(counts, "counts (numbers of observed entries)", high=MAX_SIZE)
    methods = [_check_method(m) for m in as_list(methods, "methods", "methods ('nuclear' or a depth N)")]
    seeds = check_int_list(seeds, "seeds", low=0, high=None)
    _check_count(n, "the size n")
    _check_count(rank, "the rank r")
    threads = check_threads(threads)
    keep_matrices = check_flag(keep_matrices, "keep_matrices")
    check_options(descent_options, complete_matrix, "completion_table", exclude=("observed", "mask", "depth", "rng"))
    records = []
    limits = threadpool_limits(limits=threads) if threads else None
    try:
        for count in counts:
            for seed in seeds:
                M, mask, init_rng = _instance(seed, count, n, rank)
                observed = np.where(mask, M, np.nan)
                for method in methods:
                    if method == "nuclear":
                        res = nuclear_norm_minimization(observed, mask, box=box)
                    else:
                        res = complete_matrix(observed, mask, method, rng=init_rng, **descent_options)
                    records.append(
                        _measure(
                            res.end_to_end,
                            M,
                            res,
                            keep_matrices,
                            count=int(count),
                            seed=int(seed),
                            method=_method_name(method),
                            truth_nuclear_norm=nuclear_norm(M),
                            seconds=float(res.seconds),
                        )
                    )
    finally:
        if limits is not None:
            limits.unregister()
    return records


def summarize_completion_table(records: Sequence[dict]) -> list[dict]:
    """Group the records of :func:`completion_table` by (count, method): geometric mean, min and max
    of the error; mean, min and max of nuclear norm and effective rank; all converged or not."""
    records = _check_records(
        records, ("count", "method", "error", "nuclear_norm", "effective_rank", "converged"), "completion_table"
    )
    keys = []
    for r in records:
        k = (r["count"], r["method"])
        if k not in keys:
            keys.append(k)
    out = []
    for count, method in keys:
        rows = [r for r in records if r["count"] == count and r["method"] == method]
        err = np.array([r["error"] for r in rows])
        nn = np.array([r["nuclear_norm"] for r in rows])
        er = np.array([r["effective_rank"] for r in rows])
        out.append(
            dict(
                count=count,
                method=method,
                seeds=len(rows),
                error_geomean=float(np.exp(np.mean(np.log(np.maximum(err, 1e-300))))),
                error_min=float(err.min()),
                error_max=float(err.max()),
                nuclear_norm_mean=float(nn.mean()),
                nuclear_norm_min=float(nn.min()),
                nuclear_norm_max=float(nn.max()),
                effective_rank_mean=float(er.mean()),
                effective_rank_min=float(er.min()),
                effective_rank_max=float(er.max()),
                all_converged=all(r["converged"] for r in rows),
                lecture=LECTURE_TABLE.get((count, method)),
            )
        )
    return out


def _e(x: float) -> str:
    if x < 1e-10:  # rounding level: its digits depend on the BLAS kernel (CONTRIBUTING.md, portable outputs)
        return "0 (below 1e-10)"
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e+")


def format_completion_table(records: Sequence[dict]) -> str:
    """Return the summary of :func:`completion_table` as a text table beside the lecture's values.

    Errors are shown to one significant digit (geometric mean, range over seeds), nuclear norms to the
    unit, effective ranks to one decimal: digits that do not depend on the BLAS thread count.
    """
    lines = [
        f"{'obs':>5} {'method':<17}| {'error (range)':<24}| {'nuc. norm':<10}| {'eff. rank':<15}| {'lecture':<16}| conv.",
    ]
    for s in summarize_completion_table(records):
        err = f"{_e(s['error_geomean'])} ({_e(s['error_min'])}..{_e(s['error_max'])})"
        nn = f"{s['nuclear_norm_mean']:.0f} ({s['nuclear_norm_max'] - s['nuclear_norm_min']:.0f})"
        er = f"{s['effective_rank_mean']:.1f} ({s['effective_rank_min']:.1f}..{s['effective_rank_max']:.1f})"
        lecture = s["lecture"]
        pp = f"{_e(lecture[0])}/{lecture[1]:.0f}/{lecture[2]:.0f}" if lecture else "-"
        lines.append(
            f"{s['count']:>5} {s['method']:<17}| {err:<24}| {nn:<10}| {er:<15}| {pp:<16}| "
            f"{'yes' if s['all_converged'] else 'NO'}"
        )
    return "\n".join(lines)


def init_scale_sweep(
    count: int = 2000,
    depths: Sequence[int] = (2, 3, 4),
    init_scales: Sequence[float] = (1e-1, 1e-2, 1e-3, 1e-4),
    seeds: Sequence[int] = (0,),
    *,
    n: int = 100,
    rank: int = 5,
    threads: int | None = 1,
    keep_matrices: bool = False,
    **descent_options,
) -> list[dict]:
    """Run gradient descent at each depth and Gaussian init scale; return one record per run.

    The init-scale experiment of [ACHL19], reduced: :func:`complete_matrix` at each depth and init scale on
    the same instances, one per seed, drawn exactly as in :func:`completion_table` (so seed ``s`` here is
    the instance of seed ``s`` there). Records hold ``depth, init_scale, seed, error``
    (:func:`lnnlib.reconstruction_error`), ``nuclear_norm``, ``effective_rank``, ``iterations``,
    ``converged`` (and, with ``keep_matrices``, the completed matrix ``W`` and the ground truth ``M``).
    Runs that hit the step cap raise :class:`NotConvergedError` unless ``strict=False`` is passed.
    """
    descent_options.setdefault("strict", True)
    _check_count(count, "the number of observed entries")
    depths = [check_depth(N, "each of depths") for N in as_list(depths, "depths", "depths N")]
    init_scales = as_positive_list(init_scales, "init_scales").tolist()
    seeds = check_int_list(seeds, "seeds", low=0, high=None)
    _check_count(n, "the size n")
    _check_count(rank, "the rank r")
    threads = check_threads(threads)
    keep_matrices = check_flag(keep_matrices, "keep_matrices")
    check_options(
        descent_options, complete_matrix, "init_scale_sweep", exclude=("observed", "mask", "depth", "rng", "init_scale")
    )
    records = []
    limits = threadpool_limits(limits=threads) if threads else None
    try:
        for seed in seeds:
            M, mask, init_rng = _instance(seed, count, n, rank)
            init_seed = init_rng.integers(2**32)
            for N in depths:
                for scale in init_scales:
                    res = complete_matrix(M, mask, N, rng=init_seed, init_scale=scale, **descent_options)
                    records.append(
                        _measure(
                            res.end_to_end, M, res, keep_matrices, depth=int(N), init_scale=float(scale), seed=int(seed)
                        )
                    )
    finally:
        if limits is not None:
            limits.unregister()
    return records


def error_vs_init_scale(records: Sequence[dict]) -> tuple[np.ndarray, list, list, list]:
    """Arrange the records of :func:`init_scale_sweep` by depth, init scale and seed.

    Returns ``(errors, depths, init_scales, seeds)`` with ``errors`` of shape
    ``(len(depths), len(init_scales), len(seeds))``, each axis in the order the sweep ran it.
    """
    records = _check_records(records, ("depth", "init_scale", "seed", "error"), "init_scale_sweep")
    depths, scales, seeds = ([], [], [])
    for r in records:
        for axis, key in ((depths, "depth"), (scales, "init_scale"), (seeds, "seed")):
            if r[key] not in axis:
                axis.append(r[key])
    errors = np.full((len(depths), len(scales), len(seeds)), np.nan)
    for r in records:
        errors[depths.index(r["depth"]), scales.index(r["init_scale"]), seeds.index(r["seed"])] = r["error"]
    if np.isnan(errors).any():
        raise ValueError("the records do not cover every (depth, init scale, seed) combination of the sweep")
    return errors, depths, scales, seeds


def plot_error_vs_init_scale(ax, init_scales, errors, depths, *, title: str | None = None):
    """Plot reconstruction error against init scale, one line per depth (mean over seeds, with range)."""
    check_axes(ax)
    scales = as_positive_list(init_scales, "init_scales")
    depths = [check_depth(N, "each of depths") for N in as_list(depths, "depths", "depths N")]
    errors = as_array(errors, "errors", what="array of errors (depth, init scale, ...)")
    if errors.ndim < 2 or errors.shape[:2] != (len(depths), scales.size):
        raise ValueError(
            f"errors must have shape (len(depths), len(init_scales), ...) = ({len(depths)}, {scales.size}, ...); "
            f"got {errors.shape}"
        )
    if np.any(errors <= 0) or np.any(errors > 1e300):
        raise ValueError("errors must lie in (0, 1e300]: they are drawn on a log scale")
    for i, N in enumerate(depths):
        e = errors[i].reshape(len(scales), -1)
        mid = np.exp(np.log(e).mean(axis=1))
        line = ax.plot(scales, mid, marker="o", label=f"depth {N}")[0]
        if e.shape[1] > 1:
            ax.fill_between(scales, e.min(axis=1), e.max(axis=1), color=line.get_color(), alpha=0.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("init scale (smaller to the right)")
    ax.set_ylabel(r"reconstruction error $\|W - M\|_F^2 / \|M\|_F^2$")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_singular_values(
    ax,
    steps,
    singular_values,
    *,
    top: int = 10,
    title: str | None = None,
    logy=True,
    highlight: int | None = None,
    legend: bool = True,
):
    r"""Plot the ``top`` largest singular values of the end-to-end matrix against the step.

    One curve per $\sigma_r$, $r = 1, \dots,$ ``top``. The step axis is logarithmic from step 1 on and
    linear between 0 and 1 (matplotlib's ``symlog``), so that step 0 is shown. With ``highlight`` $= k$,
    the curves of $\sigma_1 \dots \sigma_k$ get one colour each and a legend entry each, and those of
    $\sigma_{k+1} \dots \sigma_{top}$ are grey and dashed, with one legend entry for the group
    (``legend=False`` leaves the legend out, e.g. on all but one of several panels).
    """
    check_axes(ax)
    steps = as_array(steps, "steps", ndim=1, what="vector of step numbers")
    S = as_array(singular_values, "singular_values", ndim=2, what="matrix (one row of singular values per step)")
    if S.shape[0] != steps.size:
        raise ValueError(f"singular_values has {S.shape[0]} rows but there are {steps.size} steps: one row per step")
    if np.any(steps < 0) or np.any(steps > MAX_STEPS):
        raise ValueError(f"steps must be step numbers from 0 to {MAX_STEPS:,}; got {steps.min():g}..{steps.max():g}")
    if np.any(np.abs(S) > 1e300):
        raise ValueError("singular_values above 1e300 cannot be drawn on a log scale")
    top = check_count(top, "top (curves to draw)")
    logy = check_flag(logy, "logy")
    legend = check_flag(legend, "legend")
    shown = min(top, S.shape[1])
    if highlight is not None and (
        isinstance(highlight, bool) or not isinstance(highlight, numbers.Integral) or not 0 < highlight < shown
    ):
        raise ValueError(
            f"highlight must be an integer between 1 and {shown - 1} (the curves shown); got {highlight!r}"
        )
    for r in range(shown):
        if highlight is None:
            ax.plot(steps, S[:, r], lw=1.2)
        elif r < highlight:
            ax.plot(steps, S[:, r], lw=1.4, color=f"C{r}", label=rf"$\sigma_{{{r + 1}}}$")
        else:
            label = rf"$\sigma_{{{highlight + 1}}} \dots \sigma_{{{shown}}}$" if r == highlight else None
            ax.plot(steps, S[:, r], lw=1.0, color="0.55", ls="--", label=label)
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.3)
    ax.set_xlim(left=0)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("iteration (0, then log scale)")
    ax.set_ylabel("singular values")
    if highlight is not None and legend:
        ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_spectra(ax, matrices: dict, *, top: int = 20, title: str | None = None):
    """Plot the ``top`` largest singular values of each labelled matrix (log scale), one marker line each."""
    check_axes(ax)
    if not isinstance(matrices, dict) or not matrices:
        raise ValueError(f"matrices must be a non-empty dict {{label: matrix}}; got {type(matrices).__name__}")
    matrices = {label: as_matrix(W, f"matrices[{label!r}]") for label, W in matrices.items()}
    top = check_count(top, "top (singular values to draw)")
    for label, W in matrices.items():
        s = np.linalg.svd(np.asarray(W, dtype=float), compute_uv=False)[:top]
        ax.plot(np.arange(1, s.size + 1), s, marker="o", ms=3, label=label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yscale("log")
    ax.set_xlabel("index r")
    ax.set_ylabel(r"singular value $\sigma_r$")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


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
    progress=None,
) -> dict[str, np.ndarray]:
    r"""Return the training record of plain gradient descent on deep matrix factorization (the lecture demo's run).

    Minimizes $\phi(W_1..W_N) = \frac{1}{|\Omega|} \sum_{(i,j) \in \Omega} ((W_N \cdots W_1)_{ij} -
    M_{ij})^2$ over $N$ square factors from the near-zero Gaussian init of [ACHL19] (see
    :func:`lnnlib.near_zero_init`), until the loss is at most ``tol`` or ``max_steps`` steps, with
    lnnlib's layer-wise descent engine (``lnnlib.train.descend_layers``). Unlike :func:`complete_matrix`
    it records the whole spectrum along the run, for pictures.

    The default step size is $\eta = \frac12 \min\big(|\Omega|/2,\; n^2 / (N \sigma_1(M)^{2 - 2/N})\big)$: the
    end-to-end dynamics multiply the gradient along the top singular direction by
    $N \sigma_1^{2-2/N}$ [ACH18], and that direction carries a fraction $|\Omega|/n^2$ of the
    observed curvature $2/|\Omega|$; the first term is the depth-1 limit $2/\eta > 2/|\Omega|$.

    ``progress(fraction)`` is called at each record.

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
    return _completion_run(M, mask, N, init_scale, rng, lr, max_steps, tol, record_every, progress)


def _completion_run(M, mask, N, init_scale, rng, lr, max_steps, tol, record_every, progress=None, monitor=None):
    """:func:`completion_trajectory` on checked arguments; ``monitor(fraction, record_so_far)`` (the dict
    :func:`completion_trajectory` returns, ``converged`` False) is called at each record and may raise
    ``lnnlib.train.Stopped``. The lecture demo streams its picture from it."""
    from .network import end_to_end
    from .train import descend_layers

    n = M.shape[0]
    count = int(mask.sum())
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

    def so_far(final=None, converged=False):
        return {
            "steps": np.array(steps),
            "singular_values": np.array(svals),
            "error": np.array(errors),
            "erank": np.array(eranks),
            "loss": np.array(losses),
            "lr": lr,
            "converged": converged,
            "final": final,
        }

    def report(fraction):
        if progress is not None:
            progress(fraction)
        if monitor is not None:
            monitor(fraction, so_far())

    layers, _, diverged = descend_layers(
        layers, loss_and_gradient, lr, max_steps, record_every=record_every, tol=tol, record=record, progress=report
    )
    if diverged is not None:
        raise FloatingPointError(
            f"gradient descent diverged at step {diverged} with learning rate eta = {lr:.3g}; try a smaller init scale"
        )
    return so_far(end_to_end(layers), bool(losses[-1] <= tol))
