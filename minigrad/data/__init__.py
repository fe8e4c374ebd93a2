"""Datasets, the mini-batch loader, and the dataset loaders (embedded, downloaded, synthetic)."""

from minigrad.data.dataset import DataLoader, Dataset, Subset, TensorDataset, random_split
from minigrad.data.digits import load_digits
from minigrad.data.errors import DatasetError
from minigrad.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from minigrad.data.synthetic import synthetic_digits

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DataLoader",
    "Dataset",
    "DatasetError",
    "Subset",
    "TensorDataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "random_split",
    "synthetic_digits",
]
