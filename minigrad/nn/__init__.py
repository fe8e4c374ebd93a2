"""Layers: the building blocks of models, each with ``forward`` and ``backward``."""

from minigrad.nn import init
from minigrad.nn.containers import LayerList, Sequential
from minigrad.nn.layer import Layer, Parameter
from minigrad.nn.layers import (
    AvgPool2d,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from minigrad.nn.linear import Conv2d, Linear
from minigrad.nn.loss import CrossEntropyLoss, MSELoss
from minigrad.nn.norm import BatchNorm1d, BatchNorm2d

__all__ = [
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Layer",
    "LayerList",
    "LeakyReLU",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "init",
]
