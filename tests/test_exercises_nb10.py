"""The checkers of notebook 10's exercises: the right answer, each recognized mistake, junk, and the stub."""

import math

import numpy as np
import pytest

import lnnlib as L
from lnnlib.exercises import nb10 as ex


def largest_turn_by_search(depth):
    """Independent oracle: the turn of g toward the line of w under lnnlib's P_w (w along the x axis), maximized
    over a fine grid of directions and refined by golden-section search."""

    def turn(beta):
        g = np.array([math.cos(beta), math.sin(beta)])
        Pg = L.preconditioner(np.array([[1.0, 0.0]]), depth) @ g
        return beta - math.atan2(Pg[1], Pg[0])

    grid = np.linspace(0.0, math.pi / 2, 2001)
    k = int(np.argmax([turn(b) for b in grid]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    for _ in range(100):
        a, b = lo + 0.382 * (hi - lo), hi - 0.382 * (hi - lo)
        lo, hi = (a, hi) if turn(a) < turn(b) else (lo, b)
    beta = (lo + hi) / 2
    return math.degrees(beta), math.degrees(turn(beta))


@pytest.mark.parametrize("depth", [3, 8])
def test_largest_turn(depth):
    def check(answer):
        return ex.check_largest_turn(answer, depth)

    beta, turn = largest_turn_by_search(depth)
    assert check((beta, turn)) == "Exercise 10.1: correct."
    assert check(np.array([beta, turn])) == "Exercise 10.1: correct."
    assert "radians" in check((math.radians(beta), math.radians(turn)))
    assert "order is" in check((turn, beta))
    if depth != 3:  # at N = 3 the angle of P_w g from w (30 degrees) equals the turn
        assert "angle of P_w g from w" in check((beta, beta - turn))
    assert "45 degrees" in check((45.0, 45.0 - math.degrees(math.atan(1 / depth))))
    b1 = math.atan(math.sqrt(depth - 1))
    assert "not N - 1" in check((math.degrees(b1), math.degrees(b1 - math.atan(math.tan(b1) / (depth - 1)))))
    # the demo's slider: its best 5-degree direction, read off the demo itself
    demo = L.preconditioner_demo()
    demo.set(depth=depth, angle=0)
    turns = {a: demo.set(gradient_angle=a)["turn"] for a in range(0, 95, 5)}
    best = max(turns, key=turns.get)
    if depth != 3:  # at N = 3 the exact beta* = 60 degrees lies on the grid
        assert "5-degree grid" in check((best, turns[best]))
        assert "N = 3" in check((60.0, 30.0))
    assert "maximize" in check((10.0, 5.0))
    for junk in ("abc", None, [beta], [[beta, turn]], (beta, np.nan)):
        message = check(junk)
        assert message.startswith("Exercise 10.1: ") and "correct." not in message, junk
    assert "not attempted yet" in check(...)
    assert "not attempted yet" in check((..., turn))
    with pytest.raises(ValueError, match="depth"):
        ex.check_largest_turn((beta, turn), 1)


@pytest.fixture(scope="module")
def completion():
    return L.matrix_completion_demo(30, 2, seed=0)


def test_fewest_observations(completion):
    def check(answer):
        return ex.check_fewest_observations(answer, completion)

    # independent of the checker's runs: the demo's own runs, through its sweep of the observations slider
    errors, losses = {}, {}
    for depth in (2, 3):
        completion.set(depth=depth, init_scale=1e-3)
        for count, run in completion.sweep("observations", list(ex.COUNTS_10_2)).items():
            errors[depth, count], losses[depth, count] = run["error"][-1], run["loss"][-1]

    def fewest(values, level):
        return tuple(min((c for c in ex.COUNTS_10_2 if values[d, c] < level), default=0) for d in (2, 3))

    right = fewest(errors, 1e-2)
    assert right[0] != right[1]  # the depths differ: the swap is a distinguishable mistake
    assert check(right) == "Exercise 10.2: correct."
    assert check(list(right)) == "Exercise 10.2: correct."
    assert check(np.array(right)) == "Exercise 10.2: correct."
    assert "first count is for depth 2" in check(right[::-1])
    assert fewest(errors, 1e-1) != right
    assert "threshold 1e-1" in check(fewest(errors, 1e-1))
    assert fewest(losses, 1e-2) != right
    assert "training loss" in check(fewest(losses, 1e-2))
    assert "sweep the counts" in check((50, 50))
    for junk in ("abc", None, 400, (400, 200, 100), [[400], [200, 100]], True):
        message = check(junk)
        assert message.startswith("Exercise 10.2: ") and "two counts" in message, junk
    assert "not an array of numbers" in check(("a", "b"))
    assert "NaN" in check((np.nan, 200))
    assert "not attempted yet" in check(...)
    assert "not attempted yet" in check((..., ...))
