r"""lnnlib: helpers for the course on deep linear neural networks through trajectories of gradient descent.

One module per concept, in course order: ``network`` (end-to-end matrix, layer gradients, balancedness),
``init``, ``losses``, ``train`` (gradient descent, end-to-end rule), ``dynamics`` (preconditioner,
singular-value velocity), ``metrics``, ``notebook`` (setup and verdicts); then one module per notebook
topic: ``intro`` (00-01), ``symbolic`` and ``fields`` (02-04), ``convergence``, ``optimizers``, ``data``
and ``acceleration`` (05-06), ``completion`` and ``sensing`` (07-09), ``demos`` (10: one module per lecture demo).
"""

# Each module declares its public names in its own __all__; this package re-exports exactly those,
# so the list of public names is written once, beside the code it names.
from . import (
    acceleration,
    completion,
    convergence,
    data,
    demos,
    dynamics,
    fields,
    init,
    intro,
    losses,
    metrics,
    network,
    notebook,
    optimizers,
    sensing,
    symbolic,
    train,
)
from .acceleration import *  # noqa: F403
from .completion import *  # noqa: F403
from .convergence import *  # noqa: F403
from .data import *  # noqa: F403
from .demos import *  # noqa: F403
from .dynamics import *  # noqa: F403
from .fields import *  # noqa: F403
from .init import *  # noqa: F403
from .intro import *  # noqa: F403
from .losses import *  # noqa: F403
from .metrics import *  # noqa: F403
from .network import *  # noqa: F403
from .notebook import *  # noqa: F403
from .optimizers import *  # noqa: F403
from .sensing import *  # noqa: F403
from .symbolic import *  # noqa: F403
from .train import *  # noqa: F403

__version__ = "0.1.0"

# In course order: core first, then one module per notebook topic.
__all__ = [
    name
    for module in (
        network,
        init,
        losses,
        train,
        dynamics,
        metrics,
        notebook,
        intro,
        symbolic,
        fields,
        convergence,
        optimizers,
        data,
        acceleration,
        completion,
        sensing,
        demos,
    )
    for name in module.__all__
]
