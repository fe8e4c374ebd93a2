"""``Flatten``: merge image axes into one feature axis."""

from __future__ import annotations

from minigrad.nn.layer import Layer
from minigrad.ops.shape import flatten
from minigrad.tensor import Tensor


class Flatten(Layer):
    """Merge axes ``start_axis..end_axis`` (by default all but the batch axis).

    The input must have both axes: the default needs a batch axis and at least one more, so a
    1-D input is refused rather than flattened into its batch axis.

    Example:
        >>> Flatten()(np.zeros((2, 3, 4, 4))).shape
        (2, 48)
    """

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis, self.end_axis = start_axis, end_axis

    def forward(self, x: Tensor) -> Tensor:
        for axis in (self.start_axis, self.end_axis):
            if not -x.ndim <= axis < x.ndim:
                raise ValueError(
                    f"Flatten(start_axis={self.start_axis}, end_axis={self.end_axis}): the "
                    f"input of shape {x.shape} has no axis {axis} (it has {x.ndim})"
                )
        return flatten(x, self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"
