"""A procedural MNIST-shaped dataset: digit glyphs drawn with random jitter, no download needed.

Each digit class has one to three stroke templates (polylines, arcs and curves in a unit box).
Every image picks a template of its class and distorts it: a smooth random bend of the whole
glyph, a small random offset per stroke, centring of the ink (as MNIST centres each digit's centre
of mass), then a random affine map (rotation, slant, scale, aspect, small translation). The
strokes are rasterised with anti-aliasing from the exact distance of each pixel centre to the
nearest segment, with a random stroke width, edge softness and ink level, and Gaussian noise is
added. Everything is drawn from one seeded NumPy generator, so a seed gives the same images every
time (on one platform and NumPy version; elsewhere, equal up to rounding).
"""

from __future__ import annotations

import numpy as np

from minigrad.dtypes import is_int

_CHUNK = 256  # images rasterised at once


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int) -> np.ndarray:
    """Points on an elliptical arc from angle a0 to a1 (degrees, y pointing down)."""
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _curve(p0: tuple, p1: tuple, p2: tuple, n: int = 8) -> np.ndarray:
    """A quadratic Bezier curve from p0 to p2 pulled towards p1."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _line(*points: tuple) -> np.ndarray:
    return np.asarray(points, dtype=np.float64)


def _join(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


# digit -> list of templates; a template is a list of strokes; a stroke is a (k, 2) polyline in a
# box x in [-0.5, 0.5] (right), y in [-0.5, 0.5] (down), the glyph about 1 tall and 0.6 wide.
_TEMPLATES: list[list[list[np.ndarray]]] = [
    [[_arc(0, 0, 0.28, 0.48, -90, 270, 20)], [_arc(0.02, 0, 0.25, 0.48, -100, 275, 20)]],
    [
        [_line((0.02, -0.48), (0.0, 0.48))],
        [_line((-0.14, -0.3), (0.04, -0.48), (0.0, 0.48))],
        [_line((-0.14, -0.3), (0.04, -0.48), (0.0, 0.48)), _line((-0.15, 0.48), (0.15, 0.48))],
    ],
    [
        [_join(_arc(0, -0.2, 0.26, 0.26, 190, 400, 10), _line((-0.28, 0.48), (0.3, 0.48)))],
        [
            _join(
                _arc(0, -0.22, 0.25, 0.25, 180, 390, 10),
                _curve((0.22, -0.1), (0.0, 0.25), (-0.28, 0.46)),
                _line((0.3, 0.44)),
            )
        ],
    ],
    [
        [_arc(0, -0.25, 0.24, 0.23, 200, 450, 12), _arc(0, 0.22, 0.27, 0.26, 270, 520, 12)],
        [
            _line((-0.22, -0.48), (0.22, -0.48), (-0.02, -0.08)),
            _arc(0, 0.2, 0.27, 0.28, 250, 520, 12),
        ],
    ],
    [
        [_line((0.14, -0.48), (0.14, 0.48)), _line((0.14, -0.48), (-0.3, 0.16), (0.3, 0.16))],
        [_line((-0.22, -0.48), (-0.26, 0.1), (0.3, 0.1)), _line((0.16, -0.38), (0.16, 0.48))],
    ],
    [
        [
            _line((0.26, -0.48), (-0.18, -0.48)),
            _join(_line((-0.18, -0.48), (-0.22, -0.06)), _arc(0, 0.19, 0.27, 0.27, 235, 510, 12)),
        ],
    ],
    [
        [
            _join(
                _curve((0.2, -0.48), (-0.3, -0.25), (-0.26, 0.22)),
                _arc(0, 0.22, 0.26, 0.26, 180, 540, 16),
            )
        ],
    ],
    [
        [_line((-0.28, -0.48), (0.3, -0.48), (-0.06, 0.48))],
        [_line((-0.28, -0.48), (0.3, -0.48), (-0.06, 0.48)), _line((-0.05, 0.0), (0.3, 0.0))],
    ],
    [[_arc(0, -0.25, 0.21, 0.23, 0, 360, 14), _arc(0, 0.23, 0.26, 0.25, 0, 360, 16)]],
    [
        [_arc(0, -0.2, 0.25, 0.26, 0, 360, 16), _line((0.25, -0.2), (0.18, 0.48))],
        [_arc(0, -0.2, 0.25, 0.26, 0, 360, 16), _curve((0.25, -0.2), (0.25, 0.35), (-0.15, 0.48))],
    ],
]


def synthetic_digits(n: int, seed: int, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``n`` procedurally drawn handwritten-looking digits, MNIST-shaped, for download-free tests.

    Returns ``(images, labels)``: float32 (n, 1, size, size) in [0, 1] (ink is bright on a dark
    background, as in MNIST: glyphs 0.55 to 0.7 of the image tall, ink centred) and int64 (n,)
    labels 0-9, each class appearing ``n // 10`` or ``n // 10 + 1`` times in random order. The
    same ``n``, ``seed`` and ``size`` give the same arrays; for a train/test pair use two seeds.
    10,000 images take about a second.

    Example:
        >>> images, labels = synthetic_digits(100, seed=0)
        >>> images.shape, images.dtype, np.bincount(labels).tolist()
        ((100, 1, 28, 28), dtype('float32'), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10])
    """
    if not is_int(n) or n < 0:
        raise ValueError(f"synthetic_digits: n must be a non-negative int, got {n!r}")
    if not is_int(size) or size < 4:
        raise ValueError(f"synthetic_digits: size must be an int >= 4, got {size!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    variant = rng.integers(0, 6, n)  # reduced modulo each class's template count
    images = np.empty((n, 1, size, size), dtype=np.float32)
    draws = _draw_parameters(rng, n, size)
    for digit in range(10):
        templates = _TEMPLATES[digit]
        for v, strokes in enumerate(templates):
            members = np.flatnonzero((labels == digit) & (variant % len(templates) == v))
            for start in range(0, len(members), _CHUNK):
                idx = members[start : start + _CHUNK]
                images[idx, 0] = _render(strokes, {k: p[idx] for k, p in draws.items()}, size)
    noise = rng.standard_normal((n, 1, size, size), dtype=np.float32)
    noise *= draws["noise"][:, None, None, None]
    images += noise
    np.clip(images, 0.0, 1.0, out=images)
    return images, labels


def _draw_parameters(rng: np.random.Generator, n: int, size: int) -> dict[str, np.ndarray]:
    """Every random quantity per image, drawn up front so chunking cannot change the result."""
    scale = size / 28
    return {
        "bend": rng.uniform(-0.5, 0.5, (n, 4)),  # coefficients of a smooth quadratic warp
        "offset": rng.normal(0.0, 0.04, (n, 4, 2)),  # per-stroke shift (up to 4 strokes)
        "angle": rng.uniform(-0.3, 0.3, n),  # radians
        "slant": rng.uniform(-0.45, 0.45, n),
        "height": rng.uniform(0.56, 0.72, n) * size,
        "aspect": rng.uniform(0.7, 1.3, n),
        "shift": rng.uniform(-1.5, 1.5, (n, 2)) * scale,  # pixels
        "width": np.maximum(rng.uniform(1.3, 3.2, n) * scale, 1.0),  # stroke diameter, pixels
        "soft": rng.uniform(0.7, 1.5, n),  # width of the anti-aliased edge in pixels
        "ink": rng.uniform(0.75, 1.0, n),
        "noise": rng.uniform(0.0, 0.12, n).astype(np.float32),
    }


def _render(strokes: list[np.ndarray], p: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Rasterise one template for a chunk of B images with their parameters; (B, size, size)."""
    points = np.concatenate(strokes)  # K, 2
    stroke_of = np.repeat(np.arange(len(strokes)), [len(s) for s in strokes])
    ends = np.cumsum([len(s) for s in strokes])
    first = np.setdiff1d(np.arange(len(points) - 1), ends - 1)  # segment i joins points i, i+1

    x, y = points[:, 0], points[:, 1]
    k = p["bend"][:, :, None]  # B, 4, 1
    bx = x + k[:, 0] * y * y + k[:, 1] * x * y  # B, K
    by = y + k[:, 2] * x * x + k[:, 3] * x * y
    bx = bx + p["offset"][:, stroke_of, 0]
    by = by + p["offset"][:, stroke_of, 1]
    # Centre the ink, as MNIST centres each digit's centre of mass: subtract the length-weighted
    # mean of the segment midpoints.
    length = np.hypot(bx[:, first + 1] - bx[:, first], by[:, first + 1] - by[:, first])
    weight = length / length.sum(axis=1, keepdims=True)
    bx -= (weight * (bx[:, first] + bx[:, first + 1]) / 2).sum(axis=1, keepdims=True)
    by -= (weight * (by[:, first] + by[:, first + 1]) / 2).sum(axis=1, keepdims=True)

    cos, sin = np.cos(p["angle"])[:, None], np.sin(p["angle"])[:, None]
    sx = p["height"][:, None] * p["aspect"][:, None]
    sy = p["height"][:, None]
    ux = (bx + p["slant"][:, None] * by) * sx  # slant: x moves with y
    uy = by * sy
    centre = (size - 1) / 2
    px = (cos * ux - sin * uy + centre + p["shift"][:, :1]).astype(np.float32)  # B, K
    py = (sin * ux + cos * uy + centre + p["shift"][:, 1:]).astype(np.float32)

    ax, ay = px[:, first], py[:, first]  # B, S: segment starts
    dx, dy = px[:, first + 1] - ax, py[:, first + 1] - ay
    inv_len2 = 1.0 / np.maximum(dx * dx + dy * dy, 1e-6)

    grid = np.arange(size, dtype=np.float32)
    gx = grid - ax[:, :, None]  # B, S, W: pixel centre minus segment start, x part
    gy = grid - ay[:, :, None]  # B, S, H
    # The squared distance to a segment is |g|^2 - t * (2 g.d - t |d|^2), with t = g.d / |d|^2
    # clamped to [0, 1]; g.d and |g|^2 split into an x part and a y part (outer sums).
    dot = (gy * dy[:, :, None])[:, :, :, None] + (gx * dx[:, :, None])[:, :, None, :]
    t = dot * inv_len2[:, :, None, None]
    np.clip(t, 0.0, 1.0, out=t)
    dot *= 2
    dot -= t * (dx * dx + dy * dy)[:, :, None, None]
    dot *= t
    dist2 = (gy * gy)[:, :, :, None] + (gx * gx)[:, :, None, :]
    dist2 -= dot
    dist = np.sqrt(np.maximum(dist2.min(axis=1), 0.0))  # B, H, W

    radius = (p["width"] / 2)[:, None, None]
    soft = p["soft"][:, None, None]
    ink = np.clip((radius - dist) / soft + 0.5, 0.0, 1.0)
    return ink * p["ink"][:, None, None]
