"""One call at the top of every notebook: pinned BLAS threads, quiet warnings, readable figures."""

from __future__ import annotations

import warnings

import matplotlib as mpl
import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["setup_notebook"]

_limits = None


def setup_notebook(threads: int = 1) -> None:
    """Pin BLAS to ``threads`` threads, set numpy printing and matplotlib defaults for the course.

    One BLAS thread is faster on the course's small matrices, and makes printed digits independent of
    the machine's core count.
    """
    global _limits
    _limits = threadpool_limits(limits=threads)
    np.set_printoptions(precision=4, suppress=True, linewidth=110)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    mpl.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})
