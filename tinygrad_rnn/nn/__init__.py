"""Layers, losses, initialisers and utilities, built from Tensor ops only."""

from . import functional, init, parallel, utils
from .activation import GELU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .elman import ElmanRNN, GatedRNN
from .embedding import Embedding
from .flatten import Flatten, Identity, Unflatten
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
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

# PyTorch's module idioms: containers, activations, dropout, shapes, losses
__all__ += [
    "ModuleDict", "Dropout", "Identity", "Flatten", "Unflatten",
    "Tanh", "ReLU", "Sigmoid", "GELU", "Softmax", "LogSoftmax",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss",
    "parallel",
]
