"""Layers, losses, initialisers and utilities, built from Tensor ops only."""

from . import functional, init, parallel, utils
from .elman import ElmanRNN, GatedRNN
from .embedding import Embedding
from .linear import Linear
from .module import Module, ModuleList, Parameter, Sequential
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "Module", "ModuleList", "Parameter", "Sequential", "functional", "init", "utils",
    "Linear", "Embedding",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "ElmanRNN", "GatedRNN",
    "parallel",
]
