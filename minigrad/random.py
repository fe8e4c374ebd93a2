"""The one random number generator behind every draw minigrad makes.

Parameter initialization, dropout masks, ``randn``/``rand`` and data shuffling all draw from
this generator unless they are handed one of their own, so ``manual_seed(s)`` makes a whole
training run reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed minigrad's global generator and return it.

    Example:
        >>> g = manual_seed(0)
        >>> float(g.random()) == float(manual_seed(0).random())
        True
    """
    global _generator
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The generator that minigrad draws from when no generator is passed.

    Example:
        >>> isinstance(default_generator(), np.random.Generator)
        True
    """
    return _generator


def get_rng_state() -> dict[str, Any]:
    """The global generator's state as a JSON-friendly dict (for checkpoints).

    Example:
        >>> state = get_rng_state()
        >>> a = default_generator().random(); set_rng_state(state)
        >>> a == default_generator().random()
        True
    """
    return _generator.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state`.

    Example:
        >>> set_rng_state(get_rng_state())
    """
    _generator.bit_generator.state = state
