"""Every public callable refuses bad input clearly: a trial over ``lnnlib.__all__``, one bad argument at a time.

The walk is automatic: every name in ``lnnlib.__all__`` that can be called (and every public method of
the objects their valid calls return) is introspected; each parameter gets a *kind* from its name (a
table below, with a few per-function exceptions), and each kind a list of bad values: NaN/inf/complex
arrays, wrong numbers of dimensions, non-integer, boolean, negative, zero or huge depths and counts,
NaN/negative/infinite rates and tolerances, bad seeds, unknown choices, callables that return nonsense.
A function added later is walked too; if one of its parameters has a name the table does not know, or no
valid value can be built for it, its test fails and says what to add.

The promise checked for each bad call (the library's contract, issue 15):

* it raises ValueError, TypeError or FloatingPointError (FileNotFoundError for a missing file);
* the error is the library's own: raised from an ``lnnlib`` source file, with a message that is not
  numpy's or Python's wording (a list of their phrasings below);
* it returns within ``TIME_LIMIT`` seconds (no hang), without a warning, and without allocating more
  than a few GiB (the address space is capped while the walk runs).

Values that are allowed but extreme (1e308 or 1e-308 scales) may also give a result, which must then be
finite. Before each callable's bad calls, its valid call must succeed: so a refusal is the bad
argument's doing, not a broken base case.

Run ``python tests/test_bad_input.py`` for the whole trial with counts per category.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import os
import re
import resource
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import lnnlib as L

ALLOWED = (ValueError, TypeError, FloatingPointError, FileNotFoundError)
TIME_LIMIT = 4.0  # seconds per call; refused calls take milliseconds, valid base calls well under 1 s
ADDRESS_SPACE_MARGIN = 4 * 2**30  # bytes the walk may allocate beyond what the process already maps
LIBRARY_DIR = Path(L.__file__).resolve().parent

# numpy's and Python's phrasings: an error whose message matches one of these is not in the library's words
FOREIGN = re.compile(
    "|".join(
        [
            r"could not convert",
            r"argument must be",
            r"object cannot be interpreted",
            r"unsupported operand",
            r"not supported between",
            r"SeedSequence",
            r"invalid literal",
            r"has no attribute",
            r"only integer scalar",
            r"setting an array element",
            r"could not be broadcast",
            r"\bmatmul\b",
            r"Input operand",
            r"object is not (callable|iterable|subscriptable)",
            r"expected str, bytes",
            r"positional argument",
            r"unexpected keyword",
            r"must be real number",
            r"can't convert",
            r"Cannot cast",
            r"ufunc",
            r"out of bounds",
            r"truth value of an array",
            r"index out of range",
            r"unhashable",
            r"did not converge",
            r"Singular matrix",
            r"must not contain infs or NaNs",
            r"cannot reshape",
            r"math domain error",
            r"encountered in",
            r"Result too large",
            r"division by zero",
            r"division or modulo by zero",
            r"out of range",
            r"inhomogeneous",
            r"Sympify",
            r"^\s*$",
        ]
    )
)


class Hang(BaseException):
    """Raised by the timer inside a call that runs past TIME_LIMIT (a BaseException, so that a library's
    ``except Exception`` cannot swallow it)."""


def _alarm(signum, frame):
    raise Hang


# ---------------------------------------------------------------------------------------------------
# A small, consistent world of valid arguments


class World:
    """Valid arguments, built once: 3 x 3 matrices and a depth-2 network for the core, a 6 x 6
    completion problem, a 2-D single-output field, sympy objects for the exact side."""

    def __init__(self, tmp: Path):
        rng = np.random.default_rng(0)
        self.Phi = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.0], [0.1, 0.0, 1.0]])
        self.W = np.array([[1.0, 0.2, 0.0], [0.1, 0.8, 0.3], [0.0, 0.2, 0.6]])
        self.G = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.1], [0.0, 0.2, -0.3]])
        self.weights = [0.9 * np.eye(3) + 0.05 * rng.standard_normal((3, 3)) for _ in range(2)]
        self.loss = L.L2Loss(self.Phi)
        self.X = rng.standard_normal((12, 3))
        self.y = self.X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(12)
        self.x = np.linspace(-1, 1, 8)
        self.yx = np.sin(3 * self.x)
        # completion
        self.M, self.mask = L.completion_problem(6, 1, 20, rng=1)
        self.observed = np.where(self.mask, self.M, np.nan)
        # single-output field
        self.a = np.array([1.0, -0.5])
        self.field = lambda P: L.single_output_field(P, np.broadcast_to(self.a, np.shape(P)), 3)
        self.points = np.array([[1.0, 0.5], [-0.5, 1.0], [0.3, -0.7]])
        # sympy
        self.w = sp.symbols("w1 w2", real=True)
        w1, w2 = self.w
        self.sym_loss = w1**2 + 3 * w2**2 + w1 * w2 + w1
        self.sym_field = L.symbolic_single_output_field(self.sym_loss, self.w, 3)
        self.nc = L.noncommutative_layers(2)
        self.mweights, self.mG, self.mgrads = L.symbolic_layer_gradients(2)
        self.U = sp.Matrix([[sp.Rational(3, 5), sp.Rational(-4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
        self.S = sp.Matrix([[0, sp.Rational(1, 2)], [sp.Rational(-1, 2), 0]])
        self.sym_layers = L.exact_balanced_layers(self.U, [4, 1], sp.eye(2), 2)
        self.sym_G = sp.Matrix([[1, 2], [0, -1]])
        self.sym_W = L.exact_end_to_end(self.sym_layers)
        self.explicit = L.explicit_layers([2, 2])
        # records of the experiments (tiny)
        self.records = L.completion_table(counts=(30,), methods=("nuclear", 2), seeds=(0,), n=8, rank=1, max_steps=30)
        self.sweep = L.init_scale_sweep(
            count=30, depths=(2,), init_scales=(1e-2, 1e-3), seeds=(0,), n=8, rank=1, max_steps=30, strict=False
        )
        self.experiment = L.convergence_experiment(
            self.Phi, depths=(2,), stds=[0.1, 0.3], lrs=[0.05, 0.1], cap=50, width=3, rng=0
        )
        self.grid = L.compare_methods(self.X, self.y, 2, [0.01, 0.05], 10, 1e-3, methods=("gd", "depth2"))
        # a gas sensor fixture: batch1.dat with two lines
        feats = " ".join(f"{j + 1}:{0.5 * j + 1:.3f}" for j in range(L.GAS_SENSOR_FEATURES))
        self.gas_lines = [f"1;10.000 {feats}", f"2;50.000 {feats}"]
        self.gas_dir = tmp / "gas"
        self.gas_dir.mkdir(parents=True, exist_ok=True)
        (self.gas_dir / "batch1.dat").write_text("\n".join(self.gas_lines) + "\n")


# valid value of a parameter, by name: a function of the world (module- and function-specific ones below)
VALID = {
    "W": lambda w: w.W,
    "W0": lambda w: w.W,
    "grad": lambda w: w.G,
    "G": lambda w: w.G,
    "M": lambda w: w.W @ w.W.T,
    "Phi": lambda w: w.Phi,
    "target": lambda w: w.Phi,
    "weights": lambda w: w.weights,
    "loss": lambda w: w.loss,
    "X": lambda w: w.X,
    "Y": lambda w: w.y,
    "y": lambda w: w.y,
    "x": lambda w: w.x,
    "lr": lambda w: 0.05,
    "steps": lambda w: 5,
    "depth": lambda w: 2,
    "dims": lambda w: [3, 3, 3],
    "std": lambda w: 0.5,
    "p": lambda w: 2.0,
    "c": lambda w: 0.5,
    "phi_norm": lambda w: 2.0,
    "loss0": lambda w: 1.0,
    "factor": lambda w: 2.0,
    "dim": lambda w: 3,
    "lam": lambda w: -1.0,
    "lrs": lambda w: [0.05, 0.1],
    "cap": lambda w: 50,
    "accumulator": lambda w: np.zeros((3, 3)),
    "state": lambda w: (np.zeros((3, 3)), np.zeros((3, 3))),
    "t_end": lambda w: 0.5,
    "init_scale": lambda w: 0.1,
    "alpha": lambda w: 1.0,
    "field": lambda w: w.field,
    "points": lambda w: w.points,
    "radius": lambda w: 0.5,
    "a": lambda w: w.a,
    "ax": lambda w: Figure().subplots(),
    "records": lambda w: w.records,
    "observed": lambda w: w.observed,
    "mask": lambda w: w.mask,
    "n": lambda w: 6,
    "rank": lambda w: 2,
    "count": lambda w: 10,
    "shape": lambda w: (6, 6),
    "coef": lambda w: np.array([0.5, -1.0, 0.25, 0.1]),
    "degree": lambda w: 3,
    "degrees": lambda w: [0, 1, 2],
    "x_train": lambda w: w.x,
    "y_train": lambda w: w.yx,
    "x_test": lambda w: w.x + 0.05,
    "y_test": lambda w: np.sin(3 * (w.x + 0.05)),
    "w0": lambda w: np.zeros(3),
    "y1": lambda w: 10.0,
    "y2": lambda w: 1.0,
    "size": lambda w: 1e-3,
    "method": lambda w: "gd",
    "results": lambda w: w.grid,
    "result": lambda w: w.experiment,
    "s": lambda w: np.array([0.5, 2.0]),
    "s1": lambda w: np.array([1.5, 2.0]),
    "s1_0": lambda w: 1.0,
    "s2_0": lambda w: 0.5,
    "kappa": lambda w: 0.5,
    "measurements": lambda w: np.stack([np.diag([1.0, 0.0, 0.0]), np.diag([0.0, 1.0, 1.0])]),
    "lines": lambda w: w.gas_lines,
    "source": lambda w: w.gas_dir,
    "init_scales": lambda w: [1e-2, 1e-3],
    "errors": lambda w: np.array([[1e-2, 2e-2]]),
    "depths": lambda w: [2],
    "singular_values": lambda w: np.array([[3.0, 1.0, 0.1], [3.0, 1.0, 0.01]]),
    "matrices": lambda w: {"W": w.W},
    "label": lambda w: "check",
    "error": lambda w: 1e-12,
    "tol": lambda w: 1e-10,
    "holds": lambda w: True,
    "values": lambda w: np.array([1.0, 0.1, 1e-5]),
    "name": lambda w: "depth",
    "resolution": lambda w: 0.5,
    "eps": lambda w: 1e-3,
}

# valid values that differ by module (the same name means another object there)
MODULE_VALID = {
    "symbolic": {
        "depth": lambda w: 3,
        "w": lambda w: w.w,
        "loss": lambda w: w.sym_loss,
        "field": lambda w: w.sym_field,
        "curl": lambda w: L.symbolic_curl(w.sym_field, w.w),
        "potential": lambda w: w.sym_loss,
        "alpha": lambda w: sp.pi / 2,
        "nc": lambda w: w.nc,
        "expr": lambda w: w.nc.G * w.nc.T[0] + w.nc.W[1] * w.nc.T[1],
        "weights": lambda w: w.mweights,
        "grads": lambda w: w.mgrads,
        "G": lambda w: w.sym_G,
        "j": lambda w: 1,
        "dims": lambda w: [2, 2],
        "S": lambda w: w.S,
        "M": lambda w: sp.Matrix([[5, 0], [0, 8]]),
        "p": lambda w: sp.Rational(1, 3),
        "U": lambda w: w.U,
        "V": lambda w: sp.eye(2),
        "singular_values": lambda w: [4, 1],
        "layers": lambda w: w.sym_layers,
        "W": lambda w: w.sym_W,
        "n": lambda w: 2,
        "blocks": lambda w: {(w.nc.W[1], w.nc.T[1]): sp.Symbol("A", commutative=False)},
    },
    "fields": {
        "w": lambda w: np.array([0.6, 0.8]),
        "grad": lambda w: np.array([1.0, -0.5]),
        "depth": lambda w: 3,
    },
    "acceleration": {
        "w": lambda w: np.array([0.6, 0.8, 0.1]),
        "g": lambda w: np.array([1.0, -0.5, 0.2]),
        "target": lambda w: 1e-3,
        "p": lambda w: 4.0,
    },
    "completion": {
        "W": lambda w: w.M + 0.1,
        "target": lambda w: w.M,
    },
    "widgets": {
        "target": lambda w: w.M,
        "init_scale": lambda w: 1e-2,
        "loss": lambda w: L.LpRegressionLoss(w.X, w.y, 4),
    },
    "sensing": {
        "a": lambda w: np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 1.0]]),
        "y": lambda w: np.array([1.0, 0.5]),
        "alpha": lambda w: 0.1,
        "lr": lambda w: 0.05,
    },
    "convergence": {"W": lambda w: w.Phi + 0.1 * w.G},
    "data": {"y": lambda w: w.y},
    "notebook": {"x": lambda w: 0.5, "tol": lambda w: 1e-10},
    "intro": {"w": lambda w: np.array([0.5, -0.2, 0.1])},
}

# arguments of a valid, fast call that differ from the defaults (the defaults of the experiments are
# full-size runs)
CALL_VALID = {
    "convergence_experiment": {
        "Phi": lambda w: w.Phi,
        "depths": lambda w: (2,),
        "stds": lambda w: [0.1],
        "lrs": lambda w: [0.05, 0.1],
        "cap": lambda w: 50,
        "width": lambda w: 3,
        "rng": lambda w: 0,
    },
    "plot_convergence_experiment": {"depth": lambda w: 2},
    "completion_table": {
        "counts": lambda w: (30,),
        "methods": lambda w: ("nuclear", 2),
        "seeds": lambda w: (0,),
        "n": lambda w: 8,
        "rank": lambda w: 1,
        "max_steps": lambda w: 30,
    },
    "init_scale_sweep": {
        "count": lambda w: 30,
        "depths": lambda w: (2,),
        "init_scales": lambda w: (1e-2,),
        "seeds": lambda w: (0,),
        "n": lambda w: 8,
        "rank": lambda w: 1,
        "max_steps": lambda w: 30,
        "strict": lambda w: False,
    },
    "summarize_completion_table": {"records": lambda w: w.records},
    "error_vs_init_scale": {"records": lambda w: w.sweep},
    "complete_matrix": {"depth": lambda w: 2, "rng": lambda w: 0, "lr": lambda w: 0.5, "max_steps": lambda w: 50},
    "nuclear_norm_minimization": {"tol": lambda w: 1e-4, "max_iterations": lambda w: 200},
    "completion_trajectory": {"max_steps": lambda w: 30, "rng": lambda w: 0},
    "low_rank_matrix": {"rng": lambda w: 0},
    "sample_mask": {"rng": lambda w: 0},
    "completion_problem": {"count": lambda w: 10, "rng": lambda w: 0},
    "diagonal_sensing_descent": {"max_steps": lambda w: 200},
    "lr_grid": {"steps": lambda w: 20},
    "lr_search": {"steps": lambda w: 20, "lrs": lambda w: [0.01, 0.05, 0.1], "max_rounds": lambda w: 3},
    "compare_methods": {"steps": lambda w: 10, "methods": lambda w: ("gd", "depth2"), "p": lambda w: 2.0},
    "small_start": {"p": lambda w: 2.0},
    "LpRegressionLoss": {"p": lambda w: 2.0},
    "two_example_problem": {"p": lambda w: 4.0},
    "balanced_factorization": {"W": lambda w: w.W},
    "unbalanced_init": {"W": lambda w: w.W},
    "batched_gd_iterations": {"tol": lambda w: 1e-3},
    "psd_power": {"p": lambda w: 0.5},
    "schatten_quasi_norm": {"p": lambda w: 0.5},
    "hessian_at_zero": {"depth": lambda w: 3, "dim": lambda w: 1},
    "least_squares_gd_limit": {"w0": lambda w: np.zeros(3)},
    "polynomial_fit": {"x": lambda w: w.x, "y": lambda w: w.yx},
    "polynomial_predict": {"x": lambda w: w.x},
    "loglog_slope": {"x": lambda w: np.array([1.0, 2.0, 4.0]), "y": lambda w: np.array([1.0, 4.0, 16.0])},
    "diagonal_network_gd": {"init_scale": lambda w: 0.1, "lr": lambda w: 0.05, "steps": lambda w: 20},
    "gradient_descent": {"steps": lambda w: 5},
    "gd_flow_deviation": {"lr": lambda w: 0.1},
    "matrix_completion_demo": {"n": lambda w: 6, "rank": lambda w: 1, "max_steps": lambda w: 30},
    "balancedness_demo": {"width": lambda w: 2, "steps": lambda w: 20},
    "acceleration_demo": {"X": lambda w: w.X, "y": lambda w: w.y, "steps": lambda w: 20},
    "load_gas_sensor_drift": {"batches": lambda w: [1]},
    "rational_orthogonal": {"rng": lambda w: 0},
    "negative_eigenvalue_target": {"rng": lambda w: 0},
    "gaussian_init": {"rng": lambda w: 0},
    "near_zero_init": {"rng": lambda w: 0},
    "balanced_init": {"rng": lambda w: 0},
    "plot_best_curves": {"target": lambda w: 1e-3},
    "plot_preconditioner_action": {"depth": lambda w: 3},
    "linear_loss_loop_integral": {"depth": lambda w: 3},
    "fmt": {"x": lambda w: 0.5},
    "margin_probability": {"Phi": lambda w: np.array([[1.0, 0.5, 0.2]])},
    "lp_minimum": {"loss": lambda w: L.LpRegressionLoss(w.X, w.y, 4)},
    "minimum_l1_interpolant": {
        "X": lambda w: np.array([[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 1.0, -1.0]]),
        "y": lambda w: np.array([1.0, 2.0]),
    },
    "gradient_matrix": {"expr": lambda w: sum(x**2 for x in w.explicit[0]), "M": lambda w: w.explicit[0]},
    "matrix_to_noncommutative": {
        "expr": lambda w: w.mgrads[0],
        "weights": lambda w: w.mweights,
        "G": lambda w: w.mG,
    },
    "layerwise_end_to_end_velocity": {"weights": lambda w: w.weights, "grad": lambda w: w.G},
    "plot_singular_values": {"steps": lambda w: np.array([0, 10])},
    "initial_weights": {"init": lambda w: "identity", "scale": lambda w: 0.1, "depth": lambda w: 2},
}

# keyword arguments passed through ``**kwargs`` in the valid call (walked where they are declared)
CALL_KWARGS = {
    "completion_table": {"max_steps": 30},
    "init_scale_sweep": {"max_steps": 30, "strict": False},
}

# ---------------------------------------------------------------------------------------------------
# Kinds of parameters, by name; per-module and per-function exceptions below


KIND = {
    # arrays
    "W": "matrix",
    "W0": "matrix",
    "grad": "matrix",
    "G": "matrix",
    "M": "matrix",
    "Phi": "matrix",
    "target": "matrix",
    "X": "matrix",
    "accumulator": "matrix",
    "observed": "observed",
    "mask": "mask",
    "measurements": "stack",
    "Y": "vector_or_matrix",
    "y": "vector",
    "x": "vector",
    "coef": "vector",
    "x_train": "vector",
    "y_train": "vector",
    "x_test": "vector",
    "y_test": "vector",
    "w0": "vector_or_none",
    "s": "positive_array",
    "s1": "positive_array",
    "a": "vector",
    "g": "vector",
    "w": "vector",
    "points": "points",
    "centre": "vector",
    "times": "vector_or_none",
    "values": "vector",
    "errors": "matrix",
    "singular_values": "matrix",
    "lrs": "positive_list",
    "stds": "positive_list",
    "init_scales": "positive_list",
    "weights": "weights",
    "state": "state",
    # integers
    "depth": "depth",
    "dim": "count",
    "n": "count",
    "rank": "count",
    "count": "count",
    "width": "count",
    "nodes": "count",
    "max_iterations": "count",
    "max_rounds": "count",
    "max_entry": "count",
    "iterations": "count",
    "shown": "count",
    "top": "count",
    "digits": "count",
    "steps": "steps",
    "max_steps": "steps",
    "cap": "steps",
    "record_every": "count_or_none",
    "threads": "count_or_none",
    "degree": "steps",
    "highlight": "count_or_none",
    "j": "count",
    "dims": "dims",
    "shape": "dims",
    "depths": "count_list",
    "degrees": "count_list",
    "counts": "count_list",
    "seeds": "seed_list",
    # reals
    "lr": "positive",
    "eps": "positive_or_none",
    "tol": "positive_or_none",
    "rtol": "positive_or_none",
    "atol": "positive",
    "h": "positive",
    "alpha": "positive",
    "init_scale": "positive",
    "scale": "positive",
    "std": "positive",
    "factor": "positive",
    "radius": "positive",
    "extent": "positive",
    "t_end": "positive",
    "size": "positive",
    "c": "positive",
    "phi_norm": "positive",
    "r_inner": "positive",
    "r_outer": "positive",
    "s1_0": "positive",
    "s2_0": "positive",
    "p": "positive",
    "blowup": "positive",
    "resolution": "positive",
    "momentum_below": "positive",
    "zero_below": "positive_or_none",
    "vmax": "positive_or_none",
    "box": "nonnegative",
    "loss0": "nonnegative",
    "error": "nonnegative",
    "rho": "unit_open_or_none",
    "momentum": "unit_halfopen",
    "lam": "negative",
    "kappa": "real",
    "y1": "real",
    "y2": "real",
    "optimum": "real",
    "omega0": "omega0",
    # randomness
    "rng": "rng",
    "seed": "seed",
    # choices
    "method": "choice",
    "init": "choice",
    "features": "choice",
    "direction": "choice",
    "dtype": "dtype",
    "methods": "choice_list",
    "inits": "choice_list",
    "gas": "gas",
    "batches": "batches",
    "name": "control_name",
    # objects
    "loss": "loss",
    "field": "field",
    "progress": "callable_or_none",
    "ax": "ax",
    "records": "records",
    "results": "results",
    "result": "experiment",
    "matrices": "matrices",
    "lines": "lines",
    "source": "source",
    "record": "record",
    "loop": "loop",
    # flags
    "strict": "flag",
    "keep_matrices": "flag",
    "legs": "flag",
    "logy": "flag",
    "show": "flag",
    "holds": "flag",
    "legend": "flag",
    "flow": "flag",
    # free text: nothing to refuse
    "label": "any",
    "title": "any",
    "descent_options": "any",
    "kwargs": "any",
    "changed": "any",
}

MODULE_KIND = {
    "symbolic": {
        "depth": "sym_depth",
        "w": "sym_pair",
        "loss": "sym_expr",
        "potential": "sym_expr",
        "curl": "sym_expr",
        "field": "sym_field",
        "alpha": "sym_positive",
        "r_inner": "sym_positive",
        "r_outer": "sym_positive",
        "nc": "nc",
        "expr": "nc_expr",
        "weights": "sym_list",
        "grads": "sym_list",
        "G": "sym_matrix",
        "S": "sym_matrix",
        "M": "sym_matrix",
        "U": "sym_matrix",
        "V": "sym_matrix",
        "W": "sym_matrix",
        "p": "sym_rational",
        "singular_values": "sym_values",
        "layers": "sym_list",
        "blocks": "blocks",
        "dims": "dims",
        "hidden": "sym_frames",
        "V1": "sym_matrix_or_none",
    },
    "fields": {"w": "points", "grad": "points", "a": "vector"},
    "notebook": {"x": "number", "tol": "positive"},
    "widgets": {"target": "matrix", "loss": "lp_loss", "values": "vector"},
    "acceleration": {"target": "real", "w": "vector"},
    "completion": {"target": "matrix", "shape": "dims"},
}

CALL_KIND = {
    ("psd_power", "p"): "nonnegative",
    ("plot_best_curves", "target"): "real_or_none",
    ("error_vs_init_scale", "records"): "sweep_records",
    ("plot_error_vs_init_scale", "depths"): "count_list",
    ("polynomial_errors", "degrees"): "count_list",
    ("hessian_at_zero", "dim"): "count",
    ("lp_minimum", "iterations"): "count",
    ("lp_minimum", "loss"): "lp_loss",
    ("balancedness_velocity", "weights"): "sym_list",
    ("matrix_to_noncommutative", "expr"): "sym_expr_matrix",
    ("matrix_to_noncommutative", "weights"): "sym_list",
    ("matrix_to_noncommutative", "G"): "any_sym",
    ("gradient_matrix", "expr"): "sym_expr",
    ("gradient_matrix", "M"): "symbol_matrix",
    ("plot_convergence_experiment", "depth"): "depth",
    ("plot_singular_values", "steps"): "vector",
    ("layerwise_end_to_end_velocity", "grad"): "matrix",
    ("nuclear_norm_minimization", "rho"): "positive_or_none",
    ("verdict", "error"): "error_value",
    ("completion_trajectory", "tol"): "nonnegative",
    ("initial_weights", "init"): "choice",
    ("LpRegressionLoss", "p"): "positive",
    ("load_gas_sensor_drift", "source"): "source",
    ("lr_search", "points"): "count",
    ("lr_search", "start"): "grid_result_or_none",
    ("parse_gas_sensor_lines", "source"): "any",
}

# callables not walked, and why
EXEMPT = {
    "Loss": "abstract base class: no arguments; its subclasses are walked",
    "Demo": "abstract base of the demos: the four demo builders and their .set/.sweep are walked",
    "NotConvergedError": "an exception class",
}
# breaches in files this test's author may not change, reported to their owners; strict xfail: when fixed,
# the test fails until the entry is removed
KNOWN_ELSEWHERE: dict[str, str] = {}
SIDE_EFFECTS = {"setup_notebook"}  # the valid call changes global settings: only the bad calls are made
ALLOWS_NAN_RESULT = {"one_entry_partner"}  # documented: NaN where the relation has no positive solution
NAN_FIELDS = {"best_lr", "curve"}  # result fields that are NaN by definition when nothing was reached


def is_record(obj) -> bool:
    """Result containers (dataclasses): they hold what a computation produced; not walked."""
    return inspect.isclass(obj) and dataclasses.is_dataclass(obj)


def kind_of(func_name: str, module: str, param: str) -> str | None:
    if (func_name, param) in CALL_KIND:
        return CALL_KIND[(func_name, param)]
    if param in MODULE_KIND.get(module, {}):
        return MODULE_KIND[module][param]
    return KIND.get(param)


def valid_value(world: World, func_name: str, module: str, param: inspect.Parameter):
    """The valid value of ``param``: per function, per module, by name, or its default."""
    for table in (CALL_VALID.get(func_name, {}), MODULE_VALID.get(module, {})):
        if param.name in table:
            return table[param.name](world)
    if param.default is not inspect.Parameter.empty:
        return param.default
    if param.name in VALID:
        return VALID[param.name](world)
    raise LookupError(f"no valid value known for parameter {param.name!r} of {func_name}: add one to VALID")


# ---------------------------------------------------------------------------------------------------
# Bad values of each kind: (label, value, must_refuse). must_refuse=False marks extreme but allowed
# values: the call may succeed, but then its result must be finite.


def _with(v, value, where=None):
    a = np.array(v, dtype=float)
    a[where if where is not None else (0,) * a.ndim] = value
    return a


def _scaled(v, s):
    a = np.asarray(v, dtype=float)
    top = float(np.abs(a).max()) or 1.0
    return a / top * s


class Nonsense:
    """An object of no expected type."""

    def __repr__(self):
        return "<Nonsense>"


def array_probes(v, kind, base):
    v = np.asarray(v, dtype=float)
    out = [
        ("NaN entry", _with(v, np.nan), True),
        ("inf entry", _with(v, np.inf), True),
        ("complex", v + 1j, True),
        ("string", "abc", True),
        ("ragged", [[1.0, 2.0], [3.0]], True),
        ("object", Nonsense(), True),
        ("1e308 scale", _scaled(v, 1e308), False),
        ("1e-308 scale", _scaled(v, 1e-308), False),
        ("every entry 1e308", np.full(v.shape, 1e308), False),
    ]
    if kind in ("matrix", "observed", "vector_or_matrix"):
        out += [("3-D", v[None], True), ("empty", np.zeros((0, 0)), True)]
    if kind == "matrix":
        out += [("vector", v.ravel(), True), ("scalar", 1.5, True)]
    if kind in ("vector", "vector_or_none"):
        out += [("2-D", np.atleast_1d(v)[None, :][[0, 0]], True), ("empty", np.zeros(0), True)]
    if kind == "points":
        out += [("scalar", 1.5, True), ("empty", np.zeros((0,)), True)]
    if kind == "stack":
        out += [("4-D", v[None], True), ("vector", v.ravel(), True)]
    if kind == "positive_array":
        out += [("negative entry", -np.abs(v), True), ("zero entry", _with(v, 0.0), True)]
    if kind == "observed":  # NaN off the mask is allowed; on it, not
        mask = base["mask"]
        where = tuple(np.argwhere(mask)[0])
        out[0] = ("NaN observed entry", _with(v, np.nan, where), True)
        out[1] = ("inf observed entry", _with(v, np.inf, where), True)
        out[6] = ("1e308 scale", _scaled(np.nan_to_num(v), 1e308), False)
        out[7] = ("1e-308 scale", _scaled(np.nan_to_num(v), 1e-308), False)
        out[2] = ("complex", np.nan_to_num(v) + 1j, True)
    return out


def integer_probes(valid, low, optional=False):
    out = [
        ("negative", -1, True),
        ("non-integer", 2.5, True),
        ("whole float", float(valid) if valid is not None else 3.0, True),
        ("bool", True, True),
        ("1e308", 1e308, True),
        ("10**12", 10**12, True),
        ("10**400", 10**400, True),
        ("string", "3", True),
        ("NaN", float("nan"), True),
        ("complex", 2 + 1j, True),
        ("array", np.array([2, 3]), True),
    ]
    if low >= 1:
        out.append(("zero", 0, True))
    if not optional:
        out.append(("None", None, True))
    return out


def real_probes(low=None, high=None, *, low_open=True, high_open=True, optional=False, extreme=True):
    out = [
        ("NaN", float("nan"), True),
        ("inf", float("inf"), True),
        ("-inf", float("-inf"), True),
        ("string", "0.1", True),
        ("bool", True, True),
        ("complex", 0.1 + 1j, True),
        ("array", np.array([0.1, 0.2, 0.3]), True),
        ("object", Nonsense(), True),
    ]
    if not optional:
        out.append(("None", None, True))
    if low is not None:
        out.append(("below range", low - 1.0, True))
        if low_open:
            out.append(("at the open end", low, True))
    if high is not None:
        out.append(("above range", high + 0.5, True))
        if high_open:
            out.append(("at the open end", high, True))
    if extreme and low == 0 and high is None:
        out += [("1e308", 1e308, False), ("1e-308", 1e-308, False)]
    return out


def _typo(choice):
    return str(choice) + "x" if choice is not None else "nonsense"


def probes(kind, valid, base, world):
    """The bad values for a parameter of ``kind`` whose valid value is ``valid``."""
    if kind in (
        "matrix",
        "vector",
        "vector_or_matrix",
        "positive_array",
        "points",
        "stack",
        "observed",
        "vector_or_none",
    ):
        if valid is None:
            valid = np.array([0.1, 0.2, 0.3]) if kind == "vector_or_none" else valid
        out = array_probes(valid, kind, base)
        if kind != "vector_or_none":
            out.append(("None", None, True))
        return out
    if kind == "mask":
        v = np.asarray(valid)
        return [
            ("fractional", v * 0.5, True),
            ("observes nothing", np.zeros_like(v), True),
            ("wrong shape", v[:-1], True),
            ("3-D", v[None], True),
            ("string", "mask", True),
            ("complex", v + 1j, True),
            ("None", None, True),
        ]
    if kind == "weights":
        W = [np.asarray(x) for x in valid]
        return [
            ("NaN in a layer", [_with(W[0], np.nan)] + W[1:], True),
            ("inf in a layer", [_with(W[0], np.inf)] + W[1:], True),
            ("complex layer", [W[0] + 1j] + W[1:], True),
            ("layers do not chain", [W[0], W[1][:-1, :-1]], True),
            ("empty list", [], True),
            ("single matrix", W[0], True),
            ("string", "weights", True),
            ("3-D layer", [W[0][None]] + W[1:], True),
            ("non-array layer", [W[0], "x"], True),
            ("None", None, True),
            ("1e308 scale", [_scaled(x, 1e308) for x in W], False),
            ("1e-308 scale", [_scaled(x, 1e-308) for x in W], False),
        ]
    if kind == "state":
        Z = np.asarray(valid[0])
        return [
            ("NaN", (_with(Z, np.nan), Z), True),
            ("negative running average", (Z - 1.0, Z), True),
            ("one array", Z, True),
            ("wrong shape", (Z[:-1], Z), True),
            ("string", "state", True),
            ("complex", (Z + 1j, Z), True),
        ]
    if kind == "depth":
        return integer_probes(valid, 1) + [("10**6 layers", 10**6, True)]
    if kind == "count":
        return integer_probes(valid, 1)
    if kind == "steps":
        return integer_probes(valid, 0)
    if kind == "count_or_none":
        return integer_probes(valid, 1, optional=True)
    if kind == "dims":
        d = list(valid)
        return [
            ("zero width", [0] + d[1:], True),
            ("one entry", d[:1], True),
            ("fractional width", [2.5] + d[1:], True),
            ("negative width", [-1] + d[1:], True),
            ("bool width", [True] + d[1:], True),
            ("huge widths", [10**7] * len(d), True),
            ("string", "33", True),
            ("NaN width", [float("nan")] + d[1:], True),
            ("None", None, True),
        ]
    if kind in ("count_list", "seed_list"):
        v = list(valid)
        out = [
            ("negative entry", [-1] + v[1:], True),
            ("fractional entry", [2.5] + v[1:], True),
            ("bool entry", [True] + v[1:], True),
            ("string", "23", True),
            ("None", None, True),
        ]
        if kind == "count_list":  # seeds have no upper bound
            out += [("empty", [], True), ("huge entry", [10**12] + v[1:], True)]
        return out
    if kind == "positive_list":
        v = list(valid)
        return [
            ("NaN entry", [float("nan")] + v[1:], True),
            ("negative entry", [-0.1] + v[1:], True),
            ("zero entry", [0.0] + v[1:], True),
            ("inf entry", [float("inf")] + v[1:], True),
            ("complex entry", [0.1 + 1j] + v[1:], True),
            ("empty", [], True),
            ("string", "0.1", True),
            ("None", None, True),
        ]
    if kind == "positive":
        return real_probes(0.0)
    if kind == "positive_or_none":
        return real_probes(0.0, optional=True)
    if kind == "nonnegative":
        return real_probes(0.0, low_open=False)
    if kind == "negative":
        return real_probes(None, 0.0)
    if kind == "real":
        return real_probes()
    if kind == "real_or_none":
        return real_probes(optional=True)
    if kind == "error_value":  # a measured error: >= 0, inf allowed (it prints FAIL)
        return [("NaN", float("nan"), True), ("negative", -1.0, True), ("string", "0", True), ("None", None, True)]
    if kind == "number":  # printed as given: only non-numbers are refused
        return [("string", "0.1", True), ("complex", 0.1 + 1j, True), ("None", None, True), ("array", np.ones(2), True)]
    if kind == "unit_open_or_none":
        return real_probes(0.0, 1.0, optional=valid is None, extreme=False)
    if kind == "unit_halfopen":
        return real_probes(0.0, 1.0, low_open=False, extreme=False)
    if kind == "omega0":
        return real_probes(0.0) + [("unknown word", "balance", True)]
    if kind == "rng":
        return [
            ("negative seed", -1, True),
            ("string", "seed", True),
            ("fractional seed", 2.5, True),
            ("bool", True, True),
            ("1e308", 1e308, True),
            ("legacy RandomState", np.random.RandomState(0), True),
            ("object", Nonsense(), True),
        ]
    if kind == "seed":
        return [
            ("None", None, True),
            ("negative", -1, True),
            ("string", "seed", True),
            ("fractional", 2.5, True),
            ("bool", True, True),
            ("1e308", 1e308, True),
        ]
    if kind == "choice":
        return [("typo", _typo(valid), True), ("None", None, True), ("number", 3, True), ("list", [valid], True)]
    if kind == "choice_list":
        v = list(valid)
        return [
            ("typo", [_typo(v[0])] + v[1:], True),
            ("one string", str(v[0]), True),
            ("empty", [], True),
            ("fractional depth", [2.5], True),
            ("None", None, True),
        ]
    if kind == "dtype":
        return [
            ("int", np.int64, True),
            ("complex", np.complex128, True),
            ("typo", "float33", True),
            ("None", None, True),
        ]
    if kind == "gas":
        return [
            ("zero", 0, True),
            ("7", 7, True),
            ("fractional", 1.5, True),
            ("bool", True, True),
            ("string", "1", True),
        ]
    if kind == "batches":
        return [
            ("one string", "12", True),
            ("fractional", [2.5], True),
            ("zero", [0], True),
            ("11", [11], True),
            ("bool", [True], True),
            ("empty", [], True),
            ("None", None, True),
            ("duplicate", [1, 1], True),
        ]
    if kind == "control_name":
        return [("unknown control", "nonsense", True), ("None", None, True), ("number", 3, True)]
    if kind == "loss":
        return [
            ("string", "l2", True),
            ("None", None, True),
            ("wrong shape", L.L2Loss(np.eye(2)), True),
            ("object", Nonsense(), True),
        ]
    if kind == "lp_loss":
        return [("l2 loss", L.L2Loss(np.eye(2)), True), ("None", None, True), ("string", "l4", True)]
    if kind == "field":
        return [
            ("not callable", 3, True),
            ("returns a scalar", lambda P: 1.0, True),
            ("returns 3 components", lambda P: np.zeros(np.shape(P)[:-1] + (3,)), True),
            ("returns NaN", lambda P: np.full(np.shape(P), np.nan), True),
            ("returns complex", lambda P: np.asarray(P) + 1j, True),
            ("returns a string", lambda P: "field", True),
            ("returns one point", lambda P: np.ones(2), True),
            ("returns None", lambda P: None, True),
        ]
    if kind == "callable_or_none":
        return [("not callable", 3, True), ("string", "bar", True)]
    if kind == "ax":
        return [("None", None, True), ("string", "ax", True), ("object", Nonsense(), True)]
    if kind == "records":
        r = dict(valid[0])
        return [
            ("empty record", [{}], True),
            ("record missing keys", [{"count": 30}], True),
            ("string", "records", True),
            ("None", None, True),
            ("numbers", [1, 2], True),
            ("empty list", [], True),
            ("NaN error", [dict(r, error=float("nan"))], True),
        ]
    if kind == "sweep_records":
        r = dict(valid[0])
        return [
            ("empty record", [{}], True),
            ("string", "records", True),
            ("None", None, True),
            ("numbers", [1, 2], True),
            ("empty list", [], True),
            ("NaN error", [dict(r, error=float("nan"))], True),
        ]
    if kind == "results":
        return [("empty", {}, True), ("string", "results", True), ("None", None, True), ("numbers", {"gd": 1}, True)]
    if kind == "grid_result_or_none":
        return [("string", "start", True), ("dict", {}, True), ("another method's result", world.grid["depth2"], True)]
    if kind == "experiment":
        return [("None", None, True), ("string", "result", True), ("dict", {}, True)]
    if kind == "matrices":
        return [
            ("NaN matrix", {"W": _with(world.W, np.nan)}, True),
            ("complex matrix", {"W": world.W + 1j}, True),
            ("string", "W", True),
            ("None", None, True),
            ("vector", {"W": np.ones(3)}, True),
        ]
    if kind == "lines":
        bad = valid[0].replace("1:", "2:", 1)
        return [
            ("one string", "\n".join(valid), True),
            ("duplicated feature", [bad], True),
            ("None", None, True),
            ("numbers", [1, 2], True),
        ]
    if kind == "source":
        folder = world.gas_dir.parent
        truncated = folder / "truncated.tar.gz"
        if not truncated.exists():
            import tarfile

            whole = folder / "whole.tar.gz"
            with tarfile.open(whole, "w:gz") as t:
                t.add(world.gas_dir / "batch1.dat", arcname="batch1.dat")
            data = whole.read_bytes()
            truncated.write_bytes(data[: len(data) // 2])
            broken_zip = folder / "broken.zip"
            broken_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
        return [
            ("None", None, True),
            ("number", 3, True),
            ("truncated tar.gz", truncated, True),
            ("broken zip", folder / "broken.zip", True),
            ("a file that is no archive", world.gas_dir / "batch1.dat", True),
            ("missing path", folder / "no such folder", True),
        ]
    if kind == "record":
        return [("zero", 0, True), ("negative step", [-1], True), ("fractional", 2.5, True), ("string", "10", True)]
    if kind == "loop":
        return [
            ("string", "loop", True),
            ("bad radii", (1.0, 2.0, 1.0), True),
            ("NaN angle", (float("nan"), 1, 2), True),
        ]
    if kind == "flag":
        return [("string", "no", True), ("number 2", 2, True), ("None", None, True)]
    # symbolic
    if kind == "sym_depth":
        return [
            ("zero", 0, True),
            ("negative", -1, True),
            ("fractional", 2.5, True),
            ("bool", True, True),
            ("1e308", 1e308, True),
            ("10**6", 10**6, True),
            ("symbol not known positive", sp.Symbol("N"), True),
            ("string", "3", True),
            ("None", None, True),
            ("NaN", sp.nan, True),
        ]
    if kind == "sym_pair":
        w1, w2 = valid
        return [
            ("one symbol", (w1,), True),
            ("three symbols", (w1, w2, sp.Symbol("w3")), True),
            ("numbers", (1, 2), True),
            ("string", "w1 w2", True),
            ("None", None, True),
            ("same symbol twice", (w1, w1), True),
        ]
    if kind == "sym_expr":
        return [("string", "w1**2", True), ("None", None, True), ("NaN", sp.nan, True), ("array", np.ones(2), True)]
    if kind == "sym_expr_matrix":
        return [("string", "W1", True), ("None", None, True), ("number", 3.5, True)]
    if kind == "sym_field":
        a, b = valid
        return [
            ("one component", (a,), True),
            ("three components", (a, b, a), True),
            ("string", "F", True),
            ("None", None, True),
            ("NaN component", (sp.nan, b), True),
        ]
    if kind == "sym_positive":
        return [
            ("zero", 0, True),
            ("negative", -1, True),
            ("NaN", float("nan"), True),
            ("infinite", sp.oo, True),
            ("string", "1", True),
            ("bool", True, True),
            ("complex", sp.I, True),
            ("None", None, True),
        ]
    if kind == "nc":
        return [("None", None, True), ("string", "nc", True), ("number", 3, True)]
    if kind == "nc_expr":
        return [("string", "G*W_1", True), ("None", None, True), ("matrix", np.ones((2, 2)), True)]
    if kind == "sym_list":
        return [("string", "layers", True), ("None", None, True), ("empty", [], True), ("numbers", [1, 2], True)]
    if kind == "sym_frames":
        return [("string", "frames", True), ("numbers", [1, 2], True), ("float frame", [sp.eye(2) * 0.5], True)]
    if kind == "any_sym":
        return [("string", "G", True), ("None", None, True)]
    if kind == "sym_matrix":
        A = sp.Matrix(valid)
        return [
            ("float entries", A * 0.5, True),
            ("NaN entry", A + sp.Matrix(A.rows, A.cols, [sp.nan] + [0] * (A.rows * A.cols - 1)), True),
            ("complex entry", A + sp.Matrix(A.rows, A.cols, [sp.I] + [0] * (A.rows * A.cols - 1)), True),
            ("string", "M", True),
            ("None", None, True),
            ("not square", A[:, :1], True),
        ]
    if kind == "sym_matrix_or_none":
        return [x for x in probes("sym_matrix", sp.eye(2), base, world) if x[1] is not None]
    if kind == "symbol_matrix":  # a matrix of distinct symbols, any shape
        a = sp.Symbol("a")
        return [
            ("numbers", sp.Matrix([[1, 2]]), True),
            ("repeated symbol", sp.Matrix([[a, a]]), True),
            ("string", "M", True),
            ("None", None, True),
        ]
    if kind == "sym_rational":
        return [
            ("float", 0.5, True),
            ("negative", sp.Rational(-1, 3), True),
            ("string", "abc", True),
            ("NaN", sp.nan, True),
            ("infinite", sp.oo, True),
            ("None", None, True),
        ]
    if kind == "sym_values":
        return [
            ("negative", [-1, 1], True),
            ("one value", [1], True),
            ("string entries", ["a", 1], True),
            ("NaN", [sp.nan, 1], True),
            ("None", None, True),
        ]
    if kind == "blocks":
        nc = world.nc
        return [
            ("empty block", {(): sp.Symbol("A", commutative=False)}, True),
            ("commutative name", {(nc.W[1], nc.T[1]): sp.Symbol("a")}, True),
            ("string", "blocks", True),
            ("None", None, True),
        ]
    if kind == "any":
        return []
    raise LookupError(f"unknown kind {kind!r}")


# ---------------------------------------------------------------------------------------------------
# One bad call


def _non_finite(obj, depth=0) -> bool:
    """Whether a result holds a NaN or an infinity (in arrays, numbers, containers, result records)."""
    if depth > 3:
        return False
    if isinstance(obj, (bool, np.bool_)):
        return False
    if isinstance(obj, (float, np.floating, complex, np.complexfloating)):
        return not np.isfinite(obj)
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "fc" and not bool(np.all(np.isfinite(obj)))
    if isinstance(obj, (list, tuple)):
        return any(_non_finite(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return any(_non_finite(x, depth + 1) for k, x in obj.items() if k not in NAN_FIELDS)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return any(
            _non_finite(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj) if f.name not in NAN_FIELDS
        )
    if isinstance(obj, sp.Basic):
        return bool(obj.has(sp.nan, sp.zoo, sp.oo, -sp.oo))
    if isinstance(obj, sp.MatrixBase):
        return any(_non_finite(x, depth + 1) for x in obj)
    return False


def _raised_in_library(exc: BaseException) -> bool:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and LIBRARY_DIR in Path(last).resolve().parents


def run_call(fn, args, kwargs, limit=TIME_LIMIT):
    """Call ``fn`` under a timer and a warning recorder; return ``(result, exception, warnings, seconds)``."""
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    result = exc = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 - classified by the caller
            exc = e
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    return result, exc, [str(w.message) for w in caught], time.perf_counter() - start


def judge(result, exc, caught, must_refuse, allow_nan=False, allowed=ALLOWED) -> str | None:
    """Return None if the call kept the promise, else the category of the breach."""
    if isinstance(exc, Hang):
        return "hang"
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    if exc is not None:
        if not isinstance(exc, allowed):
            return f"wrong type ({type(exc).__name__})"
        if caught:
            return "warning"
        if not _raised_in_library(exc) or FOREIGN.search(str(exc)):
            return "foreign wording"
        return None
    if caught:
        return "only a warning"
    if must_refuse:
        return "accepted"
    if not allow_nan and _non_finite(result):
        return "silent non-finite result"
    return None


# ---------------------------------------------------------------------------------------------------
# The walk


def public_callables():
    """``(name, object)`` for every callable of ``lnnlib.__all__`` (records and exempt ones set aside)."""
    out = []
    for name in L.__all__:
        obj = getattr(L, name)
        if not callable(obj) or name in EXEMPT or is_record(obj):
            continue
        out.append((name, obj))
    return out


def _module_of(obj) -> str:
    return getattr(obj, "__module__", "lnnlib").rsplit(".", 1)[-1]


def base_call(world, name, fn, module=None, extra=None):
    """The valid arguments of ``fn`` as a dict by parameter, and its signature. ``extra`` overrides."""
    sig = inspect.signature(fn)
    module = module or _module_of(fn)
    base = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        base[p.name] = extra[p.name] if extra and p.name in extra else valid_value(world, name, module, p)
    return sig, base


def _split(sig, values):
    args, kwargs = [], {}
    for p in sig.parameters.values():
        if p.name not in values:
            continue
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and not kwargs:
            args.append(values[p.name])
        else:
            kwargs[p.name] = values[p.name]
    return args, kwargs


def _extra_kwargs(name, sig):
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return dict(CALL_KWARGS.get(name, {}))
    return {}


def bad_calls(world, name, fn, module=None, extra=None):
    """Yield ``(param, label, call, must_refuse)`` for every bad value of every parameter of ``fn``."""
    module = module or _module_of(fn)
    sig, base = base_call(world, name, fn, module, extra)
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind = kind_of(name, module, p.name)
        if kind is None:
            raise LookupError(f"no kind known for parameter {p.name!r} of {name}: add it to KIND")
        for label, value, must in probes(kind, base[p.name], base, world):
            if value is None and p.default is None:  # None is this parameter's own default
                continue
            values = dict(base, **{p.name: value})
            for key, v in values.items():  # a fresh Axes per call: a plot must not see another call's artists
                if isinstance(v, Axes):
                    values[key] = Figure().subplots()
            args, kwargs = _split(sig, values)
            kwargs.update(_extra_kwargs(name, sig))
            yield p.name, label, (fn, args, kwargs), must


def method_targets(world, name, obj, result):
    """Public methods of the objects a valid call returns (losses, demos): ``(qualified name, method)``."""
    if not isinstance(result, (L.Loss, L.Demo)):
        return []
    out = {}
    for cls in type(result).__mro__:
        if not cls.__module__.startswith("lnnlib"):
            continue
        for attr, member in vars(cls).items():
            if attr.startswith("_") or attr in ("set", "sweep", "refresh", "params") or attr in out:
                continue
            if inspect.isfunction(member):
                out[attr] = (f"{name}.{attr}", getattr(result, attr))
    return [out[a] for a in sorted(out)]


def demo_set_calls(demo):
    """Bad ``.set`` and ``.sweep`` calls of a demo: each control out of its range, of the wrong type, NaN."""
    import ipywidgets as widgets

    out = []
    for cname, control in demo.controls.items():
        bad = [("None", None), ("string", "x"), ("NaN", float("nan")), ("complex", 1j)]
        if isinstance(control, widgets.IntSlider):
            bad += [("below", control.min - 1), ("above", control.max + 1), ("fractional", control.value + 0.5)]
            bad += [("bool", True)]
        elif isinstance(control, widgets.FloatLogSlider):
            lo, hi = control.base**control.min, control.base**control.max
            bad += [("below", lo / 10), ("above", hi * 10), ("zero", 0.0), ("negative", -lo)]
        elif isinstance(control, widgets.FloatSlider):
            bad += [("below", control.min - 1), ("above", control.max + 1)]
        elif isinstance(control, widgets.Dropdown):
            bad = [("unknown option", "nonsense"), ("None", None), ("number", 12345)]
        for label, value in bad:
            out.append((f"set({cname})", label, (demo.set, [], {cname: value})))
            out.append((f"sweep({cname})", label, (demo.sweep, [cname, [value]], {})))
    out.append(("set(unknown)", "unknown control", (demo.set, [], {"nonsense": 1})))
    return out


# ---------------------------------------------------------------------------------------------------
# pytest


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("bad_input"))


@pytest.fixture(scope="module", autouse=True)
def capped_memory():
    """Cap the address space while the walk runs: a call that tries to allocate tens of GiB fails at once
    (MemoryError, a breach) instead of taking the machine down."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    cap = vm + ADDRESS_SPACE_MARGIN
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def restoring_globals():
    """Restore what a notebook setup changes (warning filters, matplotlib rcParams, numpy print options, BLAS
    threads), in case a bad call to such a function is accepted."""
    import matplotlib as mpl
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), mpl.rc_context(), np.printoptions(), threadpool_limits(limits=None):
        yield


def walk(world, name, obj):
    """Every bad call of one public callable (and of its result's methods): a list of breaches, and the
    number of calls made."""
    if name in SIDE_EFFECTS:
        with restoring_globals():
            return _walk(world, name, obj)
    return _walk(world, name, obj)


def _walk(world, name, obj):
    breaches = []
    calls = 0
    targets = [(name, obj, None, None)]
    if name not in SIDE_EFFECTS:
        sig, base = base_call(world, name, obj)
        args, kwargs = _split(sig, base)
        kwargs.update(_extra_kwargs(name, sig))
        result, exc, caught, seconds = run_call(obj, args, kwargs, limit=30)
        assert exc is None, f"the valid call of {name} failed: {type(exc).__name__}: {exc}"
        assert not caught, f"the valid call of {name} warned: {caught}"
        # a loss's methods take matrices of the loss's own shape
        extra = {"W": np.full(result.shape, 0.1)} if isinstance(result, L.Loss) else None
        targets += [(q, m, _module_of(obj), extra) for q, m in method_targets(world, name, obj, result)]
        if isinstance(result, L.Demo):
            for where, label, (fn, a, k) in demo_set_calls(result):
                calls += 1
                r, e, c, _ = run_call(fn, a, k)
                verdict = judge(r, e, c, True)
                if verdict:
                    breaches.append((f"{name}.{where}", label, verdict, _describe(e, c)))
    for qname, fn, module, extra in targets:
        short = qname.rsplit(".", 1)[-1]
        for param, label, (f, a, k), must in bad_calls(world, short, fn, module, extra):
            calls += 1
            r, e, c, _ = run_call(f, a, k)
            verdict = judge(r, e, c, must, allow_nan=short in ALLOWS_NAN_RESULT)
            if verdict:
                breaches.append((f"{qname}({param})", label, verdict, _describe(e, c)))
    return breaches, calls


def _describe(exc, caught):
    if exc is None:
        return "; ".join(caught)[:200] if caught else "returned"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


CALLABLES = public_callables()


@pytest.mark.parametrize("name", [n for n, _ in CALLABLES])
def test_refuses_bad_input(world, name, request):
    if name in KNOWN_ELSEWHERE:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_ELSEWHERE[name], strict=True))
    breaches, calls = walk(world, name, getattr(L, name))
    assert calls > 0 or not inspect.signature(getattr(L, name)).parameters, f"{name}: no bad call was made"
    assert not breaches, f"{len(breaches)} of {calls} bad calls broke the promise:\n" + "\n".join(
        f"  {where} = {label}: {verdict} ({what})" for where, label, verdict, what in breaches
    )


def test_every_public_callable_is_walked():
    """The walk covers all of lnnlib.__all__ except data, result records and the listed exemptions."""
    walked = {n for n, _ in CALLABLES}
    for name in L.__all__:
        obj = getattr(L, name)
        if callable(obj) and not is_record(obj):
            assert name in walked or name in EXEMPT, name


def test_the_judge_can_fail():
    """The judge flags each kind of breach (so that a pass means something)."""
    assert judge(float("nan"), None, [], False) == "silent non-finite result"
    assert judge(1.0, None, [], True) == "accepted"
    assert judge(None, IndexError("x"), [], True) == "wrong type (IndexError)"
    assert judge(None, Hang(), [], True) == "hang"
    assert judge(1.0, None, ["overflow"], False) == "only a warning"
    try:
        np.asarray([1.0, 2.0]).reshape(3)
    except ValueError as e:  # numpy's own error, raised outside lnnlib
        assert judge(None, e, [], True) == "foreign wording"
    try:
        L.end_to_end([np.ones((2, 2)), np.ones((3, 3))])
    except ValueError as e:
        assert judge(None, e, [], True) is None


# ---------------------------------------------------------------------------------------------------
# the trial as a script: counts per category


def main():
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    w = World(tmp)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + ADDRESS_SPACE_MARGIN, hard))
    total, categories, per_callable = 0, Counter(), Counter()
    lines = []
    wanted = sys.argv[1:]
    for name, obj in CALLABLES:
        if wanted and name not in wanted and _module_of(obj) not in wanted:
            continue
        try:
            breaches, calls = walk(w, name, obj)
        except AssertionError as e:
            lines.append(f"BASE CALL FAILED {name}: {e}")
            continue
        total += calls
        for where, label, verdict, what in breaches:
            categories[verdict.split(" (")[0]] += 1
            per_callable[name] += 1
            lines.append(f"{where} = {label}: {verdict} ({what})")
    print("\n".join(lines))
    print(f"\n{len(CALLABLES)} callables, {total} bad calls, {sum(categories.values())} broke the promise")
    for k, v in categories.most_common():
        print(f"  {k}: {v}")
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
