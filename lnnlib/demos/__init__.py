r"""Lecture demos (notebook 10): sliders that retrain a small deep linear network and redraw its picture.

One module per demo beside a small base: ``base`` (:class:`Demo`: controls, cache, background training,
drawing), ``completion`` (demo 1), ``balancedness`` (demo 2), ``preconditioner`` (demo 3) and
``acceleration`` (demo 4). What the demos compute lives in the concept modules they illustrate
(:func:`lnnlib.completion_trajectory`, :func:`lnnlib.lp_minimum`, lnnlib.train's descent engine).
"""

from . import acceleration, balancedness, base, completion, preconditioner
from .acceleration import *  # noqa: F403
from .balancedness import *  # noqa: F403
from .base import *  # noqa: F403
from .completion import *  # noqa: F403
from .preconditioner import *  # noqa: F403

__all__ = [name for module in (base, completion, balancedness, preconditioner, acceleration) for name in module.__all__]
