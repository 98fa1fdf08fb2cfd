"""One call at the top of every notebook, and the one rule for what a notebook prints.

The rule (portable outputs). Notebooks are regression tests: nbval compares their stored text exactly, on
every machine. The last digits of a floating-point result change with the CPU (OpenBLAS picks a kernel per
CPU, numpy dispatches SIMD loops per CPU), so a notebook never prints a rounding-level digit, and never a
bucket (such as a power of ten) that a rounding-level change can move a number across:

- :func:`verdict` prints PASS/FAIL and the tolerance. The measured error is printed only when it is a
  result, not rounding noise (``show=True``, e.g. an O(eta) drift or a truncation error), and then with
  two significant digits, which a relative change of 1e-12 cannot move except by a coincidence that the
  portability check (``tools/check_portability.py``) would catch. A FAIL always prints the measured error.
  The words ("within the tolerance 1e-10", "0 (below 1e-12)") say that the number shown is a constant of
  the check, not a measurement.
- :func:`claim` prints PASS/FAIL of a comparison (an inequality between results, far from a tie).
- :func:`fmt` prints a number with a fixed count of significant digits, and prints numbers below a stated
  noise floor as ``0 (below floor)``: quantities that are exactly zero in exact arithmetic (an integral around
  a closed loop of a gradient field, the balancedness gap of the identity) are rounding noise whose size
  depends on the machine; the floor must sit orders of magnitude above that noise and below any value the
  quantity takes when it is not zero.

A verdict can still fail: the tolerance is set from an error analysis (rounding accumulates to about
1e-16 times the sizes and the number of operations involved; a finite difference with step h errs by
about h^2 + 1e-16/h), and a wrong formula errs by orders of magnitude more.
"""

from __future__ import annotations

import numbers
import warnings

import matplotlib as mpl
import numpy as np
from threadpoolctl import threadpool_limits

from ._validation import check_positive

__all__ = ["setup_notebook", "verdict", "claim", "fmt"]

_limits = None
MAX_THREADS = 1024  # BLAS libraries cap their thread pools far below this; more is a typo, not a machine


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
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS} (BLAS threads); got {threads!r}")
    _limits = threadpool_limits(limits=int(threads))
    _inline_figures()
    np.set_printoptions(precision=4, suppress=True, linewidth=110)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    mpl.rcParams.update({"figure.figsize": (6.4, 4.0), "figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3})


def _real(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {x!r}")
    return float(x)


def _sig(x: float, digits: int) -> str:
    """``x`` with ``digits`` significant digits: 0.034, 4.5, 6.3e+02, 2.1e-05."""
    return f"{x:.{digits}g}"


def _tol(tol: float) -> str:
    mantissa, exponent = f"{tol:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def verdict(label: str, error: float, tol: float, *, show: bool = False) -> str:
    r"""Return the verdict line of a numeric check: ``"PASS  label: max error within the tolerance 1e-10"``.

    The check passes when ``error <= tol``. A passing line shows the tolerance, not the measured error:
    for a check that holds in exact arithmetic the error is rounding noise, whose digits (and power of
    ten) differ between CPUs. With ``show=True`` the measured error is shown with two significant digits,
    ``"PASS  label: max error 3.2e-03, within the tolerance 1e-2"``; use it only where the error is itself a result
    (a discretization or truncation error, a drift of order eta), never where it is rounding noise.
    A failing line always shows the measured error: ``"FAIL  label: max error 4.1e-05, above the tolerance 1e-10"``.
    """
    tol = check_positive(tol, "the tolerance")
    error = _real(error, "the error")
    if np.isnan(error) or error < 0:
        raise ValueError(f"the error must be a nonnegative number; got {error!r}")
    if not isinstance(show, (bool, np.bool_)):
        raise ValueError(f"show must be True or False; got {show!r}")
    measured = "inf" if np.isinf(error) else f"{error:.1e}"
    if error <= tol:
        shown = f"{measured}, within the tolerance" if show else "within the tolerance"
        return f"PASS  {label}: max error {shown} {_tol(tol)}"
    return f"FAIL  {label}: max error {measured}, above the tolerance {_tol(tol)}"


def claim(label: str, holds: bool) -> str:
    """Return ``"PASS  label"`` or ``"FAIL  label"``: the verdict line of a check that compares quantities
    (an inequality, an ordering) rather than measuring an error against a tolerance (see :func:`verdict`)."""
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"a claim holds or not: pass a bool, not {type(holds).__name__} ({holds!r})")
    return f"{'PASS' if holds else 'FAIL'}  {label}"


def fmt(x: float, digits: int = 2, *, zero_below: float | None = None) -> str:
    """Return ``x`` printed with ``digits`` significant digits, or ``"0 (below 1e-12)"`` when ``|x|`` is below
    the noise floor ``zero_below``.

    Use the floor for quantities that vanish in exact arithmetic: their computed value is rounding noise
    (about 1e-16 times the sizes involved), whose digits and sign differ between CPUs. Choose it orders of
    magnitude above that noise and below every value the quantity takes when it does not vanish.
    """
    x = _real(x, "the number to print")
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15 (significant digits); got {digits!r}")
    if zero_below is not None:
        floor = check_positive(zero_below, "the noise floor zero_below")
        if abs(x) < floor:
            return f"0 (below {_tol(floor)})"
    if not np.isfinite(x):
        return str(x)
    return _sig(x, int(digits))
