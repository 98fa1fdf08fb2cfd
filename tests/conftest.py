"""Shared tolerances and the network shapes every contract test runs over."""

from pathlib import Path

import numpy as np
import pytest

# Tolerances, named once.
EXACT = 1e-10  # identities that hold up to rounding (products of O(1) matrices)
FD_STEP = 1e-6  # central finite-difference step
FD_TOL = 1e-6  # relative error allowed for central differences (error ~ h^2 * third derivative + eps/h)

# dims [d_0, ..., d_N] for depth N = len(dims) - 1: the end-to-end matrix is (d_N, d_0).
SHAPES = {
    "square": lambda N: [4] * (N + 1),
    "wide": lambda N: [6] + [5] * (N - 1) + [3],  # fewer outputs than inputs
    "tall": lambda N: [3] + [5] * (N - 1) + [6],  # more outputs than inputs
}
DEPTHS = [1, 2, 3, 4, 5]

# Debian's Chromium for the browser tests (never `playwright install`): headless, and with no background
# networking, since this machine's closed network refuses those connections
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def shape_cases():
    return [pytest.param(N, name, id=f"N{N}-{name}") for N in DEPTHS for name in SHAPES]


def dims_for(N, name):
    return SHAPES[name](N)


def rank_deficient_target(rng, rows=5, cols=4, rank=2):
    """A rows x cols matrix of exact rank ``rank`` with well-separated singular values."""
    U, _ = np.linalg.qr(rng.standard_normal((rows, rank)))
    V, _ = np.linalg.qr(rng.standard_normal((cols, rank)))
    return U @ np.diag(np.arange(rank, 0, -1) + 1.0) @ V.T


def relative_error(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))
