r"""lnnlib: helpers for the course on deep linear neural networks through trajectories of gradient descent.

One module per concept, in course order: ``network`` (end-to-end matrix, layer gradients,
balancedness), ``init``, ``losses``, ``train`` (gradient descent, end-to-end rule), ``dynamics``
(preconditioner, singular-value velocity), ``metrics``.
"""

# Concept modules of the later notebooks: each re-exports the names in its own __all__.
from . import acceleration, completion, convergence, data, fields, intro, optimizers, sensing, symbolic, widgets
from .acceleration import *  # noqa: F403
from .completion import *  # noqa: F403
from .convergence import *  # noqa: F403
from .data import *  # noqa: F403
from .dynamics import (
    preconditioned_gradient,
    preconditioner,
    preconditioner_eigenvalues,
    psd_power,
    singular_value_velocity,
)
from .fields import *  # noqa: F403
from .init import balanced_factorization, balanced_init, gaussian_init, identity_init, near_zero_init
from .intro import *  # noqa: F403
from .losses import L2Loss, Loss, LpRegressionLoss, whiten
from .metrics import effective_rank, reconstruction_error, singular_values
from .network import balancedness_gaps, balancedness_matrices, end_to_end, layer_gradients
from .notebook import setup_notebook, verdict
from .optimizers import *  # noqa: F403
from .sensing import *  # noqa: F403
from .symbolic import *  # noqa: F403
from .train import Trajectory, end_to_end_descent, gradient_descent
from .widgets import *  # noqa: F403

__version__ = "0.1.0"

__all__ = [
    "end_to_end",
    "layer_gradients",
    "balancedness_gaps",
    "balancedness_matrices",
    "gaussian_init",
    "near_zero_init",
    "identity_init",
    "balanced_init",
    "balanced_factorization",
    "Loss",
    "L2Loss",
    "LpRegressionLoss",
    "whiten",
    "Trajectory",
    "gradient_descent",
    "end_to_end_descent",
    "psd_power",
    "preconditioned_gradient",
    "preconditioner",
    "preconditioner_eigenvalues",
    "singular_value_velocity",
    "effective_rank",
    "reconstruction_error",
    "singular_values",
    "setup_notebook",
    "verdict",
]
for _module in (intro, symbolic, fields, convergence, optimizers, data, acceleration, completion, sensing, widgets):
    __all__ += _module.__all__
del _module
