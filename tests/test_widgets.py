"""Lecture demos without a browser: build each demo, move its controls, check the data and the picture.

The widgets' Python side is the whole logic (the browser only displays the PNG and sends slider values),
so setting ``control.value`` here exercises exactly what a slider move in JupyterLab does.
"""

from __future__ import annotations

import math
import threading
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest
import traitlets
from scipy.optimize import minimize

import lnnlib as L
from lnnlib.losses import Loss

TOL = 1e-10  # agreement of two exact computations of the same quantity
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TRAINING_THREAD = "lnnlib-demo-training"


class MaskedMSE(Loss):
    """Oracle loss for the completion loop: mean squared error over the observed entries."""

    def __init__(self, target, mask):
        self.target, self.mask, self.shape = target, mask, target.shape

    def value(self, W):
        return float(np.sum(((W - self.target) * self.mask) ** 2) / self.mask.sum())

    def gradient(self, W):
        return 2 * (W - self.target) * self.mask / self.mask.sum()


def small_problem(n=6, rank=1, count=20, seed=3):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))
    mask = np.zeros(n * n, bool)
    mask[rng.permutation(n * n)[:count]] = True
    return M, mask.reshape(n, n)


# ---------------------------------------------------------------------------------------------------
# completion_trajectory against lnnlib's layer-wise gradient descent


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 1])
def test_completion_trajectory_matches_gradient_descent(depth, seed):
    M, mask = small_problem(seed=seed)
    lr, steps = 0.05, 40
    run = L.completion_trajectory(M, mask, depth, 0.1, rng=seed, lr=lr, max_steps=steps, tol=0.0, record_every=5)
    init = L.near_zero_init([6] * (depth + 1), 0.1, np.random.default_rng(seed))
    ref = L.gradient_descent(init, MaskedMSE(M, mask), lr, steps, record_every=5)
    np.testing.assert_array_equal(run["steps"], ref.steps)
    np.testing.assert_allclose(run["loss"], ref.loss[ref.steps], rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(run["singular_values"], ref.singular_values, rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(run["final"], ref.final, atol=TOL)
    errors = [L.reconstruction_error(W, M) for W in ref.end_to_end]
    np.testing.assert_allclose(run["error"], errors, rtol=1e-9)
    assert not run["converged"]


def test_completion_trajectory_stops_at_tolerance_and_reports_progress():
    M, mask = small_problem(count=30)
    seen = []
    run = L.completion_trajectory(M, mask, 2, 1e-2, rng=0, max_steps=5000, tol=1e-6, progress=seen.append)
    assert run["converged"] and run["loss"][-1] <= 1e-6 and run["steps"][-1] < 5000
    assert seen == sorted(seen) and 0 <= seen[0] and seen[-1] <= 1


def test_completion_trajectory_divergence_is_an_error():
    M, mask = small_problem()
    with pytest.raises(FloatingPointError, match="diverged at step .* learning rate"):
        L.completion_trajectory(M, mask, 3, 1.0, rng=0, lr=1e4, max_steps=200)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": np.ones((3, 4))}, "square"),
        ({"mask": np.ones((6, 6))}, "boolean matrix"),
        ({"mask": np.ones((5, 5), bool)}, "boolean matrix"),
        ({"mask": np.zeros((6, 6), bool)}, "observes no entry"),
        ({"depth": 0}, "at least 1"),
        ({"init_scale": -1.0}, "init scale"),
        ({"init_scale": math.nan}, "init scale"),
        ({"lr": 0.0}, "learning rate"),
    ],
)
def test_completion_trajectory_bad_inputs(kwargs, message):
    M, mask = small_problem()
    args = {"target": M, "mask": mask, "depth": 2, "init_scale": 1e-2, **kwargs}
    with pytest.raises(ValueError, match=message):
        L.completion_trajectory(args.pop("target"), args.pop("mask"), args.pop("depth"), args.pop("init_scale"), **args)


# ---------------------------------------------------------------------------------------------------
# lp_minimum against scipy


@pytest.mark.parametrize("p", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_lp_minimum_matches_scipy(p, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((60, 4))
    y = X @ rng.standard_normal(4) + rng.standard_normal(60)
    loss = L.LpRegressionLoss(X, y, p=p)
    ref = minimize(
        lambda w: loss.value(w[None]),
        np.zeros(4),
        jac=lambda w: loss.gradient(w[None])[0],
        method="BFGS",
        options={"gtol": 1e-10},
    )
    assert L.lp_minimum(loss) <= ref.fun + 1e-12
    assert L.lp_minimum(loss) == pytest.approx(ref.fun, rel=1e-9)


def test_lp_minimum_bad_inputs():
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="one output"):
        L.lp_minimum(L.LpRegressionLoss(X, np.ones((10, 2)), p=4))
    with pytest.raises(ValueError, match="p >= 2"):
        L.lp_minimum(L.LpRegressionLoss(X, np.ones(10), p=1.5))
    with pytest.raises(ValueError, match="one output"):
        L.lp_minimum("not a loss")


# ---------------------------------------------------------------------------------------------------
# the demos


@pytest.fixture(scope="module")
def completion():
    return L.matrix_completion_demo(max_steps=1500)


@pytest.fixture(scope="module")
def balance():
    return L.balancedness_demo(steps=400)


@pytest.fixture(scope="module")
def precond():
    return L.preconditioner_demo()


@pytest.fixture(scope="module")
def accel():
    return L.acceleration_demo(steps=600)


def move(control, value):
    """Set a control as a slider move in the browser would, then wait for the final picture (a move
    that needs a new run trains in a worker thread)."""
    control.value = value
    finish_training()


def finish_training():
    for thread in threading.enumerate():
        if thread.name == TRAINING_THREAD:
            thread.join()


def test_demos_are_widget_containers_that_draw_png(completion, balance, precond, accel):
    import ipywidgets

    for demo in (completion, balance, precond, accel):
        assert isinstance(demo, ipywidgets.VBox)
        assert bytes(demo.image.value).startswith(PNG_MAGIC)
        assert "color:#333333" in demo.status.value  # a normal status line, not an error
        assert demo.progress.layout.visibility == "hidden"  # shown only while training
        assert np.isfinite(demo.redraw_seconds)
    assert plt.get_fignums() == []  # no pyplot figure: nothing leaks into a notebook cell's outputs


def test_training_sliders_do_not_update_continuously(completion, balance, accel):
    import ipywidgets

    for demo in (completion, balance, accel):
        for name, control in demo.controls.items():
            if isinstance(control, ipywidgets.widgets.widget_int._Int | ipywidgets.FloatLogSlider):
                if name not in demo.view_only:
                    assert control.continuous_update is False, name


def test_completion_depth_slider_retrains_and_changes_the_picture(completion):
    c = completion.controls
    move(c["depth"], 1)
    shallow = completion.result
    image_shallow = completion.image.value
    move(c["depth"], 3)
    deep = completion.result
    assert completion.image.value != image_shallow
    # depth 1 fits the observed entries and leaves the rest at ~0: error about the unobserved fraction
    unobserved = 1 - c["observations"].value / completion.target.size
    assert shallow["error"][-1] > 0.5 * unobserved
    assert deep["error"][-1] < 0.05 * shallow["error"][-1]
    assert deep["erank"][-1] == pytest.approx(L.effective_rank(deep["final"]))
    np.testing.assert_allclose(deep["singular_values"][-1], L.singular_values(deep["final"]), rtol=1e-10)


def test_completion_cache_and_view_only_step_slider(completion):
    c = completion.controls
    move(c["depth"], 2)
    move(c["depth"], 3)
    misses = completion.cache.misses
    move(c["depth"], 2)  # computed before: from the cache, no training
    assert completion.cache.misses == misses
    end_image = completion.image.value
    misses, full = completion.cache.misses, completion.full_redraws
    last = int(completion.result["steps"][-1])
    assert c["step"].value == 100 and (c["step"].min, c["step"].max) == (0, 100)  # fixed range
    assert completion.result["shown_index"] == len(completion.result["steps"]) - 1
    move(c["step"], 50)
    assert completion.cache.misses == misses and completion.full_redraws == full  # cursor only
    k = completion.result["shown_index"]
    assert completion.result["steps"][k] <= last / 2 < completion.result["steps"][k] + 10
    assert completion.image.value != end_image
    assert f"At step {completion.result['steps'][k]}:" in completion.status.value


def test_completion_observations_are_nested(completion):
    small, large = completion.mask(150), completion.mask(300)
    assert small.sum() == 150 and large.sum() == 300 and np.all(large[small])
    with pytest.raises(ValueError, match="between 1 and n\\^2 = 900"):
        completion.mask(0)


def test_completion_more_observations_lower_error(completion):
    c = completion.controls
    move(c["depth"], 2)
    move(c["observations"], 100)
    few = completion.result["error"][-1]
    move(c["observations"], 400)
    many = completion.result["error"][-1]
    assert many < few


def test_invalid_values_are_refused_without_exception(completion, accel):
    c = completion.controls["init_scale"]
    before, image = c.value, completion.image.value
    c.value = math.nan  # FloatLogSlider lets NaN through; the demo must not
    assert c.value == before
    assert "refused init_scale" in completion.status.value and "#b00020" in completion.status.value
    assert completion.image.value == image
    move(c, 1e-2)  # and the demo keeps working
    assert "refused" not in completion.status.value
    with pytest.raises(traitlets.TraitError):
        accel.controls["p"].value = 3  # not one of the menu's entries
    d = completion.controls["depth"]
    move(d, 99)  # the slider clamps to its range; the run shown is the clamped one
    assert d.value == d.max == 4 and completion.params()["depth"] == 4


@pytest.mark.parametrize("init", L.demos.balancedness.INITS)
def test_balancedness_gaps_start_where_the_init_puts_them(balance, init):
    c = balance.controls
    move(c["init"], init)
    p = balance.params()
    weights = balance.initial_weights(p["init"], p["scale"], p["depth"])
    np.testing.assert_allclose(balance.result["gaps"][0], L.balancedness_gaps(weights), rtol=1e-12, atol=1e-15)
    if init in ("identity", "balanced"):
        assert balance.result["gaps"][0].max() < 1e-12
    else:
        assert balance.result["gaps"][0].max() > 1e-3


@pytest.mark.parametrize(("init", "scale", "lr"), [("balanced", 1.0, 0.05), ("near-zero Gaussian", 0.01, 0.1)])
def test_balancedness_run_matches_gradient_descent(balance, init, scale, lr):
    p = {"init": init, "scale": scale, "lr": lr, "depth": 3}
    run = balance._train(p)
    weights = balance.initial_weights(init, scale, 3)
    ref = L.gradient_descent(weights, L.L2Loss(balance.target), lr, balance.steps, record_every=10)
    np.testing.assert_array_equal(run["steps"], ref.steps)
    np.testing.assert_allclose(run["loss"], ref.loss, rtol=1e-9, atol=TOL)
    np.testing.assert_allclose(run["gaps"], ref.gaps, rtol=1e-8, atol=TOL)


@pytest.mark.parametrize(("depth", "p"), [(2, 4), (3, 4), (2, 2)])
def test_acceleration_run_matches_gradient_descent(accel, depth, p):
    run = accel._run(depth, 0.1, p)
    layers = [np.zeros((1, accel.X.shape[1]))] + [np.ones((1, 1))] * (depth - 1)
    ref = L.gradient_descent(layers, L.LpRegressionLoss(accel.X, accel.y, p=p), 0.1, accel.steps)
    assert run["diverged"] is None
    np.testing.assert_allclose(run["loss"], ref.loss, rtol=1e-9, atol=TOL)


def test_balancedness_drift_grows_with_step_size(balance):
    c = balance.controls
    move(c["init"], "balanced")
    move(c["scale"], 0.1)
    drifts = []
    for lr in (10**-2.5, 10**-1.5):
        image = balance.image.value
        move(c["lr"], lr)
        assert balance.image.value != image
        drifts.append(balance.result["gaps"][-1].max())
    assert drifts[1] > 3 * drifts[0] > 0


def test_balancedness_depth_changes_number_of_gaps(balance):
    for depth in (2, 4):
        move(balance.controls["depth"], depth)
        assert balance.result["gaps"].shape[1] == depth - 1
        assert sum(line.get_visible() for line in balance.gap_lines) == depth - 1


def test_balancedness_divergence_is_a_message(balance):
    c = balance.controls
    move(c["init"], "layer-wise Gaussian")
    move(c["scale"], 10 ** c["scale"].max)  # FloatLogSlider's min and max are exponents
    move(c["lr"], 10 ** c["lr"].max)
    assert "diverged" in balance.status.value and "Traceback" not in balance.status.value
    move(c["scale"], 0.1)
    move(c["lr"], 1e-2)  # recovers
    assert "#b00020" not in balance.status.value


def closed_form_P(w, N):
    r = np.linalg.norm(w)
    w_hat = w / r
    return r ** (2 - 2 / N) * (np.eye(2) + (N - 1) * np.outer(w_hat, w_hat))


@pytest.mark.parametrize(("norm", "angle", "depth"), [(1.0, 30, 3), (10**0.5, 90, 2), (10**-0.5, 145, 5), (2.0, 0, 1)])
def test_preconditioner_demo_matches_closed_form(precond, norm, angle, depth):
    c = precond.controls
    move(c["norm"], norm)
    move(c["angle"], angle)
    move(c["depth"], depth)
    w = precond.result["w"]
    np.testing.assert_allclose(
        w, c["norm"].value * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    )
    np.testing.assert_allclose(precond.result["P"], closed_form_P(w, depth), rtol=1e-10, atol=TOL)
    np.testing.assert_allclose(precond.result["Pg"], closed_form_P(w, depth) @ precond.result["g"], atol=1e-9)
    ellipse = np.array(precond.ellipses[0].get_data())
    np.testing.assert_allclose(ellipse, closed_form_P(w, depth) @ precond.circle, atol=1e-9)


def test_preconditioner_gradient_slider_only_moves_arrows(precond):
    c = precond.controls
    move(c["depth"], 3)
    move(c["angle"], 30)
    move(c["gradient_angle"], 90)
    full, image = precond.full_redraws, precond.image.value
    move(c["gradient_angle"], 100)
    assert precond.full_redraws == full and precond.image.value != image
    assert precond.result["turn"] > 1  # pulled toward the line of w
    move(c["gradient_angle"], 120)  # perpendicular to w: an eigenvector, not turned
    assert abs(precond.result["turn"]) < 1e-6
    move(c["gradient_angle"], 30)  # along w: an eigenvector too
    assert abs(precond.result["turn"]) < 1e-6
    move(c["depth"], 1)  # N = 1: P_w = I, nothing turns
    move(c["gradient_angle"], 75)
    assert abs(precond.result["turn"]) < 1e-6


def test_acceleration_curves(accel):
    c = accel.controls
    move(c["p"], 4)
    move(c["lr"], 0.1)
    r = accel.result
    assert r["minimum"] == pytest.approx(L.lp_minimum(L.LpRegressionLoss(accel.X, accel.y, p=4)))
    assert r["gd"]["loss"][0] == r["deep"]["loss"][0]  # both start from w = 0
    assert len(r["gd"]["loss"]) == len(r["deep"]["loss"]) == accel.steps + 1
    assert np.all(r["gd"]["loss"] >= r["minimum"] - 1e-12) and np.all(r["deep"]["loss"] >= r["minimum"] - 1e-12)
    image = accel.image.value
    move(c["depth"], 3)
    assert accel.image.value != image and accel.result["gd"] is r["gd"]  # GD reused from the cache
    assert "depth 3" in accel.status.value


def test_acceleration_gd_divergence_is_reported(accel):
    move(accel.controls["p"], 4)
    move(accel.controls["lr"], 10 ** accel.controls["lr"].max)  # 0.316: plain GD on l4 blows up
    assert accel.result["gd"]["diverged"] is not None
    assert "GD, linear model: diverged" in accel.status.value
    move(accel.controls["lr"], 0.1)


@pytest.mark.parametrize(
    ("builder", "kwargs", "message"),
    [
        (L.matrix_completion_demo, {"n": 0}, "n must be a positive integer"),
        (L.matrix_completion_demo, {"n": 5, "rank": 6}, "at most 5"),
        (L.matrix_completion_demo, {"max_steps": 2.5}, "max_steps"),
        (L.balancedness_demo, {"width": -1}, "width"),
        (L.balancedness_demo, {"steps": 0}, "steps must be a positive integer"),
        (L.acceleration_demo, {"X": np.ones((5, 2))}, "both X and y"),
        (L.acceleration_demo, {"X": np.ones((5, 2)), "y": np.ones(4)}, "one target per row"),
        (L.acceleration_demo, {"eps": 0.0}, "eps"),
        (L.acceleration_demo, {"steps": 0}, "steps must be a positive integer"),
    ],
)
def test_builders_refuse_bad_arguments(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)


def test_sweep_fills_the_cache_and_restores_the_control(balance):
    c = balance.controls["init"]
    move(c, "identity")
    results = balance.sweep("init", ["balanced", "layer-wise Gaussian"])
    assert c.value == "identity" and set(results) == {"balanced", "layer-wise Gaussian"}
    misses = balance.cache.misses
    move(c, "balanced")
    assert balance.cache.misses == misses and balance.result is results["balanced"]
    with pytest.raises(ValueError, match="no control 'steps'"):
        balance.sweep("steps", [1])
    with pytest.raises(ValueError, match="outside the slider's range"):
        balance.sweep("depth", [7])
    assert balance.controls["depth"].value != 7


def test_set_changes_several_controls_with_one_computation(balance):
    misses = balance.cache.misses
    full = balance.full_redraws
    result = balance.set(init="identity", scale=0.5, lr=10**-1.75)
    assert balance.cache.misses == misses + 1 and balance.full_redraws == full + 1
    assert balance.params()["init"] == "identity" and result is balance.result
    with pytest.raises(ValueError, match="refused"):
        balance.set(scale=math.nan)
    with pytest.raises(ValueError, match="no control 'width'"):
        balance.set(width=3)
    with pytest.raises(ValueError, match="diverged"):
        balance.set(init="layer-wise Gaussian", scale=10**0.5, lr=10**-0.5)
    balance.set(init="near-zero Gaussian", scale=0.01, lr=0.01)


def test_a_slider_message_during_training_waits_for_the_new_figure():
    # In JupyterLab the frontend snaps the step slider to its new range while a run trains, and the
    # kernel delivers that message inside the running update: it must be queued, not drawn on the old
    # background.
    demo = L.matrix_completion_demo(max_steps=600)
    original = demo._report_progress
    sent = []

    def progress(fraction):
        original(fraction)
        if not sent:
            sent.append(True)
            demo.controls["step"].value = 30  # arrives mid-training, as from the browser

    demo._report_progress = progress
    demo.background = False  # the kernel's own thread trains (as set and sweep do)
    demo.controls["depth"].value = 2
    assert sent and demo._pending == [] and not demo._busy
    fresh = L.matrix_completion_demo(max_steps=600)
    fresh.set(depth=2)  # the same state drawn from scratch
    assert bytes(demo.image.value) == bytes(fresh.image.value)
    assert demo.controls["step"].value == 100  # a new run is shown at its end


def test_an_unexpected_error_is_a_message_not_a_traceback(precond, monkeypatch):
    def broken():
        raise KeyError("boom")

    monkeypatch.setattr(precond, "_update", broken)
    move(precond.controls["depth"], 5)
    assert "internal error (KeyError" in precond.status.value and "#b00020" in precond.status.value
    monkeypatch.undo()
    move(precond.controls["depth"], 3)
    assert "#b00020" not in precond.status.value


def test_a_setting_shown_before_is_not_redrawn(precond):
    c = precond.controls
    precond.set(depth=3, angle=30, norm=1.0)
    image, full = bytes(precond.image.value), precond.full_redraws
    move(c["depth"], 4)
    assert precond.full_redraws == full + 1
    move(c["depth"], 3)
    assert precond.full_redraws == full + 1 and bytes(precond.image.value) == image


# ---------------------------------------------------------------------------------------------------
# training in the background: a move answers at once, streams the run, and a second move is honoured


def state(demo) -> str:
    return demo.status.value.split('data-state="')[1].split('"')[0]


def test_a_move_that_trains_answers_at_once_and_streams_the_run(monkeypatch):
    monkeypatch.setattr(L.demos.base, "FRAME_INTERVAL", 0.0)  # a partial frame at every record
    demo = L.matrix_completion_demo(max_steps=3000)
    frames = demo.frames
    demo.controls["observations"].value = 100  # depth 3 on 100 entries: 672 steps
    assert demo.training and state(demo) == "training" and "observations 100" in demo.status.value
    assert demo.progress.layout.visibility == "visible"
    assert demo.first_response_seconds < 0.1  # only the status line and the progress bar were sent
    finish_training()
    assert state(demo) == "done" and demo.progress.layout.visibility == "hidden"
    assert demo.frames >= frames + 60  # a partial frame per 10 steps, then the final picture
    fresh = L.matrix_completion_demo(max_steps=3000)
    assert fresh.set(observations=100)["error"][-1] == demo.result["error"][-1]
    assert bytes(demo.image.value) == bytes(fresh.image.value)


def test_a_second_move_during_training_is_honoured():
    demo = L.acceleration_demo(steps=2000)
    demo.controls["lr"].value = 10**-1.25
    time.sleep(0.02)  # the first run has started
    demo.controls["depth"].value = 4  # a second move before the first run ends
    finish_training()
    assert demo.params()["depth"] == 4 and state(demo) == "done"
    fresh = L.acceleration_demo(steps=2000)
    expected = fresh.set(lr=10**-1.25, depth=4)
    np.testing.assert_array_equal(demo.result["deep"]["loss"], expected["deep"]["loss"])
    assert "depth 4" in demo.status.value
    assert bytes(demo.image.value) == bytes(fresh.image.value)


def test_a_run_that_fails_in_the_background_is_a_message(balance):
    move(balance.controls["lr"], 10**-0.5)
    move(balance.controls["scale"], 10**0.5)
    move(balance.controls["init"], "layer-wise Gaussian")
    assert "diverged" in balance.status.value
    balance.set(init="near-zero Gaussian", scale=0.01, lr=0.01)


# ---------------------------------------------------------------------------------------------------
# the descent engine the demos share with gradient_descent and complete_matrix


def test_descent_engine_momentum_is_heavy_ball_against_a_hand_written_loop():
    from lnnlib.network import layer_gradients
    from lnnlib.train import descend_layers

    rng = np.random.default_rng(5)
    layers = [0.5 * rng.standard_normal((3, 3)) for _ in range(3)]
    target = rng.standard_normal((3, 3))
    lr, beta, steps = 0.05, 0.9, 40
    _, losses, diverged = descend_layers(
        layers, lambda W: (0.5 * float(np.sum((W - target) ** 2)), W - target), lr, steps, momentum=beta
    )
    ref, velocity, ref_losses = [W.copy() for W in layers], [np.zeros((3, 3))] * 3, []
    for t in range(steps + 1):
        W = ref[2] @ ref[1] @ ref[0]
        ref_losses.append(0.5 * float(np.sum((W - target) ** 2)))
        if t == steps:
            break
        grads = layer_gradients(ref, W - target)
        velocity = [beta * v + g for v, g in zip(velocity, grads, strict=True)]
        ref = [Wj - lr * v for Wj, v in zip(ref, velocity, strict=True)]
    assert diverged is None
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-12)
    assert not np.allclose(
        losses, descend_layers(layers, lambda W: (0.5 * float(np.sum((W - target) ** 2)), W - target), lr, steps)[1]
    )


def test_descent_engine_stop_hook_abandons_the_run():
    from lnnlib.train import Stopped, descend_layers

    seen = []

    def stop():
        if len(seen) == 3:
            raise Stopped
        seen.append(True)

    with pytest.raises(Stopped):
        descend_layers(
            [np.ones((2, 2))], lambda W: (float(np.sum(W**2)), 2 * W), 0.01, 1000, record_every=10, stop=stop
        )
    assert len(seen) == 3  # stopped at the fourth record, step 30, not after 1000 steps
