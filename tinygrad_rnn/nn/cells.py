"""PyTorch-compatible recurrent cells: one time step of RNN, LSTM and GRU.

A step function here is both a cell's forward and the step of its layer in
:mod:`.recurrent`, so a cell is exactly one step of its layer. A step takes the input
projection ``xw_t = x_t W_ih^T + b`` already computed (a layer does that for all time
steps in one matmul) and returns the new state tuple. Parameters have PyTorch's names,
shapes, gate order and initialisation, so weights move between the libraries unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..ops import add_tanh, gru_pointwise, lstm_pointwise
from ..tensor import Tensor
from .checks import check_size
from .functional import activation
from .module import Module, Parameter
from .unroll import State, initial_state, project

Step = Callable[[Tensor, State, Tensor, "Tensor | None"], State]


def uniform_parameter(shape: tuple[int, ...], bound: float, device: Any, dtype: Any) -> Parameter:
    """A parameter drawn from U(-bound, bound) with the library's generator (``tr.manual_seed``);
    TypeError if ``dtype`` is not floating (a parameter needs a gradient)."""
    return Parameter(Tensor.uniform(*shape, low=-bound, high=bound, device=device, dtype=dtype))


def add_weights(module: Module, suffix: str, gates: int, input_size: int, hidden_size: int, bias: bool,
                device: Any, dtype: Any) -> None:
    """``weight_ih``, ``weight_hh`` (and ``bias_ih``, ``bias_hh``) + suffix, each of ``gates`` blocks of
    H rows, from U(-1/sqrt(H), 1/sqrt(H)) in PyTorch's order (so both draw the same numbers)."""
    G, bound = gates * hidden_size, 1.0 / hidden_size**0.5
    shapes = {"weight_ih": (G, input_size), "weight_hh": (G, hidden_size)}
    shapes |= {"bias_ih": (G,), "bias_hh": (G,)} if bias else {}
    for name, shape in shapes.items():
        setattr(module, name + suffix, uniform_parameter(shape, bound, device, dtype))


# ------------------------------------------------ step functions (shared with the layers)
def rnn_step(xw_t: Tensor, state: State, W_hh_T: Tensor, b_hh: Tensor | None,
             f_s: Callable[[Tensor], Tensor] = Tensor.tanh) -> State:
    """s_t = f_s(xw_t + s_prev W_hh^T), xw_t = x_t W_ih^T + b_ih + b_hh (6.390 notes C.5).

    ``b_hh`` is None (already in xw_t). For f_s = tanh the sum and tanh are one op (``add_tanh``).
    """
    recurrent = state[0] @ W_hh_T
    return (add_tanh(xw_t, recurrent) if f_s is Tensor.tanh else f_s(xw_t + recurrent),)


def lstm_step(xw_t: Tensor, state: State, W_hh_T: Tensor, b_hh: Tensor | None) -> State:
    """(h_t, c_t) of :class:`LSTMCell` from xw_t = x_t W_ih^T + b_ih + b_hh and (h_prev, c_prev).

    The gates and the state update are one fused op (:class:`~tinygrad_rnn.ops.fused.LSTMPointwise`,
    whose ``composite`` spells the cell's equations out in Tensor ops).
    """
    h_prev, c_prev = state
    H = h_prev.shape[-1]
    hc = lstm_pointwise(xw_t, h_prev @ W_hh_T, c_prev)
    return hc[:, :H], hc[:, H:]


def gru_step(xw_t: Tensor, state: State, W_hh_T: Tensor, b_hh: Tensor | None) -> State:
    """h_t of :class:`GRUCell` from xw_t = x_t W_ih^T + b_ih (b_hh stays apart: r_t multiplies b_hn).

    The gates and the update are one fused op (:class:`~tinygrad_rnn.ops.fused.GRUPointwise`).
    """
    return (gru_pointwise(xw_t, state[0] @ W_hh_T, state[0], b_hh),)


def rnn_step_with(nonlinearity: Any, name: str) -> Step:
    """``rnn_step`` with f_s = ``nonlinearity``, "tanh" or "relu" (else ValueError naming ``name``)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{name}: nonlinearity={nonlinearity!r}; expected 'tanh' or 'relu'")
    return functools.partial(rnn_step, f_s=activation(nonlinearity, ("tanh", "relu"), name))


# -------------------------------------------------------------------------- cells
class RecurrentFamily(Module):
    """What a cell and the layer of its family share (RNNCell and RNN, ...).

    ``gates`` blocks of H rows in the weights, the ``step`` (above), and whether b_hh
    can join the input projection x W_ih^T + b_ih (``biases_summed_in_projection``).

    Args (of every cell and layer):
        input_size: I, the features of x_t.  hidden_size: H, the size of the state.
        bias: add ``bias_ih`` and ``bias_hh``.  device: ``"cpu"`` or ``"cuda"``.
        dtype: of the parameters (default float32). Parameters start U(-1/sqrt(H), 1/sqrt(H)).
    """

    gates = 1
    biases_summed_in_projection = True
    step: Step = staticmethod(rnn_step)
    _defaults: dict[str, Any] = {"bias": True, "nonlinearity": "tanh"}  # options repr() shows when changed

    def _init_sizes(self, input_size: Any, hidden_size: Any, bias: Any) -> str:
        """Check and keep I, H and ``bias``; returns the class name, for messages."""
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        return name

    def _projection(self, x: Tensor, suffix: str = "") -> tuple[Tensor, Tensor, Tensor | None]:
        """(x W_ih^T + b for every row of x, W_hh^T, the b_hh left for the step), weights ending in ``suffix``."""
        W_ih, W_hh_T = getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix).T
        if not self.bias:
            return project(x, W_ih), W_hh_T, None
        b_ih, b_hh = getattr(self, "bias_ih" + suffix), getattr(self, "bias_hh" + suffix)
        if self.biases_summed_in_projection:
            return project(x, W_ih, b_ih + b_hh), W_hh_T, None
        return project(x, W_ih, b_ih), W_hh_T, b_hh

    def extra_repr(self) -> str:
        changed = [f"{key}={getattr(self, key)!r}" for key, default in self._defaults.items()
                   if getattr(self, key, default) != default]
        return ", ".join([f"{self.input_size}, {self.hidden_size}", *changed])


class _Cell(RecurrentFamily):
    """One step of a recurrent layer, on one x_t; the base of the three cells.

    Shapes:
        x: (B, I) or unbatched (I,).  Every state (h, c) and result: (B, H) or (H,).
        weight_ih: (gates*H, I), weight_hh: (gates*H, H), bias_ih, bias_hh: (gates*H,).

    Args: those of the family (:class:`RecurrentFamily`).

    Raises:
        ValueError: a size is not a positive int; in forward, x or a state of the wrong
            shape (both shapes are named), or an LSTM ``hx`` that is not a pair.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = "cpu",
                 dtype: Any = None) -> None:
        super().__init__()
        self._init_sizes(input_size, hidden_size, bias)
        add_weights(self, "", self.gates, self.input_size, self.hidden_size, self.bias, device, dtype)

    def forward(self, x: Tensor, hx: Any = None) -> Any:
        """The state after one step from x and ``hx`` (None: zeros): h', or (h', c') for the LSTM."""
        name, n_in, H = type(self).__name__, self.input_size, self.hidden_size
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input x is a {type(x).__name__}; expected a Tensor")
        if x.ndim not in (1, 2) or x.shape[-1] != n_in:
            raise ValueError(f"{name}: input x has shape {x.shape}; expected (B, {n_in}) or ({n_in},) (input_size={n_in})")
        unbatched, x = x.ndim == 1, x.reshape(-1, n_in)
        state = initial_state(name, hx, x, x.shape[0], H, 2 if self.gates == 4 else 1, unbatched)
        xw, W_hh_T, b_hh = self._projection(x)
        new = tuple(s.reshape(H) if unbatched else s for s in self.step(xw, state, W_hh_T, b_hh))
        return new[0] if len(new) == 1 else new


class RNNCell(_Cell):
    """An Elman RNN cell: one step of the notes' recurrent network.

    s_t = f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss)     (6.390 notes C.5)

    with W^sx = ``weight_ih``, W^ss = ``weight_hh``, W_0^ss = ``bias_ih + bias_hh``
    and f_s = tanh or relu (``nonlinearity``). In PyTorch's row-vector form, for a batch:

        h' = f_s(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)

    Shapes, arguments and errors: those of every cell (``_Cell``), H rows per weight.

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.RNNCell(3, 2)
        >>> h = cell(tr.Tensor.randn(4, 3))
        >>> cell(tr.Tensor.randn(4, 3), h).shape
        (4, 2)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = "cpu", dtype: Any = None) -> None:
        step = rnn_step_with(nonlinearity, "RNNCell")  # checked before any weight is drawn
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity, self.step = nonlinearity, step


class LSTMCell(_Cell):
    """A long short-term memory cell (6.390 notes C.6.2, Long short-term memory).

    With gates in PyTorch's order i, f, g, o (rows of ``weight_ih``/``weight_hh``):

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      input gate
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)      forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)         candidate cell
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)      output gate
        c' = f * c + i * g
        h' = o * tanh(c')

    Here g is the candidate cell, not the notes' prediction g_t nor their gate. The four
    gates come from one (B, 4H) tensor: one matmul per input, then slices. ``hx`` is the
    pair (h, c) and the result the pair (h', c'); the rest is that of every cell (``_Cell``).

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.LSTMCell(3, 2)
        >>> h, c = cell(tr.Tensor.randn(4, 3))
        >>> h, c = cell(tr.Tensor.randn(4, 3), (h, c))
        >>> h.shape, c.shape
        ((4, 2), (4, 2))
    """

    gates = 4
    step = staticmethod(lstm_step)


class GRUCell(_Cell):
    """A gated recurrent unit cell.

    With gates in PyTorch's order r, z, n:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)      update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   candidate state
        h' = (1 - z) * n + z * h

    The last line is the notes' gated update s_t = (1 - g_t) * s_{t-1} + g_t * f_s(...)
    (6.390 notes C.49, Simple gated recurrent networks) with the gate g_t = 1 - z.
    Shapes, arguments and errors: those of every cell (``_Cell``), 3H rows per weight.

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.GRUCell(3, 2)
        >>> cell(tr.Tensor.randn(3)).shape
        (2,)
    """

    gates = 3
    biases_summed_in_projection = False  # b_hn is multiplied by r_t
    step = staticmethod(gru_step)
