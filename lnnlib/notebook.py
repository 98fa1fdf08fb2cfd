"""One call at the top of every notebook: pinned BLAS threads, quiet warnings, readable figures."""

from __future__ import annotations

import numbers
import warnings

import matplotlib as mpl
import numpy as np
from threadpoolctl import threadpool_limits

from ._validation import check_positive

__all__ = ["setup_notebook", "verdict", "claim"]

_limits = None


def _inline_figures() -> None:
    """Show figures inline in a Jupyter kernel even when MPLBACKEND says otherwise (CI often sets Agg,
    which would silently drop every figure from the stored outputs)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        shell.run_line_magic("matplotlib", "inline")


def setup_notebook(threads: int = 1) -> None:
    """Pin BLAS to ``threads`` threads, set numpy printing and matplotlib defaults for the course.

    One BLAS thread is faster on the course's small matrices, and makes printed digits independent of
    the machine's core count.
    """
    global _limits
    _limits = threadpool_limits(limits=threads)
    _inline_figures()
    np.set_printoptions(precision=4, suppress=True, linewidth=110)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    mpl.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})


def verdict(label: str, error: float, tol: float) -> str:
    r"""Return ``"PASS  label: max error < 1e-15 (tolerance 1e-10)"`` (or ``FAIL``) for a numeric check.

    The error is reported as the power of ten just above it (at least ``1e-15``), not with its digits: the
    last digits of a rounding-level error, and whether it is exactly 0, change with the BLAS library and the
    machine, and notebooks compare text exactly.
    """
    tol = check_positive(tol, "the tolerance")
    if isinstance(error, bool) or not isinstance(error, numbers.Real) or np.isnan(error) or error < 0:
        raise ValueError(f"the error must be a nonnegative number; got {error!r}")
    status = "PASS" if error <= tol else "FAIL"
    if error < 1e-15:  # exact zeros and rounding-level errors: which one occurs depends on the machine
        shown = "< 1e-15"
    elif not np.isfinite(error):
        shown = "= inf"
    else:
        shown = f"< 1e{int(np.floor(np.log10(error))) + 1:d}"
    mantissa, exponent = f"{tol:.0e}".split("e")
    return f"{status}  {label}: max error {shown} (tolerance {mantissa}e{int(exponent)})"


def claim(label: str, holds: bool) -> str:
    """Return ``"PASS  label"`` or ``"FAIL  label"``: the verdict line of a check that compares quantities
    (an inequality, an ordering) rather than measuring an error against a tolerance (see :func:`verdict`)."""
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"a claim holds or not: pass a bool, not {type(holds).__name__} ({holds!r})")
    return f"{'PASS' if holds else 'FAIL'}  {label}"
