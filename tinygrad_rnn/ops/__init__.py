"""The differentiable ops. Each is a :class:`~tinygrad_rnn.autograd.Function` with its
forward and backward side by side, plus a snake_case wrapper that Tensor methods call.

The op docstrings, read together, are the project's table of derivatives.
"""

from .activation import LogSoftmax, Softmax, log_softmax, softmax
from .elementwise import (
    Abs,
    Add,
    AddTanh,
    Clip,
    Div,
    Exp,
    Log,
    Mul,
    Neg,
    Pow,
    PowScalar,
    Relu,
    Sigmoid,
    SigmoidGrad,
    Sqrt,
    Sub,
    Tanh,
    TanhGrad,
    Where,
    abs_,
    add,
    add_tanh,
    clip,
    div,
    exp,
    log,
    mul,
    neg,
    pow_,
    relu,
    sigmoid,
    sqrt,
    sub,
    tanh,
    where,
)
from .fused import GRUPointwise, LSTMPointwise, gru_pointwise, lstm_pointwise
from .linalg import MatMul, matmul
from .movement import (
    Cast,
    Cat,
    GetItem,
    IndexAdd,
    Reshape,
    Stack,
    Transpose,
    cast,
    cat,
    getitem,
    index_add,
    reshape,
    stack,
    swap_last,
    transpose,
)
from .reduce import BroadcastTo, Max, Sum, broadcast_to, max_, mean, sum_, unbroadcast

__all__ = [
    "Abs", "Add", "AddTanh", "BroadcastTo", "Cast", "Cat", "Clip", "Div", "Exp", "GetItem", "GRUPointwise", "LSTMPointwise", "IndexAdd",
    "Log", "LogSoftmax", "MatMul", "Max", "Mul", "Neg", "Pow", "PowScalar", "Relu", "Reshape", "Stack",
    "Sigmoid", "SigmoidGrad", "Softmax", "Sqrt", "Sub", "Sum", "Tanh", "TanhGrad", "Transpose", "Where",
    "abs_", "add", "add_tanh", "broadcast_to", "cast", "cat", "clip", "div", "exp", "getitem", "gru_pointwise", "index_add", "lstm_pointwise",
    "log", "log_softmax", "matmul", "max_", "mean", "mul", "neg", "pow_", "relu", "reshape",
    "sigmoid", "softmax", "sqrt", "stack", "sub", "sum_", "swap_last", "tanh", "transpose",
    "unbroadcast", "where",
]
