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


# ---------------------------------------------------------------- PyTorch's package-level idioms
# tr.tensor(...), tr.zeros(2, 3), tr.tanh(x), tr.float32, tr.device("cpu"), tr.cuda.is_available()...
# `tensor` is bound last: it is the function, not the submodule tinygrad_rnn/tensor.py.
from . import cuda  # noqa: E402
from .devices import device  # noqa: E402
from .dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: E402
from .functions import (  # noqa: E402
    FUNCTIONS,
    TYPED,
    arange,
    as_tensor,
    cat,
    concat,
    concatenate,
    empty,
    empty_like,
    eye,
    from_dlpack,
    full,
    full_like,
    inference_mode,
    is_tensor,
    linspace,
    multinomial,
    numel,
    ones,
    ones_like,
    outer,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .functions import module_getattr as __getattr__  # noqa: E402, F401 (names the missing PyTorch idiom)
from .ops.reduce import ValuesIndices  # noqa: E402

globals().update(FUNCTIONS)  # tr.tanh, tr.sum, tr.max, tr.transpose, ... (Tensor methods as functions)
globals().update(TYPED)  # tr.FloatTensor([1, 2]), tr.LongTensor(3), ... (PyTorch's legacy constructors)
half, float, double, short, int, long, bool = float16, float32, float64, int16, int32, int64, bool_  # noqa: A001
dtype = type(float32)  # isinstance(tr.float32, tr.dtype)
Size = tuple  # t.size() is a tuple

# Star imports leave out the names that would shadow builtins (float, int, bool, max, sum...).
__all__ += [
    "Size", "ValuesIndices", "arange", "as_tensor", "bool_", "concat", "concatenate", "cuda", "device", "double",
    "dtype", "empty", "empty_like", "eye", "float16", "float32", "float64", "from_dlpack", "full", "full_like",
    "half", "inference_mode", "int8", "int16", "int32", "int64", "is_tensor", "linspace", "long", "multinomial",
    "numel", "ones", "ones_like", "outer", "rand", "rand_like", "randint", "randn", "randn_like", "randperm",
    "short", "tensor", "uint8", "zeros", "zeros_like", *sorted(TYPED),
    *sorted(set(FUNCTIONS) - {"max", "min", "sum", "all", "any", "abs", "pow"}),
]
