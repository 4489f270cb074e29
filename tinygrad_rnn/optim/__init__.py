"""Optimizers: they update parameters in place and record nothing on the tape."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD

__all__: list[str] = [
    "Optimizer", "SGD", "Adam",
]
