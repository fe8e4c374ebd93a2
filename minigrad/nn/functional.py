"""``minigrad.nn.functional``: where PyTorch keeps ``F``; the same functions as
:mod:`minigrad.functional`.

Example:
    >>> import minigrad.nn.functional as F
    >>> F.relu(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from minigrad.functional import *  # noqa: F403
from minigrad.functional import __all__  # noqa: F401
