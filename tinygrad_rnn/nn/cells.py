"""PyTorch-compatible recurrent cells: one time step of RNN, LSTM and GRU.

The step functions here are shared with :mod:`.recurrent`, so a cell is exactly one step
of its layer. They take the input projection ``xw_t = x_t W_ih^T + b`` already computed
(a layer does that for all time steps in one matmul). Parameters have PyTorch's names,
shapes, gate order and initialisation, so weights move between the libraries unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import add_tanh, gru_pointwise, lstm_pointwise
from ..tensor import Tensor
from .checks import check_size
from .functional import activation
from .module import Module, Parameter
from .unroll import check_state, project


def uniform_parameter(shape: tuple[int, ...], bound: float, device: Any, dtype: Any) -> Parameter:
    """A parameter drawn from U(-bound, bound) with the library's generator (``tr.manual_seed``).

    Raises:
        TypeError: ``dtype`` is not a floating dtype (a parameter needs a gradient).
    """
    return Parameter(Tensor.uniform(*shape, low=-bound, high=bound, device=device, dtype=dtype))


# ------------------------------------------------ step functions (shared with the layers)
def rnn_step(xw_t: Tensor, s_prev: Tensor, W_hh_T: Tensor, f_s: Callable[[Tensor], Tensor]) -> Tensor:
    """s_t = f_s(xw_t + s_prev W_hh^T), xw_t = x_t W_ih^T + b_ih + b_hh (:class:`RNNCell`; notes C.5).

    For f_s = tanh the sum and the tanh are one op (``add_tanh``).
    """
    if f_s is Tensor.tanh:
        return add_tanh(xw_t, s_prev @ W_hh_T)
    return f_s(xw_t + s_prev @ W_hh_T)


def lstm_step(xw_t: Tensor, h_prev: Tensor, c_prev: Tensor, W_hh_T: Tensor) -> tuple[Tensor, Tensor]:
    """(h_t, c_t) of :class:`LSTMCell` from xw_t = x_t W_ih^T + b_ih + b_hh.

    The gates and the state update are one fused op (:class:`~tinygrad_rnn.ops.fused.LSTMPointwise`,
    whose ``composite`` spells the cell's equations out in Tensor ops).
    """
    H = h_prev.shape[-1]
    hc = lstm_pointwise(xw_t, h_prev @ W_hh_T, c_prev)
    return hc[:, :H], hc[:, H:]


def gru_step(xw_t: Tensor, h_prev: Tensor, W_hh_T: Tensor, b_hh: Tensor | None) -> Tensor:
    """h_t of :class:`GRUCell` from xw_t = x_t W_ih^T + b_ih (b_hh stays apart: r_t multiplies b_hn).

    The gates and the update are one fused op (:class:`~tinygrad_rnn.ops.fused.GRUPointwise`).
    """
    return gru_pointwise(xw_t, h_prev @ W_hh_T, h_prev, b_hh)


# -------------------------------------------------------------------------- cells
class _Cell(Module):
    """Parameters and input checks shared by the three cells (``gates`` blocks of H rows)."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = "cpu",
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        G, bound = self.gates * self.hidden_size, 1.0 / self.hidden_size**0.5
        self.weight_ih = uniform_parameter((G, self.input_size), bound, device, dtype)
        self.weight_hh = uniform_parameter((G, self.hidden_size), bound, device, dtype)
        if self.bias:
            self.bias_ih = uniform_parameter((G,), bound, device, dtype)
            self.bias_hh = uniform_parameter((G,), bound, device, dtype)

    def _input(self, x: Tensor) -> tuple[Tensor, bool]:
        """x as (B, I), and whether it came unbatched as (I,)."""
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__}: input x is a {type(x).__name__}; expected a Tensor")
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: input x has shape {x.shape}; expected (B, {self.input_size}) "
                f"or ({self.input_size},) (input_size={self.input_size})"
            )
        return (x.reshape(1, self.input_size), True) if x.ndim == 1 else (x, False)

    def _state(self, s: Tensor | None, x: Tensor, unbatched: bool, what: str) -> Tensor:
        B, H = x.shape[0], self.hidden_size
        if s is None:
            return Tensor.zeros(B, H, device=x.device, dtype=x.dtype)
        expected = (H,) if unbatched else (B, H)
        return check_state(type(self).__name__, what, s, expected, str(expected)).reshape(B, H)

    def _projection(self, x: Tensor, fold_hh: bool) -> Tensor:
        if not self.bias:
            return project(x, self.weight_ih)
        return project(x, self.weight_ih, self.bias_ih + self.bias_hh if fold_hh else self.bias_ih)

    def _out(self, s: Tensor, unbatched: bool) -> Tensor:
        return s.reshape(self.hidden_size) if unbatched else s

    def extra_repr(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"{self.input_size}, {self.hidden_size}{extra}"


class RNNCell(_Cell):
    """An Elman RNN cell: one step of the notes' recurrent network.

    s_t = f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss)     (6.390 notes C.5)

    with W^sx = ``weight_ih``, W^ss = ``weight_hh``, W_0^ss = ``bias_ih + bias_hh``
    and f_s = tanh or relu. In PyTorch's row-vector form, for a batch:

        h' = f_s(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)

    Parameters are drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch does.

    Shapes:
        x: (B, I) or unbatched (I,).  h, h': (B, H) or (H,).
        weight_ih: (H, I), weight_hh: (H, H), bias_ih, bias_hh: (H,).

    Args:
        input_size: I, the features of x_t.
        hidden_size: H, the size of the state s_t.
        bias: add ``bias_ih`` and ``bias_hh``.
        nonlinearity: f_s, ``"tanh"`` or ``"relu"``.
        device: ``"cpu"`` or ``"cuda"``.
        dtype: of the parameters (default float32).

    Raises:
        ValueError: a size is not a positive int, or an unknown ``nonlinearity``;
            in forward, x or h of the wrong shape (both shapes are named).

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.RNNCell(3, 2)
        >>> h = cell(tr.Tensor.randn(4, 3))
        >>> cell(tr.Tensor.randn(4, 3), h).shape
        (4, 2)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = "cpu", dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity={nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        """h' = f_s(x W_ih^T + b_ih + h W_hh^T + b_hh); ``hx`` None means zeros.

        Returns:
            h': (B, H) (or (H,) for an unbatched x).
        """
        x, unbatched = self._input(x)
        s_prev = self._state(hx, x, unbatched, "hx")
        f_s = activation(self.nonlinearity, ("tanh", "relu"), "RNNCell")
        s_t = rnn_step(self._projection(x, fold_hh=True), s_prev, self.weight_hh.T, f_s)
        return self._out(s_t, unbatched)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")


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
    gates come from one (B, 4H) tensor: one matmul per input, then slices.

    Shapes:
        x: (B, I) or (I,).  h, c, h', c': (B, H) or (H,).
        weight_ih: (4H, I), weight_hh: (4H, H), bias_ih, bias_hh: (4H,).

    Args:
        input_size: I.  hidden_size: H.  bias: add the biases.
        device: ``"cpu"`` or ``"cuda"``.  dtype: of the parameters (default float32).

    Raises:
        ValueError: a size is not a positive int; in forward, x, h or c of the wrong
            shape, or ``hx`` not a pair.

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.LSTMCell(3, 2)
        >>> h, c = cell(tr.Tensor.randn(4, 3))
        >>> h, c = cell(tr.Tensor.randn(4, 3), (h, c))
        >>> h.shape, c.shape
        ((4, 2), (4, 2))
    """

    gates = 4

    def forward(self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """(h', c') from x and ``hx = (h, c)`` (None means zeros for both).

        Returns:
            ``(h', c')``, each (B, H) (or (H,) for an unbatched x).
        """
        x, unbatched = self._input(x)
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ValueError(f"LSTMCell: hx is a {type(hx).__name__}; expected a pair (h, c) or None")
        h_prev = self._state(hx[0], x, unbatched, "h")
        c_prev = self._state(hx[1], x, unbatched, "c")
        h_t, c_t = lstm_step(self._projection(x, fold_hh=True), h_prev, c_prev, self.weight_hh.T)
        return self._out(h_t, unbatched), self._out(c_t, unbatched)


class GRUCell(_Cell):
    """A gated recurrent unit cell.

    With gates in PyTorch's order r, z, n:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)      update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   candidate state
        h' = (1 - z) * n + z * h

    The last line is the notes' gated update s_t = (1 - g_t) * s_{t-1} + g_t * f_s(...)
    (6.390 notes C.49, Simple gated recurrent networks) with the gate g_t = 1 - z.

    Shapes:
        x: (B, I) or (I,).  h, h': (B, H) or (H,).
        weight_ih: (3H, I), weight_hh: (3H, H), bias_ih, bias_hh: (3H,).

    Args:
        input_size: I.  hidden_size: H.  bias: add the biases.
        device: ``"cpu"`` or ``"cuda"``.  dtype: of the parameters (default float32).

    Raises:
        ValueError: a size is not a positive int; in forward, x or h of the wrong shape.

    Example:
        >>> import tinygrad_rnn as tr
        >>> cell = tr.nn.GRUCell(3, 2)
        >>> cell(tr.Tensor.randn(3)).shape
        (2,)
    """

    gates = 3

    def forward(self, x: Tensor, hx: Tensor | None = None) -> Tensor:
        """h' = (1 - z) * n + z * h; ``hx`` None means zeros.

        Returns:
            h': (B, H) (or (H,) for an unbatched x).
        """
        x, unbatched = self._input(x)
        h_prev = self._state(hx, x, unbatched, "hx")
        b_hh = self.bias_hh if self.bias else None
        h_t = gru_step(self._projection(x, fold_hh=False), h_prev, self.weight_hh.T, b_hh)
        return self._out(h_t, unbatched)
