"""``minigrad.utils``: PyTorch's ``torch.utils`` names (``minigrad.utils.data``)."""

from minigrad.utils import data

__all__ = ["data"]
