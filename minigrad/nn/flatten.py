"""``Flatten``: merge image axes into one feature axis."""

from __future__ import annotations

from minigrad.nn.layer import Layer
from minigrad.ops._common import torch_axis
from minigrad.ops.shape import flatten
from minigrad.tensor import Tensor


class Flatten(Layer):
    """Merge axes ``start_axis..end_axis`` (by default all but the batch axis); PyTorch's
    ``start_dim``/``end_dim`` are accepted too.

    The input must have both axes: the default needs a batch axis and at least one more, so a
    1-D input is refused rather than flattened into its batch axis.

    Example:
        >>> x = np.zeros((2, 3, 4, 4)); Flatten()(x).shape, Flatten(end_dim=2)(x).shape
        ((2, 48), (2, 12, 4))
    """

    def __init__(
        self,
        start_axis: int | None = None,
        end_axis: int | None = None,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> None:
        super().__init__()
        start_axis = torch_axis("Flatten", start_axis, start_dim, ("start_axis", "start_dim"))
        end_axis = torch_axis("Flatten", end_axis, end_dim, ("end_axis", "end_dim"))
        self.start_axis = 1 if start_axis is None else start_axis
        self.end_axis = -1 if end_axis is None else end_axis

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
