"""The default models the command line trains: a small MLP and a small CNN for digit images."""

from __future__ import annotations

from minigrad import nn


def mlp(
    image_shape: tuple[int, int, int], num_classes: int = 10, hidden: int = 128
) -> nn.Sequential:
    """Flatten, then two hidden ReLU layers of ``hidden`` units.

    Example:
        >>> mlp((1, 8, 8))[-1]
        Linear(in_features=128, out_features=10, bias=True)
    """
    c, h, w = image_shape
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(c * h * w, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, num_classes),
    )


def cnn(image_shape: tuple[int, int, int], num_classes: int = 10) -> nn.Sequential:
    """Two convolution blocks (conv-batchnorm-ReLU, then max-pool), a hidden layer, dropout.

    Images of 16 pixels or more are pooled after each block (28x28 becomes 7x7); smaller
    images (the 8x8 digits) only after the second.

    Example:
        >>> cnn((1, 28, 28))(np.zeros((2, 1, 28, 28))).shape
        (2, 10)
    """
    c, h, w = image_shape
    pool_first = min(h, w) >= 16
    first = [nn.Conv2d(c, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()]
    if pool_first:
        first.append(nn.MaxPool2d(2))
        h, w = h // 2, w // 2
    second = [nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2)]
    h, w = h // 2, w // 2
    return nn.Sequential(
        *first,
        *second,
        nn.Flatten(),
        nn.Linear(32 * h * w, 128),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, num_classes),
    )
