"""Layers, losses, initialisers and utilities, built from Tensor ops only."""

from . import functional
from .module import Module, ModuleList, Parameter, Sequential

# --- linear.py / embedding.py / init.py / utils.py
# from . import init, utils
# from .embedding import Embedding
# from .linear import Linear
# --- recurrent.py
# from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
# --- elman.py
# from .elman import ElmanRNN, GatedRNN

__all__ = [
    "Module", "ModuleList", "Parameter", "Sequential", "functional",
    # "Linear", "Embedding", "init", "utils",
    # "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    # "ElmanRNN", "GatedRNN",
]
