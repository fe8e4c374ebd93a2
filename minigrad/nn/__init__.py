"""Layers: the building blocks of models, each with ``forward`` and ``backward``.

``nn.Module`` and ``nn.ModuleList`` are PyTorch's names for :class:`Layer` and
:class:`LayerList`, and ``minigrad.nn.functional`` is :mod:`minigrad.functional`.
"""

from minigrad.nn import functional, init
from minigrad.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from minigrad.nn.containers import LayerList, Sequential
from minigrad.nn.conv import Conv2d
from minigrad.nn.dropout import Dropout
from minigrad.nn.flatten import Flatten
from minigrad.nn.layer import Layer, Parameter
from minigrad.nn.linear import Linear
from minigrad.nn.loss import CrossEntropyLoss, MSELoss
from minigrad.nn.norm import BatchNorm1d, BatchNorm2d
from minigrad.nn.pooling import AvgPool2d, MaxPool2d
from minigrad.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from minigrad.nn.sparse import Embedding

Module = Layer
"""PyTorch's name for :class:`Layer`: ``class Net(nn.Module)`` defines a minigrad layer."""

ModuleList = LayerList
"""PyTorch's name for :class:`LayerList`."""

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "LSTMCell",
    "Layer",
    "LayerList",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "Parameter",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
]
