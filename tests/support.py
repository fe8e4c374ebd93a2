"""Shared test constants and helpers: every tolerance the suite uses lives here."""

from __future__ import annotations

import numpy as np

# float64 forward results against NumPy/SciPy references
FWD_RTOL, FWD_ATOL = 1e-10, 1e-12
# float32 forward results against float64 references
F32_RTOL, F32_ATOL = 1e-5, 1e-6
# gradcheck on float64 inputs (central differences with eps=1e-6)
GC_EPS, GC_ATOL, GC_RTOL = 1e-6, 1e-6, 1e-4
# two analytic float64 gradients computed along different routes (fused vs composite)
SAME_RTOL, SAME_ATOL = 1e-10, 1e-12


def away_from(values: np.ndarray, kinks: tuple[float, ...], margin: float = 0.1) -> np.ndarray:
    """Push values at least ``margin`` away from each kink (ties, zeros of |x|, relu...)."""
    out = values.copy()
    for k in kinks:
        close = np.abs(out - k) < margin
        out[close] = k + np.where(out[close] >= k, margin, -margin) * 2
    return out
