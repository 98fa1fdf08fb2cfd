r"""Feedback on the course's exercises: "correct", "not attempted yet", or what is wrong and a hint.

Every exercise of notebook NN has a checker in ``lnnlib.exercises.nbNN`` (``from lnnlib.exercises import nb03
as ex``; ``print(ex.check_...(answer))``). A checker never raises on a student's answer and never prints the
expected answer: it returns one line of feedback, built with the three tools below.

- :func:`check_array` compares an array with the expected one, recognizes the typical mistakes it is given
  (each a wrong answer computed the wrong way, with its hint), and names a wrong shape, NaN or junk.
- :func:`check_number` does the same for one number.
- :func:`check_choice` checks a multiple-choice answer and gives the hint of each wrong option.

An answer that is still the stub's ``...`` (or holds one) gets ``"not attempted yet"``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

__all__ = [
    "NOT_ATTEMPTED",
    "NOT_ATTEMPTED_LINE",
    "is_unattempted",
    "as_number",
    "as_array",
    "check_array",
    "check_number",
    "check_choice",
    "recheck_rounded",
]

NOT_ATTEMPTED = "not attempted yet"
# what an untouched stub gets, after "Exercise N.k: "
NOT_ATTEMPTED_LINE = f"{NOT_ATTEMPTED} (replace the ... in the cell above, remove the raise, run both cells)"


def _label(exercise: str) -> str:
    if not isinstance(exercise, str) or not exercise:
        raise ValueError(f"the exercise label must be a non-empty string such as '3.2'; got {exercise!r}")
    return f"Exercise {exercise}"


def is_unattempted(answer) -> bool:
    """Return True when ``answer`` is the stub's placeholder ``...`` or a container holding one."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, (list, tuple)):
        return any(is_unattempted(a) for a in answer)
    if isinstance(answer, Mapping):
        return any(is_unattempted(a) for a in answer.values())
    return False


def as_number(answer):
    """Return a sympy number as a float, a sentence (a ``str``) for a sympy expression that still holds symbols or
    is complex, and any other answer unchanged (a student who solves with sympy gets sympy numbers)."""
    if hasattr(answer, "free_symbols") and hasattr(answer, "evalf") and not isinstance(answer, numbers.Real):
        if answer.free_symbols:
            names = ", ".join(sorted(str(x) for x in answer.free_symbols))
            return f"your answer still holds the symbols {names}: substitute the numbers"
        try:
            value = complex(answer)
        except (TypeError, ValueError):
            return f"your answer ({answer}) does not evaluate to a number"
        return value.real if value.imag == 0 else "your answer is complex; the answer is real"
    return answer


def recheck_rounded(label: str, message: str, answer, expected, mistakes, otherwise: str, rel: float) -> str:
    """When ``message`` is the ``otherwise`` hint of :func:`check_number`, look again with the relative tolerance
    ``rel``: a value typed rounded gets the hint of the mistake it rounds, or, if it rounds the answer, a request
    for the computed value."""
    if not message.endswith(otherwise):
        return message
    again = check_number(label, answer, expected, mistakes=mistakes, rtol=rel, atol=0.0, otherwise=otherwise)
    if again.endswith(" correct."):
        return (
            f"Exercise {label}: not right yet: close, but not to the digits: compute it instead of typing a rounded "
            "value"
        )
    return again


def as_array(answer, what: str = "your answer") -> np.ndarray | str:
    """Return ``answer`` as a float array, or a sentence (a ``str``) saying why it is not one; sympy numbers
    and matrices are accepted. ``what`` names the answer in the sentence."""
    if isinstance(answer, (str, bytes)):
        return f"{what} is text ({answer!r}): not a number, not an array of numbers"
    try:
        A = np.asarray(answer)
    except (TypeError, ValueError):
        return f"{what} ({type(answer).__name__}) is not an array of numbers"
    if A.dtype.kind == "c":
        return f"{what} has complex entries; the answer is real"
    if A.dtype.kind not in "biuf":
        try:  # sympy numbers and matrices convert to floats; anything else is junk
            A = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return f"{what} ({type(answer).__name__}) is not an array of numbers"
    return A.astype(float)


def _close(A: np.ndarray, B: np.ndarray, rtol: float, atol: float) -> bool:
    return A.shape == B.shape and bool(np.allclose(A, B, rtol=rtol, atol=atol))


def check_array(
    exercise: str,
    answer,
    expected,
    *,
    mistakes: Mapping[str, object] | None = None,
    what: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    ordered: bool = True,
    otherwise: str | None = None,
) -> str:
    """Return one line of feedback on an array answer.

    ``mistakes`` maps a hint to the value a typical mistake produces ("did you use 2(N-j)/N?": the array
    computed with the wrong exponent); the first mistake the answer matches gives its hint. ``otherwise``
    is the hint for a wrong answer that matches none of them. With ``ordered=False`` the entries are
    compared as sorted sets (eigenvalues, singular values).
    """
    label = _label(exercise)
    if is_unattempted(answer):
        return f"{label}: {NOT_ATTEMPTED_LINE}"
    if answer is None:
        return f"{label}: {what} is None: did the cell above end without computing it (a missing return)?"
    A = as_array(answer, what)
    if isinstance(A, str):
        return f"{label}: {A}"
    E = np.asarray(expected, dtype=float)
    if not ordered:
        A, E = np.sort(A.ravel()), np.sort(E.ravel())
    if A.shape != E.shape:
        if A.size == E.size:
            if A.ndim == 2 and A.T.shape == E.shape and _close(A.T, E, rtol, atol):
                return f"{label}: {what} is transposed: check which index is the row"
            return f"{label}: {what} has shape {A.shape}, but the answer has shape {E.shape}"
        return f"{label}: {what} has shape {A.shape} ({A.size} entries), but the answer has shape {E.shape}"
    if not np.all(np.isfinite(A)):
        bad = int(np.sum(~np.isfinite(A)))
        return f"{label}: {what} has {bad} NaN or infinite entries: look for a division by 0 or a log of 0"
    if _close(A, E, rtol, atol):
        return f"{label}: correct."
    for hint, value in (mistakes or {}).items():
        M = np.asarray(value, dtype=float)
        if not ordered:
            M = np.sort(M.ravel())
        if _close(A, M, rtol, atol):
            return f"{label}: not right yet: {hint}"
    if E.ndim == 2 and _close(A, E.T, rtol, atol):
        return f"{label}: {what} is transposed: check which index is the row"
    if np.allclose(A, -E, rtol=rtol, atol=atol):
        return f"{label}: not right yet: {what} has the wrong sign"
    if otherwise is not None:
        return f"{label}: not right yet: {otherwise}"
    ratio = np.divide(A, E, out=np.full(E.shape, np.nan), where=np.abs(E) > atol)
    # a constant factor means something only for several entries (any two numbers differ by a factor)
    if E.size > 1 and np.all(np.isfinite(ratio)) and np.ptp(ratio) <= rtol * 10 * np.max(np.abs(ratio)):
        return f"{label}: not right yet: {what} is off by a constant factor: check the constants"
    if E.size == 1:
        return f"{label}: not right yet: {what} is not the answer, nor one of the mistakes this check knows"
    return f"{label}: not right yet: {what} has the right shape but different values"


def check_number(
    exercise: str,
    answer,
    expected: float,
    *,
    mistakes: Mapping[str, float] | None = None,
    what: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    otherwise: str | None = None,
) -> str:
    """Return one line of feedback on a numeric answer (see :func:`check_array`)."""
    label = _label(exercise)
    if is_unattempted(answer):
        return f"{label}: {NOT_ATTEMPTED_LINE}"
    if isinstance(answer, (bool, str, bytes)) or answer is None:
        return f"{label}: {what} should be one number; got {answer!r}"
    A = as_array(answer, what)
    if isinstance(A, str):
        return f"{label}: {A}"
    if A.ndim != 0:
        return f"{label}: {what} should be one number; got an array of shape {A.shape}"
    return check_array(
        exercise, float(A), expected, mistakes=mistakes, what=what, rtol=rtol, atol=atol, otherwise=otherwise
    )


def check_choice(exercise: str, answer, correct: str, wrong: Mapping[str, str]) -> str:
    """Return one line of feedback on a multiple-choice answer: ``wrong`` maps each wrong option to its hint."""
    label = _label(exercise)
    if is_unattempted(answer):
        return f"{label}: {NOT_ATTEMPTED} (set the answer to one of the options, remove the raise, run both cells)"
    options = sorted({correct, *wrong})
    if not isinstance(answer, str):
        return f"{label}: the answer is one of the options {', '.join(repr(o) for o in options)}, as a string"
    key = answer.strip().lower()
    if key == correct:
        return f"{label}: correct."
    if key in wrong:
        return f"{label}: not right yet: {wrong[key]}"
    return f"{label}: {answer!r} is not one of the options {', '.join(repr(o) for o in options)}"
