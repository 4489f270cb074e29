"""Optimizers: they update parameters in place and record nothing on the tape.

``lr_scheduler`` holds the learning-rate schedules (``optim.lr_scheduler.StepLR``...).
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__: list[str] = [
    "Optimizer", "SGD", "Adam",
    "AdamW", "RMSprop", "Adagrad", "lr_scheduler",
]
