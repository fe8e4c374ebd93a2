"""Optimizers, learning-rate schedules and gradient clipping.

Example:
    >>> import minigrad as mg; w = mg.tensor([1.0], requires_grad=True); w.grad = w.data * 2
    >>> opt = mg.optim.SGD([w], lr=0.25); opt.step(); w.data
    array([0.5], dtype=float32)
"""

from minigrad.optim import lr_scheduler
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.adaptive import Adadelta, Adagrad, RMSprop
from minigrad.optim.clip import clip_grad_norm, clip_grad_value
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "clip_grad_norm",
    "clip_grad_value",
    "lr_scheduler",
]
