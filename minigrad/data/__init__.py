"""Datasets, the mini-batch loader, the dataset loaders (embedded, downloaded, synthetic) and
text for character-level language models."""

from minigrad.data.dataset import DataLoader, Dataset, Subset, TensorDataset, random_split
from minigrad.data.digits import load_digits
from minigrad.data.errors import DatasetError
from minigrad.data.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from minigrad.data.synthetic import synthetic_digits
from minigrad.data.text import CharVocabulary, bptt_batches, load_verse

__all__ = [
    "FASHION_MNIST_CLASSES",
    "CharVocabulary",
    "DataLoader",
    "Dataset",
    "DatasetError",
    "Subset",
    "TensorDataset",
    "bptt_batches",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_verse",
    "random_split",
    "synthetic_digits",
]
