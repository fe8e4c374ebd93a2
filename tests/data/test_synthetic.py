"""synthetic_digits: procedural MNIST-shaped digits, deterministic, learnable but not trivial."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad.data import synthetic, synthetic_digits


@pytest.mark.parametrize(("n", "size"), [(0, 28), (1, 28), (37, 28), (25, 16), (20, 8)])
def test_shapes_dtypes_range(n, size):
    images, labels = synthetic_digits(n, seed=0, size=size)
    assert images.shape == (n, 1, size, size) and images.dtype == np.float32
    assert labels.shape == (n,) and labels.dtype == np.int64
    if n:
        assert images.min() >= 0.0 and images.max() <= 1.0
        assert labels.min() >= 0 and labels.max() <= 9


def test_classes_are_balanced():
    _, labels = synthetic_digits(1003, seed=1)
    counts = np.bincount(labels, minlength=10)
    assert counts.min() == 100 and counts.max() == 101


def test_deterministic_from_the_seed():
    a, la = synthetic_digits(50, seed=3)
    b, lb = synthetic_digits(50, seed=3)
    c, lc = synthetic_digits(50, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c) and not np.array_equal(la, lc)


def test_images_vary_within_a_class_and_sit_in_the_middle():
    images, labels = synthetic_digits(200, seed=0)
    ones = images[labels == 1, 0]
    assert np.abs(ones[0] - ones[1]).mean() > 0.02
    ink = images[:, 0] * (images[:, 0] > 0.5)  # strokes, without the background noise
    rows, cols = np.indices((28, 28))
    mass = ink.sum(axis=(1, 2))
    centre_y = (ink * rows).sum(axis=(1, 2)) / mass
    centre_x = (ink * cols).sum(axis=(1, 2)) / mass
    assert np.all(np.abs(centre_y - 13.5) < 5) and np.all(np.abs(centre_x - 13.5) < 5)


def test_nearest_class_mean_learns_it_but_not_perfectly():
    x, y = synthetic_digits(3000, seed=0)
    xt, yt = synthetic_digits(1000, seed=1)
    x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    means = np.stack([x[y == k].mean(axis=0) for k in range(10)])
    distances = (xt**2).sum(1)[:, None] - 2 * xt @ means.T + (means**2).sum(1)
    accuracy = float((distances.argmin(axis=1) == yt).mean())
    assert 0.5 < accuracy < 0.97


def test_images_are_rendered_in_batches_not_one_at_a_time(monkeypatch):
    # What makes 10,000 images fast, counted rather than timed: each vectorized render draws
    # a chunk of images of one stroke template (18 templates, chunks of 256: about 60
    # renders), never one image at a time.
    batch_sizes = []
    render = synthetic._render

    def counting(strokes, draws, size):
        batch_sizes.append(len(draws["ink"]))
        return render(strokes, draws, size)

    monkeypatch.setattr(synthetic, "_render", counting)
    synthetic_digits(10_000, seed=0)
    assert sum(batch_sizes) == 10_000
    assert len(batch_sizes) <= 100, f"{len(batch_sizes)} renders for 10,000 images"


@pytest.mark.parametrize(("n", "size"), [(-1, 28), (2.0, 28), (5, 3), (5, 28.0)])
def test_bad_arguments(n, size):
    with pytest.raises(ValueError, match="synthetic_digits"):
        synthetic_digits(n, seed=0, size=size)
