"""Layers, losses, initialisers and utilities, built from Tensor ops only."""

from . import functional, init, utils
from .attention import MultiheadAttention
from .elman import ElmanRNN, GatedRNN
from .embedding import Embedding
from .linear import Linear
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import PositionalEncoding, TransformerEncoder, TransformerEncoderLayer

__all__ = [
    "Module", "ModuleList", "Parameter", "Sequential", "functional", "init", "utils",
    "Linear", "Embedding",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    "ElmanRNN", "GatedRNN",
    "LayerNorm", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "PositionalEncoding",
]
