"""Input checks shared by every module: errors are phrased in the mathematics, not in numpy's words.

One function per kind of argument, used at the top of every public function:

* arrays (:func:`as_array`, :func:`as_matrix`, :func:`as_vector`, :func:`check_weights`): real numbers
  only (complex input is refused, never cast), finite, the right number of dimensions, non-empty; the
  message names the argument;
* integers (:func:`check_int`, :func:`check_depth`, :func:`check_steps`, :func:`check_count`,
  :func:`check_dims`, :func:`check_int_list`): Python or numpy integers only (no floats, not even 3.0,
  no bools), within stated bounds, so that a depth of ``1e308`` or ``10**12`` steps is refused at once
  instead of looping for ever or allocating what no machine has;
* real numbers (:func:`check_real`, :func:`check_positive`, :func:`check_tol`, :func:`as_positive_list`):
  finite, in range;
* randomness (:func:`as_rng`, :func:`check_seed`), choices from a set (:func:`check_choice`), flags
  (:func:`check_flag`), user callables (:func:`check_callable`, :func:`field_values`);
* results (:func:`guard`): a public function whose computation overflows double precision raises
  FloatingPointError saying so, instead of returning inf or NaN or letting numpy's warning through.

Bad input raises ValueError (a value of the right type that makes no sense, or a type that cannot be
used), or FloatingPointError (a computation beyond double precision).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import operator
from collections.abc import Callable, Sequence

import numpy as np

MAX_DEPTH = 1000
"""Largest depth N accepted: far beyond any experiment of the course, small enough that a loop over the
layers ends."""

MAX_STEPS = 10**8
"""Largest step or iteration count accepted (a cap; runs that converge stop earlier)."""

MAX_SIZE = 10**8
"""Largest number of entries of an array built from size arguments (800 MB in float64)."""

MAX_SYMBOLIC_DEPTH = 24
"""Largest depth for sympy constructions, whose expressions grow with N (symbolic_layer_gradients takes 36 s at
N = 64, 8 s at 32)."""


# ---------------------------------------------------------------------------------------------------
# arrays


def _describe(x) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def as_array(
    x, name: str, *, ndim=None, what: str = "array", allow_nan: bool = False, empty: bool = False, finite: bool = True
):
    """Return ``x`` as a float array (float32 kept), or raise ValueError naming ``name``.

    Refuses None, strings, ragged nesting, objects, complex entries (the course's mathematics is over
    the reals: take ``np.real`` yourself if that is what you mean), non-finite entries (unless
    ``allow_nan``: then NaN, not inf, is let through; ``finite=False`` skips the check), an empty array
    (unless ``empty``) and a number of dimensions outside ``ndim`` (an int or a tuple of ints; ``None`` for any).
    """
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be a real {what}; got {_describe(x)}")
    try:
        A = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a real {what} with rows of equal length; got a ragged or mixed {type(x).__name__}"
        ) from None
    if A.dtype.kind == "c":
        raise ValueError(
            f"{name} must be a real {what}; got complex entries ({A.dtype}): complex input is refused, "
            "not cast (pass np.real(...) to drop the imaginary part)"
        )
    if A.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a real {what}; got entries of type {A.dtype} ({type(x).__name__})")
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if A.ndim not in allowed:
            dims = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must be a {what} ({dims}-D array); got an array of shape {A.shape}")
    if A.size == 0 and not empty:
        raise ValueError(f"{name} is empty (shape {A.shape}): a {what} needs at least one entry")
    if not finite:
        pass
    elif allow_nan:
        if np.any(np.isinf(A)):
            check_finite(np.where(np.isnan(A), 0.0, A), name)
    else:
        check_finite(A, name)
    return A


def as_matrix(M, name: str = "W") -> np.ndarray:
    """Return ``M`` as a finite 2-D float array, or raise a ValueError naming ``name``."""
    A = as_array(M, name, what="matrix", empty=True)
    if A.ndim != 2:
        raise ValueError(
            f"{name} must be a matrix (2-D array); got an array with {A.ndim} dimension(s), shape {A.shape}"
        )
    if A.size == 0:
        raise ValueError(f"{name} has shape {A.shape}: a matrix needs at least one row and one column")
    return A


def as_vector(v, name: str, size: int | None = None) -> np.ndarray:
    """Return ``v`` as a finite non-empty 1-D float array (of ``size`` entries if given), or raise ValueError."""
    a = as_array(v, name, ndim=1, what="vector")
    if size is not None and a.size != size:
        raise ValueError(f"{name} must have {size} entries; got {a.size}")
    return a


def check_finite(A: np.ndarray, name: str) -> None:
    """Raise ValueError if ``A`` holds NaN or infinite entries, naming the first one."""
    if not np.all(np.isfinite(A)):
        bad = np.argwhere(~np.isfinite(A))
        if A.ndim == 0:
            raise ValueError(f"{name} must be finite; got {A}")
        where = ", ".join(str(int(i)) for i in bad[0])
        value = A[tuple(bad[0])]
        raise ValueError(
            f"{name} must have finite entries; entry ({where}) is {value} "
            f"({int(np.sum(~np.isfinite(A)))} non-finite entries in all)"
        )


def check_weights(weights: Sequence) -> list[np.ndarray]:
    """Return ``[W_1, ..., W_N]`` as finite float matrices whose shapes chain, or raise ValueError.

    Layer ``j`` (1-based) maps ``d_{j-1}`` features to ``d_j``, so ``W_j`` has shape ``(d_j, d_{j-1})``
    and ``W_{j+1}`` must have ``d_j`` columns.
    """
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        raise ValueError("weights must be a list [W_1, ..., W_N] of matrices; got a single matrix (wrap it: [W])")
    if weights is None or isinstance(weights, (str, bytes, dict)):
        raise ValueError(f"weights must be a list [W_1, ..., W_N] of matrices; got {_describe(weights)}")
    try:
        layers = list(weights)
    except TypeError:
        raise ValueError(f"weights must be a list [W_1, ..., W_N] of matrices; got {type(weights).__name__}") from None
    if not layers:
        raise ValueError("weights must hold at least one layer (depth N >= 1); got an empty list")
    if len(layers) > MAX_DEPTH:
        raise ValueError(f"weights hold {len(layers)} layers; at most {MAX_DEPTH} are accepted")
    out = [as_matrix(W, f"layer W_{j + 1}") for j, W in enumerate(layers)]
    for j in range(1, len(out)):
        rows_prev = out[j - 1].shape[0]
        cols = out[j].shape[1]
        if cols != rows_prev:
            raise ValueError(
                f"layers do not chain: layer W_{j + 1} has shape {out[j].shape} so it takes {cols} features, "
                f"but layer W_{j} outputs {rows_prev} features (shape {out[j - 1].shape})"
            )
    return out


def check_same_shape(A: np.ndarray, B: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError when two matrices that must match in shape do not."""
    if A.shape != B.shape:
        raise ValueError(f"{name_a} has shape {A.shape} but {name_b} has shape {B.shape}; they must match")


# ---------------------------------------------------------------------------------------------------
# integers


def check_int(x, name: str, *, low: int | None = 0, high: int | None = MAX_STEPS, why: str = "") -> int:
    """Return ``x`` as an int in ``[low, high]``, or raise ValueError.

    Only Python and numpy integers are integers here: ``3.0``, ``"3"`` and ``True`` are refused, so that
    a float that merely looks whole (``1e308``) cannot pass. ``why`` explains the upper bound.
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        kind = "a float" if isinstance(x, (float, np.floating)) else type(x).__name__
        hint = (
            " (pass an int)" if isinstance(x, (float, np.floating)) and np.isfinite(x) and float(x).is_integer() else ""
        )
        raise ValueError(f"{name} must be an integer; got {kind} {_describe(x)}{hint}")
    value = operator.index(x)
    if low is not None and value < low:
        kind = {0: "a nonnegative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
        raise ValueError(f"{name} must be {kind}; got {value}")
    if high is not None and value > high:
        shown = f"{value:,}" if abs(value) < 10**15 else f"about 1e{len(str(abs(value))) - 1}"
        raise ValueError(f"{name} = {shown} is above the limit {high:,}{': ' + why if why else ''}")
    return int(value)


def check_depth(depth, name: str = "depth N", high: int = MAX_DEPTH) -> int:
    """Return ``depth`` as an int in ``1..high``, or raise ValueError."""
    if isinstance(depth, (bool, np.bool_)) or not isinstance(depth, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer (the number of layers); got {_describe(depth)}")
    if depth < 1:
        raise ValueError(f"{name} must be at least 1 (the number of layers); got {depth}")
    return check_int(depth, name, low=1, high=high, why="deeper networks are not supported")


def check_steps(steps, name: str = "steps") -> int:
    """Return a step or iteration cap as an int in ``0..MAX_STEPS``, or raise ValueError."""
    return check_int(steps, name, low=0, high=MAX_STEPS, why="a cap on steps this large cannot be run")


def check_count(x, name: str, *, low: int = 1, high: int = MAX_SIZE) -> int:
    """Return a size or count as an int in ``low..high``, or raise ValueError."""
    return check_int(x, name, low=low, high=high, why="arrays this large are not supported")


def check_optional_count(x, name: str, *, low: int = 1, high: int = MAX_SIZE) -> int | None:
    """``None`` or :func:`check_count`."""
    return None if x is None else check_count(x, name, low=low, high=high)


def check_threads(threads, name: str = "threads") -> int | None:
    """Return a BLAS thread count (``None``: leave BLAS as it is) as an int in ``1..1024``."""
    return None if threads is None else check_int(threads, name, low=1, high=1024, why="more threads than any machine")


def check_dims(dims, name: str = "dims") -> list[int]:
    """Return ``[d_0, ..., d_N]`` as positive ints (N >= 1), or raise ValueError.

    Each layer ``d_j x d_{j-1}`` may hold at most :data:`MAX_SIZE` entries, and there are at most
    :data:`MAX_DEPTH` layers.
    """
    if dims is None or isinstance(dims, (str, bytes, dict)):
        raise ValueError(f"{name} must be a list [d_0, ..., d_N] of layer widths; got {_describe(dims)}")
    try:
        out = list(dims)
    except TypeError:
        raise ValueError(f"{name} must be a list [d_0, ..., d_N] of layer widths; got {_describe(dims)}") from None
    if len(out) < 2:
        raise ValueError(f"{name} = {out} must list at least d_0 and d_1 (one layer)")
    if len(out) > MAX_DEPTH + 1:
        raise ValueError(f"{name} lists {len(out) - 1} layers; at most {MAX_DEPTH} are accepted")
    res = []
    for j, d in enumerate(out):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral) or d < 1:
            raise ValueError(f"{name}: every width d_j must be a positive integer; d_{j} = {_describe(d)}")
        res.append(check_count(d, f"{name}: the width d_{j}"))
    for j in range(1, len(res)):
        if res[j] * res[j - 1] > MAX_SIZE:
            raise ValueError(
                f"{name}: layer W_{j} would be {res[j]} x {res[j - 1]} = {res[j] * res[j - 1]:,} entries; "
                f"at most {MAX_SIZE:,} are supported"
            )
    return res


def as_list(values, name: str, what: str) -> list:
    """Return ``values`` as a non-empty list; strings, dicts, None and non-iterables are refused."""
    if values is None or isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of {what}; got {_describe(values)}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be a list (1-D) of {what}; got an array of shape {values.shape}")
    out = list(values)
    if not out:
        raise ValueError(f"{name} is empty: give at least one of the {what}")
    return out


def check_int_list(values, name: str, *, low: int = 1, high: int = MAX_STEPS, what: str = "integers") -> list[int]:
    """Return a non-empty list of ints, each in ``low..high``, or raise ValueError (strings, floats,
    bools and empty lists are refused)."""
    return [check_int(v, f"each of {name}", low=low, high=high) for v in as_list(values, name, what)]


def as_positive_list(values, name: str) -> np.ndarray:
    """Return a non-empty 1-D float array of finite positive numbers, or raise ValueError."""
    if values is None or isinstance(values, (str, bytes)):
        raise ValueError(f"{name} must be a non-empty list of finite positive numbers; got {_describe(values)}")
    a = np.ravel(as_array(values, name, what="list of numbers", empty=True))
    if a.size == 0:
        raise ValueError(f"{name} is empty: give at least one finite positive number")
    if np.any(a <= 0):
        raise ValueError(f"{name} must be positive; got {a[a <= 0][0]!r}")
    return a


# ---------------------------------------------------------------------------------------------------
# real numbers


def check_real(
    x,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``x`` as a finite float in the stated range, or raise ValueError.

    Refuses bools, strings, complex numbers (even with zero imaginary part), arrays, NaN and infinities.
    """
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "fiu":
            x = x.item()
        else:
            raise ValueError(f"{name} must be a real number; got {_describe(x)}")
    value = float(x)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        if low is not None and high is not None:
            where = f"lie in {left}, {right}"
        elif low is not None:
            where = f"be {'>' if low_open else '>='} {low:g}"
        else:
            where = f"be {'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{name} must {where}; got {value!r}")
    return value


def check_positive(x, name: str) -> float:
    """Return ``x`` as a finite float > 0, or raise ValueError."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real) or not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite positive number; got {_describe(x)}")
    return float(x)


def check_nonnegative(x, name: str) -> float:
    """Return ``x`` as a finite float >= 0, or raise ValueError."""
    return check_real(x, name, low=0.0)


def check_tol(tol, name: str = "tol") -> float | None:
    """``None`` (no tolerance) or a finite positive float."""
    return None if tol is None else check_positive(tol, name)


# ---------------------------------------------------------------------------------------------------
# randomness, choices, flags, callables


def as_rng(rng) -> np.random.Generator:
    """Return a ``np.random.Generator`` from a Generator, a seed (an integer >= 0), a SeedSequence or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        raise ValueError("pass a np.random.Generator or an integer seed, not the legacy RandomState")
    if rng is None or isinstance(rng, (np.random.SeedSequence, np.random.BitGenerator)):
        return np.random.default_rng(rng)
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise ValueError(f"rng must be a np.random.Generator, a seed (an integer >= 0) or None; got {_describe(rng)}")
    return np.random.default_rng(int(rng))


def check_seed(seed, name: str = "seed") -> int:
    """Return a seed as an int >= 0 (``None`` refused: the demos and experiments are reproducible)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} must be an integer >= 0 (the runs are reproducible); got {_describe(seed)}")
    return int(seed)


def check_choice(value, name: str, choices: Sequence):
    """Return ``value`` if it is one of ``choices`` (compared with ``==`` and the same type), else raise
    ValueError naming the valid ones (and the closest, for a typo)."""
    for c in choices:
        if type(value) is type(c) or (isinstance(value, str) and isinstance(c, str)):
            try:
                if value == c:
                    return c
            except (TypeError, ValueError):  # pragma: no cover - exotic types
                pass
    valid = ", ".join(repr(c) for c in choices)
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [c for c in choices if isinstance(c, str)], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{name} must be one of {valid}; got {_describe(value)}{hint}")


def check_flag(x, name: str) -> bool:
    """Return ``x`` as a bool; only ``True`` and ``False`` (Python or numpy) are flags."""
    if not isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {_describe(x)}")
    return bool(x)


def check_callable(f, name: str, what: str) -> Callable:
    """Return ``f`` if it can be called, else raise ValueError saying what it should be."""
    if not callable(f):
        raise ValueError(f"{name} must be a function {what}; got {_describe(f)}")
    return f


def field_values(field: Callable, points: np.ndarray, name: str = "field") -> np.ndarray:
    """Return ``field(points)`` checked: a finite real array of the shape of ``points`` (one vector per point).

    Raises ValueError naming what the function returned otherwise.
    """
    try:
        out = field(points)
    except (ValueError, FloatingPointError):
        raise
    except Exception as exc:  # the user's function failed on the points: say where
        raise ValueError(f"{name} failed on points of shape {points.shape}: {type(exc).__name__}: {exc}") from exc
    F = as_array(out, f"the value of {name} at points of shape {points.shape}", empty=True)
    if F.shape != points.shape:
        raise ValueError(
            f"{name} must return one vector per point, an array of shape {points.shape} like the points; "
            f"it returned shape {F.shape}"
        )
    return F


# ---------------------------------------------------------------------------------------------------
# results beyond double precision


def _non_finite(obj) -> bool:
    if isinstance(obj, (bool, np.bool_, numbers.Integral)):
        return False
    if isinstance(obj, (float, np.floating)):
        return not np.isfinite(obj)
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "fc" and not np.all(np.isfinite(obj))
    if isinstance(obj, (list, tuple)):
        return any(_non_finite(x) for x in obj)
    return False


def beyond_precision(what: str, detail: str = "") -> FloatingPointError:
    """The error for a computation whose true result is beyond double precision (above ~1.8e308)."""
    tail = f" ({detail})" if detail else ""
    return FloatingPointError(
        f"{what}: the computation overflows double precision{tail}; the inputs are too large "
        "(or too small) for float64: rescale them"
    )


def guard(func: Callable | None = None, *, allow_nan: bool = False):
    """Decorator for public numeric functions: floating-point overflow, invalid operations and division
    by zero raise inside the function, and a non-finite result (NaN or inf from finite inputs) is refused;
    both become a FloatingPointError that names the function. ``allow_nan`` lets a documented NaN through.
    """

    def wrap(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            try:
                with np.errstate(over="raise", invalid="raise", divide="raise"):
                    out = f(*args, **kwargs)
            except (OverflowError, ZeroDivisionError) as exc:
                raise beyond_precision(f.__qualname__, type(exc).__name__) from None
            except FloatingPointError as exc:
                if str(exc).startswith(("overflow", "invalid", "divide")):  # numpy's own words
                    raise beyond_precision(f.__qualname__) from None
                raise
            except np.linalg.LinAlgError:
                raise FloatingPointError(
                    f"{f.__qualname__}: the matrix decomposition failed; the input is too large, too small or "
                    "too ill-conditioned for float64"
                ) from None
            if not allow_nan and _non_finite(out):
                raise beyond_precision(f.__qualname__, "the result is not finite")
            return out

        return wrapper

    return wrap if func is None else wrap(func)


def check_axes(ax, name: str = "ax"):
    """Return ``ax`` if it is a matplotlib Axes, else raise ValueError."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes (e.g. from plt.subplots()); got {_describe(ax)}")
    return ax


def check_options(options: dict, target: Callable, name: str, *, exclude: Sequence[str] = ()) -> None:
    """Raise ValueError for a keyword option that ``target`` does not take (``name`` passes its
    ``**options`` on to ``target``), instead of Python's TypeError about an unexpected keyword."""
    params = inspect.signature(target).parameters
    unknown = sorted(set(options) - set(params) | (set(options) & set(exclude)))
    if unknown:
        valid = ", ".join(
            p for p, v in params.items() if p not in exclude and (v.kind == v.KEYWORD_ONLY or v.default is not v.empty)
        )
        raise ValueError(f"{name} got an unknown option {unknown[0]!r}; the options it passes on are: {valid}")
