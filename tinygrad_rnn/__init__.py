"""tinygrad_rnn: a small reverse-mode autograd with NumPy/CuPy backends, for RNNs.

The public names of ../shared/API.md, and nothing else.
"""

from . import distributed, nn, optim, utils
from .autograd import grad
from .backend import cuda_available
from .checkpoint import load_checkpoint, save_checkpoint
from .config import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .jit import jit
from .ops import cat, stack, where
from .random import Generator, get_rng_state, manual_seed, set_rng_state
from .serialization import load, save
from .tensor import Tensor

from_numpy = Tensor.from_numpy

__version__ = "0.1.0"

__all__ = [
    "Tensor", "cat", "from_numpy", "nn", "optim", "cuda_available", "detect_anomaly", "enable_grad", "get_rng_state", "grad",
    "gradcheck", "gradgradcheck", "is_grad_enabled", "jit", "load", "load_checkpoint", "manual_seed", "no_grad", "save",
    "save_checkpoint", "distributed",
    "set_grad_enabled", "set_rng_state", "stack", "where",
    "Generator", "utils",
]
