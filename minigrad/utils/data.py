"""``minigrad.utils.data``: ``torch.utils.data``'s names, so ``from torch.utils.data import
DataLoader`` ports by changing the package name. They are :mod:`minigrad.data`'s classes.

Example:
    >>> from minigrad.utils.data import DataLoader, TensorDataset
    >>> x, y = next(iter(DataLoader(TensorDataset(np.zeros((4, 2)), np.arange(4)), batch_size=2)))
    >>> x.shape, y.tolist()
    ((2, 2), [0, 1])
"""

from minigrad.data.dataset import DataLoader, Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
