"""Layers: the building blocks of models, each with ``forward`` and ``backward``."""

from minigrad.nn import init
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
    "Parameter",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "init",
]
