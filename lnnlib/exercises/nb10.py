"""Feedback on the exercises of notebook 10 (the lecture demos).

- Exercise 10.1: for the single-output preconditioner at depth $N$, the gradient direction turned most toward
  $w$ and the largest turn, in degrees (:func:`check_largest_turn`).
- Exercise 10.2: with demo 1's problem, the fewest observed entries (among given counts) at which depth 2 and
  depth 3 reach a reconstruction error below $10^{-2}$ (:func:`check_fewest_observations`).

Each checker returns one line: ``Exercise 10.k: correct.``, ``not attempted yet``, or what is wrong with a hint.
"""

from __future__ import annotations

import math

import numpy as np

from lnnlib.completion import completion_trajectory
from lnnlib.exercises import check_array, is_unattempted

__all__ = ["check_largest_turn", "check_fewest_observations"]

COUNTS_10_2 = (100, 150, 200, 300, 400)


def _turn_deg(beta_deg: float, stretch: float) -> float:
    """Degrees by which a map stretching by ``stretch`` along w (1 across) turns g at ``beta_deg`` from w."""
    b = math.radians(beta_deg)
    return beta_deg - math.degrees(math.atan(math.tan(b) / stretch))


def _largest(stretch: float) -> tuple[float, float]:
    """(beta*, largest turn) in degrees: the turn beta - atan(tan(beta) / k) peaks at tan(beta*) = sqrt(k)."""
    beta = math.degrees(math.atan(math.sqrt(stretch)))
    return beta, _turn_deg(beta, stretch)


def check_largest_turn(answer, depth: int) -> str:
    r"""Exercise 10.1: ``answer`` should be $(\beta^*, \tau^*)$ in degrees for depth ``depth``: the angle of the
    unit gradient $g$ from $w$ that $P_w$ turns most toward the line of $w$, and that turn.

    $P_w$ stretches by $N\|w\|^{2-2/N}$ along $w$ and by $\|w\|^{2-2/N}$ across it, so $g$ at angle $\beta$
    lands at angle $\arctan(\tan\beta / N)$ from $w$; the turn $\beta - \arctan(\tan\beta / N)$ is largest at
    $\tan\beta^* = \sqrt N$, where it is $\arctan\sqrt N - \arctan(1/\sqrt N)$.

    Recognized mistakes: radians, the two numbers swapped, the angle of $P_w g$ from $w$ in place of the turn,
    the diagonal $\beta = 45°$, a stretch of $N - 1$ in place of $N$, depth 3 (the demo's start), and the best
    direction on the demo's 5-degree slider.
    """
    label = "10.1"
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 2:
        raise ValueError(f"the depth must be an integer >= 2 (at N = 1, P_w = I turns nothing); got {depth!r}")
    beta, turn = _largest(depth)
    grid = max(range(0, 91, 5), key=lambda b: _turn_deg(b, depth))  # the demo's slider moves in 5-degree steps
    mistakes = {
        "give both angles in degrees, not radians": (math.radians(beta), math.radians(turn)),
        "the order is (direction beta*, largest turn)": (turn, beta),
        "the second number is the angle of P_w g from w; the turn is beta minus that angle": (beta, beta - turn),
        "45 degrees is not where the turn peaks: differentiate beta - atan(tan(beta) / N) in beta": (
            45.0,
            _turn_deg(45.0, depth),
        ),
        "along w, P_w stretches by |w|^(2-2/N) (1 + (N - 1)) = N |w|^(2-2/N), not N - 1": _largest(depth - 1),
        f"that is the slider's best on its 5-degree grid; derive the exact maximum for N = {depth}": (
            grid,
            _turn_deg(grid, depth),
        ),
    }
    if depth != 3:
        mistakes[f"those are the values for N = 3 (the demo's start); the exercise asks N = {depth}"] = _largest(3)
    otherwise = "write the angle of P_w g from w as atan(tan(beta) / N) and maximize beta minus it over beta"
    return check_array(
        label, answer, (beta, turn), mistakes=mistakes, what="your (beta*, turn)", rtol=1e-4, otherwise=otherwise
    )


def _fewest(values: dict[int, float], threshold: float):
    return min((c for c, v in values.items() if v < threshold), default=0)


def check_fewest_observations(answer, demo, counts=COUNTS_10_2, threshold: float = 1e-2) -> str:
    r"""Exercise 10.2: ``answer`` should be (fewest count for depth 2, fewest count for depth 3): among
    ``counts``, the fewest observed entries ``demo.mask(count)`` for which the run of the matrix-completion
    demo ``demo`` (init scale $10^{-3}$, its seed and step cap) ends with reconstruction error below
    ``threshold``; 0 where no count reaches it.

    The runs are recomputed here with :func:`lnnlib.completion_trajectory`, independently of the demo's
    cache. Recognized mistakes: the two depths swapped, the threshold $10^{-1}$, the training loss in place of
    the reconstruction error.
    """
    label = "10.2"
    if is_unattempted(answer):
        return check_array(label, answer, (0, 0))
    try:  # junk is answered before the runs are computed
        two = not isinstance(answer, (str, bytes, bool)) and answer is not None and np.shape(answer) == (2,)
    except ValueError:  # a ragged list
        two = False
    if not two:
        return f"Exercise {label}: the answer is two counts, (fewest for depth 2, fewest for depth 3); got {answer!r}"
    errors, losses = {}, {}
    for depth in (2, 3):
        for count in counts:
            run = completion_trajectory(
                demo.target, demo.mask(count), depth, 1e-3, rng=demo.seed + 1, max_steps=demo.max_steps
            )
            errors[depth, count], losses[depth, count] = float(run["error"][-1]), float(run["loss"][-1])

    def fewest(values, level):
        return [_fewest({c: values[d, c] for c in counts}, level) for d in (2, 3)]

    expected = fewest(errors, threshold)
    mistakes = {
        "the first count is for depth 2, the second for depth 3": expected[::-1],
        f"that is the threshold 1e-1; the exercise asks for an error below {threshold:g}": fewest(errors, 1e-1),
        "that is where the training loss (observed entries) is small; use run['error'], on all entries": fewest(
            losses, threshold
        ),
    }
    otherwise = (
        "for each depth, sweep the counts with demo.sweep('observations', ...) and take the fewest whose final "
        "run['error'] is below the threshold"
    )
    return check_array(
        label, answer, expected, mistakes=mistakes, what="your two counts", rtol=0, atol=0.5, otherwise=otherwise
    )
