"""Optimizers: they update parameters in place and record nothing on the tape."""

# from .optimizer import Optimizer
# from .sgd import SGD
# from .adam import Adam

__all__: list[str] = [
    # "Optimizer", "SGD", "Adam",
]
