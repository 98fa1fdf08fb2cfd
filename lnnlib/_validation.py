"""Input checks shared by every module: errors are phrased in the mathematics, not in numpy's words."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np


def as_rng(rng) -> np.random.Generator:
    """Return a ``np.random.Generator`` from a Generator, a seed or ``None``."""
    if isinstance(rng, np.random.RandomState):
        raise ValueError("pass a np.random.Generator or an integer seed, not the legacy RandomState")
    return np.random.default_rng(rng)


def as_matrix(M, name: str = "W") -> np.ndarray:
    """Return ``M`` as a finite 2-D float array, or raise a ValueError naming ``name``."""
    try:
        A = np.asarray(M)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real matrix; got {type(M).__name__} ({exc})") from None
    if A.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a real matrix; got entries of type {A.dtype}")
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    if A.ndim != 2:
        raise ValueError(
            f"{name} must be a matrix (2-D array); got an array with {A.ndim} dimension(s), shape {A.shape}"
        )
    if A.size == 0:
        raise ValueError(f"{name} has shape {A.shape}: a matrix needs at least one row and one column")
    check_finite(A, name)
    return A


def check_finite(A: np.ndarray, name: str) -> None:
    """Raise ValueError if ``A`` holds NaN or infinite entries, naming the first one."""
    if not np.all(np.isfinite(A)):
        bad = np.argwhere(~np.isfinite(A))[0]
        where = ", ".join(str(int(i)) for i in bad)
        value = A[tuple(bad)]
        raise ValueError(
            f"{name} must have finite entries; entry ({where}) is {value} "
            f"({int(np.sum(~np.isfinite(A)))} non-finite entries in all)"
        )


def check_depth(depth, name: str = "depth N") -> int:
    """Return ``depth`` as an int >= 1, or raise ValueError."""
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        if isinstance(depth, numbers.Real) and float(depth).is_integer() and not isinstance(depth, bool):
            depth = int(depth)
        else:
            raise ValueError(f"{name} must be a positive integer (the number of layers); got {depth!r}")
    if depth < 1:
        raise ValueError(f"{name} must be at least 1 (the number of layers); got {depth}")
    return int(depth)


def check_weights(weights: Sequence) -> list[np.ndarray]:
    """Return ``[W_1, ..., W_N]`` as finite float matrices whose shapes chain, or raise ValueError.

    Layer ``j`` (1-based) maps ``d_{j-1}`` features to ``d_j``, so ``W_j`` has shape ``(d_j, d_{j-1})``
    and ``W_{j+1}`` must have ``d_j`` columns.
    """
    if isinstance(weights, np.ndarray) and weights.ndim == 2:
        raise ValueError("weights must be a list [W_1, ..., W_N] of matrices; got a single matrix (wrap it: [W])")
    try:
        layers = list(weights)
    except TypeError:
        raise ValueError(f"weights must be a list [W_1, ..., W_N] of matrices; got {type(weights).__name__}") from None
    if not layers:
        raise ValueError("weights must hold at least one layer (depth N >= 1); got an empty list")
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


def check_dims(dims, name: str = "dims") -> list[int]:
    """Return ``[d_0, ..., d_N]`` as positive ints (N >= 1), or raise ValueError."""
    try:
        out = list(dims)
    except TypeError:
        raise ValueError(f"{name} must be a list [d_0, ..., d_N] of layer widths; got {dims!r}") from None
    if len(out) < 2:
        raise ValueError(f"{name} = {out} must list at least d_0 and d_1 (one layer)")
    res = []
    for j, d in enumerate(out):
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
            raise ValueError(f"{name}: every width d_j must be a positive integer; d_{j} = {d!r}")
        res.append(int(d))
    return res


def check_same_shape(A: np.ndarray, B: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError when two matrices that must match in shape do not."""
    if A.shape != B.shape:
        raise ValueError(f"{name_a} has shape {A.shape} but {name_b} has shape {B.shape}; they must match")


def check_positive(x, name: str) -> float:
    """Return ``x`` as a float > 0, or raise ValueError."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite positive number; got {x!r}")
    return float(x)
