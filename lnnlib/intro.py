r"""Introduction: fitting vs generalizing, gradient descent's choice among global minima, gradient flow.

Notebook 00 uses the polynomial fits and the two "which global minimum?" examples (underdetermined least
squares; a depth-2 diagonal network); notebook 01 uses the gradient-flow reference integrator
:func:`gradient_flow`, :func:`gd_flow_deviation` and the finite-difference oracle for layer gradients.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre
from scipy.integrate import solve_ivp
from scipy.optimize import linprog

from ._validation import (
    MAX_STEPS,
    as_array,
    as_matrix,
    check_int,
    check_positive,
    check_real,
    check_steps,
    check_tol,
    check_weights,
    guard,
)
from .losses import Loss
from .network import _backward, _forward, end_to_end
from .train import gradient_descent

__all__ = [
    "legendre_features",
    "polynomial_fit",
    "polynomial_predict",
    "polynomial_errors",
    "least_squares_gd_limit",
    "minimum_l1_interpolant",
    "diagonal_network_gd",
    "diagonal_network_sharpness",
    "FlowTrajectory",
    "gradient_flow",
    "gd_flow_deviation",
    "finite_difference_layer_gradients",
    "loglog_slope",
]


# ---------------------------------------------------------------------------------------------------
# Polynomial regression (notebook 00: under- and over-fitting)
# ---------------------------------------------------------------------------------------------------


MAX_DEGREE = 1000  # far beyond where a least-squares polynomial fit means anything


def _as_vector(v, name: str) -> np.ndarray:
    a = as_array(v, name, what="vector", empty=True).astype(float, copy=False)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty vector (1-D array); got shape {a.shape}")
    return a


def _check_degree(degree) -> int:
    if isinstance(degree, bool) or not isinstance(degree, numbers.Integral) or degree < 0:
        raise ValueError(f"the polynomial degree must be a nonnegative integer; got {degree!r}")
    return check_int(
        degree, "the polynomial degree", low=0, high=MAX_DEGREE, why="no fit of that degree means anything"
    )


@guard
def legendre_features(x, degree: int) -> np.ndarray:
    r"""Return the feature matrix $[P_0(x_i), \dots, P_k(x_i)]_{i}$ of Legendre polynomials, $k$ = ``degree``.

    Legendre polynomials span the same space as $1, x, \dots, x^k$ but are orthogonal on $[-1, 1]$, so the
    least-squares problems stay well conditioned up to degree ~30 for inputs in $[-1, 1]$.

    Parameters
    ----------
    x : (m,) array of inputs, expected in $[-1, 1]$.
    degree : int, the largest degree $k \ge 0$.

    Returns
    -------
    (m, k + 1) array.
    """
    x = _as_vector(x, "the inputs x")
    return legendre.legvander(x, _check_degree(degree))


@guard
def polynomial_fit(x, y, degree: int) -> np.ndarray:
    r"""Return the Legendre coefficients $c$ minimizing $\sum_i (p_c(x_i) - y_i)^2$, $\deg p_c \le$ ``degree``.

    When there are more coefficients than distinct points the minimizer is not unique; the one of least
    Euclidean norm $\|c\|_2$ is returned (``numpy.linalg.lstsq``).
    """
    x = _as_vector(x, "the inputs x")
    y = _as_vector(y, "the targets y")
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} points but y has {y.size} values")
    return np.linalg.lstsq(legendre_features(x, degree), y, rcond=None)[0]


@guard
def polynomial_predict(coef, x) -> np.ndarray:
    r"""Return $p_c(x) = \sum_k c_k P_k(x)$ for Legendre coefficients ``coef`` (from :func:`polynomial_fit`)."""
    c = _as_vector(coef, "the coefficients c")
    return legendre_features(x, c.size - 1) @ c


@guard
def polynomial_errors(x_train, y_train, x_test, y_test, degrees) -> tuple[np.ndarray, np.ndarray]:
    r"""Return (train MSE, test MSE) of the least-squares polynomial of each degree in ``degrees``.

    MSE is $\frac1m \sum_i (p(x_i) - y_i)^2$ over the train or the test points.
    """
    x_test = _as_vector(x_test, "the test inputs")
    y_test = _as_vector(y_test, "the test targets")
    if x_test.shape != y_test.shape:
        raise ValueError(f"the test set has {x_test.size} inputs but {y_test.size} targets")
    if degrees is None or isinstance(degrees, (str, bytes)):
        raise ValueError(f"degrees must be a list of nonnegative integers (polynomial degrees); got {degrees!r}")
    degrees = [_check_degree(k) for k in (list(degrees) if np.ndim(degrees) else [degrees])]
    if not degrees:
        raise ValueError("degrees is empty: give at least one polynomial degree")
    train, test = [], []
    for k in degrees:
        c = polynomial_fit(x_train, y_train, k)
        train.append(np.mean((polynomial_predict(c, x_train) - np.asarray(y_train, float)) ** 2))
        test.append(np.mean((polynomial_predict(c, x_test) - y_test) ** 2))
    return np.array(train), np.array(test)


# ---------------------------------------------------------------------------------------------------
# Which global minimum does gradient descent find? (notebook 00)
# ---------------------------------------------------------------------------------------------------


def _check_regression(X, y):
    X = as_matrix(X, "the inputs X")
    y = _as_vector(y, "the targets y")
    if X.shape[0] != y.size:
        raise ValueError(f"X has {X.shape[0]} examples (rows) but y has {y.size} targets")
    return X, y


@guard
def least_squares_gd_limit(X, y, w0) -> np.ndarray:
    r"""Return the point that gradient descent on $\frac1{2m}\|Xw - y\|^2$ converges to from $w_0$.

    Every step moves $w$ by a multiple of $X^\top r$, i.e. inside the row space of $X$, so the component of
    $w_0$ orthogonal to the row space never changes. With a stable step size the limit is therefore

    $$w_\infty = X^+ y + (I - X^+ X)\, w_0,$$

    the global minimizer closest to $w_0$. From $w_0 = 0$ it is the minimum-norm solution $X^+ y$.
    """
    X, y = _check_regression(X, y)
    w0 = _as_vector(w0, "the initialization w0")
    if w0.size != X.shape[1]:
        raise ValueError(f"w0 has {w0.size} entries but X has {X.shape[1]} features (columns)")
    Xp = np.linalg.pinv(X)
    return Xp @ y + w0 - Xp @ (X @ w0)


def minimum_l1_interpolant(X, y) -> np.ndarray:
    r"""Return $\arg\min \|w\|_1$ subject to $Xw = y$ (basis pursuit), solved as a linear program.

    Write $w = p - q$ with $p, q \ge 0$ and minimize $\mathbf 1^\top (p + q)$ subject to $X(p - q) = y$
    (scipy's HiGHS solver).

    Raises
    ------
    ValueError
        If no $w$ satisfies $Xw = y$.
    """
    X, y = _check_regression(X, y)
    d = X.shape[1]
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs")
    if res.status != 0:
        raise ValueError(f"no w satisfies X w = y exactly, so there is no l1-minimal interpolant ({res.message})")
    return res.x[:d] - res.x[d:]


@guard
def diagonal_network_gd(
    X, y, init_scale: float, lr: float, steps: int, *, tol: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Return ``(w, losses)`` of gradient descent on the depth-2 diagonal network $w = u \odot u - v \odot v$.

    The loss $\frac1{2m}\|X(u \odot u - v \odot v) - y\|^2$ is non-convex in $(u, v)$; with $g =
    \frac1m X^\top(Xw - y)$ the steps are $u \leftarrow u - 2\eta\, u \odot g$,
    $v \leftarrow v + 2\eta\, v \odot g$, from $u = v = \alpha \mathbf 1$ (so $w = 0$). The init scale
    $\alpha$ selects the global minimum: small $\alpha$ drives $w$ toward the minimum-$\ell_1$ interpolant,
    large $\alpha$ toward the minimum-$\ell_2$ one (Woodworth et al., *Kernel and rich regimes in
    overparametrized models*, COLT 2020).

    Parameters
    ----------
    X : (m, d) inputs; y : (m,) targets.
    init_scale : float, $\alpha > 0$.
    lr : float, $\eta > 0$.
    steps : int, the most steps.
    tol : float, optional, stop once the loss is at most ``tol``.

    Returns
    -------
    w : (d,) array, the end-to-end vector $u \odot u - v \odot v$ at the end.
    losses : (T + 1,) array, the loss before the first and after each of the $T$ steps taken.

    Raises
    ------
    FloatingPointError
        If the loss becomes non-finite or grows by a factor $10^8$ (step size too large).
    """
    X, y = _check_regression(X, y)
    alpha = check_positive(init_scale, "the init scale alpha")
    lr = check_positive(lr, "the learning rate eta")
    steps = check_steps(steps)
    tol = check_tol(tol)
    m, d = X.shape
    u = np.full(d, alpha)
    v = np.full(d, alpha)

    def loss_of(w):
        r = X @ w - y
        return 0.5 * float(r @ r) / m, r

    value, r = loss_of(u * u - v * v)
    start = value
    losses = [value]
    with np.errstate(over="raise", invalid="raise"):
        for t in range(1, int(steps) + 1):
            if tol is not None and value <= tol:
                break
            g = X.T @ r / m
            try:
                u, v = u - 2 * lr * u * g, v + 2 * lr * v * g
                value, r = loss_of(u * u - v * v)
            except FloatingPointError:
                value = np.inf
            if not np.isfinite(value) or value > 1e8 * max(start, 1.0):
                raise FloatingPointError(
                    f"gradient descent on the diagonal network diverged at step {t} with eta = {lr:g}: the loss "
                    f"went from {start:.3g} to {value:.3g}; try a smaller learning rate"
                )
            losses.append(value)
    return u * u - v * v, np.array(losses)


@guard
def diagonal_network_sharpness(X, w, init_scale: float) -> float:
    r"""Return the largest Hessian eigenvalue of $\phi(u, v) = \frac1{2m}\|X(u \odot u - v \odot v) - y\|^2$ at an
    interpolant with end-to-end vector ``w``, on the gradient-flow orbit of $u = v = \alpha \mathbf 1$.

    Gradient flow conserves every $u_i v_i$ ($\dot u_i = -2u_i g_i$, $\dot v_i = 2 v_i g_i$ with
    $g = \nabla\ell(w)$), so $u_i v_i = \alpha^2$ and $u_i^2 + v_i^2 = \sqrt{w_i^2 + 4\alpha^4}$. At an
    interpolant ($g = 0$) the Hessian of $\phi$ is $J^\top A J$ with $A = \frac1m X^\top X$ and
    $J = 2\,[\operatorname{diag}(u), -\operatorname{diag}(v)]$; since $JJ^\top = 4S$,
    $S = \operatorname{diag}(u^2 + v^2)$, its nonzero eigenvalues are those of $4 S^{1/2} A S^{1/2}$. So the
    curvature is at most $4\lambda_{\max}(A) \max_i \sqrt{w_i^2 + 4\alpha^4}$, about
    $8\alpha^2\lambda_{\max}(A)$ for large $\alpha$: gradient descent with step $\eta$ is stable near the
    interpolant when $\eta$ times this value is below 2. (Gradient descent conserves $u_i v_i$ only
    approximately: at a GD end point this is an estimate.)

    Parameters
    ----------
    X : (m, d) inputs.
    w : (d,) end-to-end vector $u \odot u - v \odot v$ of an interpolant.
    init_scale : float, $\alpha > 0$.
    """
    X = as_matrix(X, "the inputs X")
    w = _as_vector(w, "the end-to-end vector w")
    if w.size != X.shape[1]:
        raise ValueError(f"w has {w.size} entries but X has {X.shape[1]} features (columns)")
    alpha = check_positive(init_scale, "the init scale alpha")
    s = np.sqrt(np.sqrt(w**2 + 4 * alpha**4))  # sqrt(u_i^2 + v_i^2)
    A = X.T @ X / X.shape[0]
    return float(np.linalg.eigvalsh(4 * s[:, None] * A * s[None, :])[-1])


# ---------------------------------------------------------------------------------------------------
# Gradient flow (notebook 01): the step size -> 0 limit of gradient descent
# ---------------------------------------------------------------------------------------------------


@dataclass
class FlowTrajectory:
    """Gradient flow sampled at given times.

    Attributes
    ----------
    times : (k,) array of times $t$.
    end_to_end : (k, d_N, d_0) array, $W(t) = W_N(t) \\cdots W_1(t)$.
    weights : list of k lists ``[W_1(t), ..., W_N(t)]``.
    loss : (k,) array, $\\ell(W(t))$.
    """

    times: np.ndarray
    end_to_end: np.ndarray
    weights: list
    loss: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The end-to-end matrix at the last time."""
        return self.end_to_end[-1]


MAX_FLOW_EVALUATIONS = 50_000  # gradient evaluations of one gradient_flow call (a t_end of 1e308 must not run for ever)
_MIN_RTOL = 100 * float(np.finfo(float).eps)  # scipy's solvers silently raise a smaller rtol to this


class _TooLong(Exception):
    pass


def _check_loss_and_layers(weights, loss):
    layers = check_weights(weights)
    if not isinstance(loss, Loss):
        raise ValueError(f"loss must be an lnnlib Loss (with value and gradient); got {type(loss).__name__}")
    shape = (layers[-1].shape[0], layers[0].shape[1])
    if loss.shape != shape:
        raise ValueError(
            f"the loss acts on {loss.shape} matrices but these layers give a {shape[0]} x {shape[1]} end-to-end matrix"
        )
    return layers


def gradient_flow(
    weights, loss: Loss, t_end: float, *, times=None, rtol: float = 1e-10, atol: float = 1e-12
) -> FlowTrajectory:
    r"""Return gradient flow $\dot W_j = -\partial\phi/\partial W_j$, $j = 1..N$, integrated by a high-order ODE solver.

    $\phi(W_1..W_N) = \ell(W_N \cdots W_1)$ [ACH18]; gradient flow is the limit of gradient
    descent as the step size $\eta \to 0$, with $t = \eta \times$ (number of steps). The layers are flattened
    into one vector and integrated with scipy's ``solve_ivp`` (``DOP853``, an explicit Runge-Kutta method of
    order 8) at tight tolerances, so that the result is a reference for gradient descent.

    Parameters
    ----------
    weights : list ``[W_1, ..., W_N]``, the layers at $t = 0$ (not modified).
    loss : :class:`lnnlib.Loss` on ``(d_N, d_0)`` matrices.
    t_end : float > 0, the final time.
    times : increasing array of times in $[0, t_\mathrm{end}]$ at which to report (default ``[0, t_end]``).
    rtol, atol : the solver's relative and absolute tolerances.

    Returns
    -------
    :class:`FlowTrajectory`

    Raises
    ------
    FloatingPointError
        If the solver fails (e.g. the flow blows up in finite time).
    """
    layers = _check_loss_and_layers(weights, loss)
    t_end = check_positive(t_end, "the final time t_end")
    rtol = check_real(rtol, "rtol", low=_MIN_RTOL, high=1.0)
    atol = check_positive(atol, "atol")
    if times is None:
        times = np.array([0.0, t_end])
    else:
        times = _as_vector(times, "times")
        if np.any(np.diff(times) <= 0):
            raise ValueError("times must be strictly increasing")
        if times[0] < 0 or times[-1] > t_end:
            raise ValueError(f"times must lie in [0, t_end] = [0, {t_end:g}]; got [{times[0]:g}, {times[-1]:g}]")
    shapes = [W.shape for W in layers]
    sizes = [W.size for W in layers]
    splits = np.cumsum(sizes)[:-1]

    def unflatten(theta):
        return [part.reshape(s) for part, s in zip(np.split(theta, splits), shapes, strict=True)]

    evaluations = 0

    def rhs(_t, theta):
        nonlocal evaluations
        evaluations += 1
        if evaluations > MAX_FLOW_EVALUATIONS:
            raise _TooLong
        Ws = unflatten(theta)
        W, prefixes = _forward(Ws)  # the products of end_to_end and layer_gradients, without their checks
        grads = _backward(Ws, loss.gradient(W), prefixes)
        return -np.concatenate([g.ravel() for g in grads])

    theta0 = np.concatenate([W.astype(float).ravel() for W in layers])
    try:
        with np.errstate(over="raise", invalid="raise"):
            sol = solve_ivp(rhs, (0.0, t_end), theta0, method="DOP853", t_eval=times, rtol=rtol, atol=atol)
    except (FloatingPointError, ValueError):
        raise FloatingPointError(
            f"gradient flow could not be integrated to t = {t_end:g}: the weights became non-finite (the flow blows up)"
        ) from None
    except _TooLong:
        raise ValueError(
            f"gradient flow needs more than {MAX_FLOW_EVALUATIONS:,} gradient evaluations to reach t = {t_end:g} "
            "(the interval is too long, or the flow too stiff, for the solver at these tolerances): use a smaller t_end"
        ) from None
    if sol.status != 0:
        raise FloatingPointError(f"gradient flow could not be integrated to t = {t_end:g}: {sol.message}")
    snaps = [unflatten(sol.y[:, k].copy()) for k in range(sol.y.shape[1])]
    W = np.array([end_to_end(s) for s in snaps])
    return FlowTrajectory(
        times=np.asarray(sol.t, dtype=float), end_to_end=W, weights=snaps, loss=np.array([loss.value(w) for w in W])
    )


def gd_flow_deviation(
    weights, loss: Loss, lr: float, t_end: float, *, rtol: float = 1e-10, atol: float = 1e-12
) -> float:
    r"""Return the largest distance $\max_{k \le K} \|W^{\mathrm{GD}}_k - W^{\mathrm{GF}}(k\eta)\|_F$ along the way.

    $K = \lfloor t_\mathrm{end}/\eta \rfloor$.

    $W^{\mathrm{GD}}_k$ is the end-to-end matrix after $k$ steps of gradient descent with step size $\eta$ and
    $W^{\mathrm{GF}}(t)$ that of gradient flow (:func:`gradient_flow`) from the same layers. Gradient descent
    is the explicit Euler method for gradient flow, so on a fixed time interval this deviation is
    $O(\eta)$ (first order).
    """
    _check_loss_and_layers(weights, loss)
    lr = check_positive(lr, "the learning rate eta")
    t_end = check_positive(t_end, "the final time t_end")
    if not t_end / lr <= MAX_STEPS:
        raise ValueError(
            f"t_end / eta = {t_end / lr:.3g} steps of gradient descent: above the limit {MAX_STEPS:,}; "
            "use a larger eta or a smaller t_end"
        )
    K = int(np.floor(t_end / lr + 1e-9))
    if K < 1:
        raise ValueError(f"the time interval t_end = {t_end:g} is shorter than one step eta = {lr:g}")
    gd = gradient_descent(weights, loss, lr, K, record_every=1)
    flow = gradient_flow(weights, loss, t_end, times=np.minimum(gd.steps * lr, t_end), rtol=rtol, atol=atol)
    return float(np.max(np.linalg.norm(gd.end_to_end - flow.end_to_end, axis=(1, 2))))


@guard
def finite_difference_layer_gradients(weights, loss: Loss, h: float = 1e-6) -> list[np.ndarray]:
    r"""Return central differences $\frac{\phi(W_j + h E_{ik}) - \phi(W_j - h E_{ik})}{2h}$ for every entry.

    An oracle for :func:`lnnlib.layer_gradients` that knows nothing of the chain rule: it only evaluates
    $\phi(W_1..W_N) = \ell(W_N \cdots W_1)$. The error is $O(h^2)$ plus rounding $O(\epsilon/h)$.
    """
    layers = [W.astype(float) for W in _check_loss_and_layers(weights, loss)]
    h = check_positive(h, "the step h")
    out = []
    for j, Wj in enumerate(layers):
        g = np.zeros_like(Wj)
        for idx in np.ndindex(Wj.shape):
            vals = []
            for sign in (1.0, -1.0):
                trial = [W.copy() for W in layers]
                trial[j][idx] += sign * h
                vals.append(loss.value(end_to_end(trial)))
            g[idx] = (vals[0] - vals[1]) / (2 * h)
        out.append(g)
    return out


def loglog_slope(x, y) -> float:
    r"""Return the slope $p$ of the least-squares line $\log y = p \log x + c$ (the order in $y \propto x^p$)."""
    x = _as_vector(x, "x")
    y = _as_vector(y, "y")
    if x.shape != y.shape:
        raise ValueError(f"x has {x.size} values but y has {y.size}")
    if x.size < 2:
        raise ValueError("a slope needs at least two points")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("a log-log slope needs positive x and y")
    if np.ptp(x) == 0:
        raise ValueError("a slope needs at least two distinct x values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
