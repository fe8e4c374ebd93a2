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


# Geometries of the image-op tests, shared by the op tests and the tier-equivalence tests.
CONV_GRID = [
    # (N, C, H, W, O, kernel, stride, padding, dilation, groups)
    (2, 3, 5, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (2, 3, 5, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (1, 2, 7, 7, 3, (3, 2), (2, 1), (1, 0), (1, 1), 1),
    (2, 4, 7, 8, 6, (3, 3), (2, 2), (2, 1), (2, 1), 2),
    (1, 4, 6, 6, 4, (1, 1), (1, 1), (0, 0), (1, 1), 4),
    (1, 2, 4, 5, 2, (4, 5), (1, 1), (0, 0), (1, 1), 1),
    (3, 1, 6, 6, 2, (2, 2), (3, 3), (1, 1), (1, 1), 1),
]
CONV_IDS = [f"k{g[5]}s{g[6]}p{g[7]}d{g[8]}g{g[9]}" for g in CONV_GRID]
# (kernel, stride, padding): tiling, overlapping, padded, and uneven windows
POOL_SETTINGS = [
    ((2, 2), (2, 2), (0, 0)),
    ((3, 3), (2, 2), (1, 1)),
    ((3, 3), (1, 1), (1, 1)),
    ((2, 3), (1, 2), (1, 1)),
    ((3, 2), (3, 1), (0, 1)),
]
