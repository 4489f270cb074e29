"""The differentiable ops. Each is a :class:`~tinygrad_rnn.autograd.Function` with its
forward and backward side by side; each module also holds the mixin of Tensor methods
that call its ops, and ``Tensor`` inherits them all.

The op docstrings, read together, are the project's table of derivatives.
"""

from .activation import AddTanh, Gelu, LogSoftmax, Relu, Sigmoid, Softmax, Tanh, add_tanh, gelu
from .attention import SoftmaxAttention, softmax_attention
from .elementwise import Abs, Add, Div, Exp, Log, Mul, Neg, Pow, PowScalar, Sqrt, Sub
from .fused import GRUPointwise, LSTMPointwise, gru_pointwise, lstm_pointwise
from .indexing import GetItem, IndexAdd, getitem, index_add
from .linalg import MatMul, matmul, qr
from .movement import Cast, Cat, Reshape, Stack, Transpose, cast, cat, reshape, stack, transpose
from .reduce import ArgMax, BroadcastTo, Max, Sum, broadcast_to, mean, reduce_max, reduce_sum, unbroadcast
from .select import Clip, Compare, Where, where

__all__ = [
    "Abs", "Add", "AddTanh", "ArgMax", "BroadcastTo", "Cast", "Cat", "Clip", "Compare", "Div", "Exp", "GetItem",
    "GRUPointwise", "IndexAdd", "LSTMPointwise", "Log", "LogSoftmax", "MatMul", "Max", "Mul", "Neg", "Pow",
    "PowScalar", "Relu", "Reshape", "Sigmoid", "Softmax", "Sqrt", "Stack", "Sub", "Sum", "Tanh", "Transpose",
    "Where", "add_tanh", "broadcast_to", "cast", "cat", "getitem", "gru_pointwise", "index_add", "lstm_pointwise",
    "matmul", "mean", "qr", "reduce_max", "reduce_sum", "reshape", "stack", "transpose", "unbroadcast", "where",
    "Gelu", "SoftmaxAttention", "gelu", "softmax_attention",
]
