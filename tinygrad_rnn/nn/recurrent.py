"""PyTorch-compatible sequence layers: ``RNN``, ``LSTM``, ``GRU``.

A layer runs its cell's step (:mod:`.cells`) through the one loop of :mod:`.unroll`,
for ``num_layers`` stacked layers and one or two directions; back-propagation through
time (6.390 notes C.41-C.43) is the tape running backward through that loop.
"""

from __future__ import annotations

from typing import Any

from ..autograd import anomaly_context
from ..ops import cat, stack
from ..tensor import Tensor
from .cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step, uniform_parameter
from .checks import check_size
from .functional import activation, dropout
from .module import Module
from .unroll import Ragged, State, initial_states, project, sequence_batch, unroll

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]


class _RNNBase(Module):
    """Parameters, checks and the unrolled loop shared by RNN, LSTM and GRU.

    Subclasses set ``gates`` (blocks of H rows in the weights), ``fold_hh`` (whether
    b_hh can be added to the input projection) and ``_step`` (one time step).
    """

    gates = 1
    fold_hh = True

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = check_size(name, "input_size", input_size)
        self.hidden_size = check_size(name, "hidden_size", hidden_size)
        self.num_layers = check_size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout={dropout!r}; expected a probability in [0, 1)")
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout = float(dropout)
        self.num_directions = 2 if self.bidirectional else 1
        H = self.hidden_size
        G, bound = self.gates * H, 1.0 / H**0.5
        for k in range(self.num_layers):  # PyTorch's order, so both draw and list parameters alike
            layer_input = self.input_size if k == 0 else H * self.num_directions
            for suffix in ("", "_reverse")[: self.num_directions]:
                setattr(self, f"weight_ih_l{k}{suffix}", uniform_parameter((G, layer_input), bound, device, dtype))
                setattr(self, f"weight_hh_l{k}{suffix}", uniform_parameter((G, H), bound, device, dtype))
                if self.bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", uniform_parameter((G,), bound, device, dtype))
                    setattr(self, f"bias_hh_l{k}{suffix}", uniform_parameter((G,), bound, device, dtype))

    # ------------------------------------------------------------------ forward
    def forward(self, x: Tensor, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Any]:
        """Run every layer and direction over the sequence.

        Args:
            x: (T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I).
            hx: the initial state (L*D, B, H) ((L*D, H) unbatched); LSTM: a pair
                ``(h0, c0)``. None means zeros. Row ``k*D + d`` is layer k, direction d.
            lengths: one int per sequence (a list, or an int Tensor), each in 1..T, in any
                order. Outputs past a sequence's length are 0, ``h_n`` holds its state at
                its own last step, and the reverse direction starts there (the rule of
                :mod:`~tinygrad_rnn.nn.unroll`, the same for every recurrent layer).

        Returns:
            ``(output, h_n)``, LSTM ``(output, (h_n, c_n))``: output (T, B, D*H) (batch
            first if ``batch_first``), the last layer's states, both directions
            concatenated; h_n, c_n (L*D, B, H), the final state of every layer and
            direction (never batch first).

        Raises:
            ValueError: x, hx or lengths of the wrong shape or value (the layer, what was
                given and what was expected are named).
        """
        name, L, D = type(self).__name__, self.num_layers, self.num_directions
        layer_input, unbatched, ragged = sequence_batch(name, x, self.input_size, lengths, self.batch_first)
        states = initial_states(name, hx, layer_input, unbatched, L * D, self.hidden_size, 2 if self.gates == 4 else 1)
        T, finals = ragged.T, []
        for k in range(L):
            outputs = []
            for d in range(D):
                out, final = self._run_direction(layer_input, k, d == 1, states[k * D + d], ragged)
                outputs.append(out)
                finals.append(final)
            layer_input = outputs[0] if D == 1 else cat(outputs, axis=2)
            if self.dropout and self.training and k < L - 1:
                layer_input = dropout(layer_input, self.dropout, training=True)
        output = ragged.pad(layer_input)
        h_n = [stack([f[i] for f in finals]) for i in range(len(finals[0]))]
        if unbatched:
            output = output.reshape(T, output.shape[2])
            h_n = [s.reshape(s.shape[0], self.hidden_size) for s in h_n]
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        return output, (h_n[0] if len(h_n) == 1 else tuple(h_n))

    def _run_direction(self, x: Tensor, k: int, reverse: bool, state: State,
                       ragged: Ragged) -> tuple[Tensor, State]:
        """Unroll layer k in one direction over x (T, B, I): outputs (T, B, H), final state."""
        suffix = f"l{k}_reverse" if reverse else f"l{k}"
        W_ih, W_hh = getattr(self, "weight_ih_" + suffix), getattr(self, "weight_hh_" + suffix)
        b_ih = getattr(self, "bias_ih_" + suffix) if self.bias else None
        b_hh = getattr(self, "bias_hh_" + suffix) if self.bias else None
        label = f"{type(self).__name__} layer {k}{' reverse' if reverse else ''}"
        with anomaly_context(f"{label}, input projection"):
            xw = project(x, W_ih, None if b_ih is None else (b_ih + b_hh if self.fold_hh else b_ih))
            W_hh_T, b_step = W_hh.T, (None if self.fold_hh else b_hh)

        def step(inputs_t: tuple[Tensor, ...], state: State) -> State:
            return self._step(inputs_t[0], state, W_hh_T, b_step)

        return unroll(step, (xw,), state, ragged, label + ", time step {t}", reverse=reverse)

    def _step(self, xw_t: Tensor, state: State, W_hh_T: Tensor, b_hh: Tensor | None) -> State:
        """One time step: the new state from xw_t = x_t W_ih^T + b and the previous state."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        extra = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        extra += [f"{key}={getattr(self, key)!r}" for key, value in defaults.items() if getattr(self, key) != value]
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            extra.append(f"nonlinearity={self.nonlinearity!r}")
        return ", ".join(extra)


class RNN(_RNNBase):
    """A stack of Elman RNN layers: the notes' recurrent network, PyTorch's ``nn.RNN``.

    For each layer k and time step t (6.390 notes C.5, with W^sx = ``weight_ih_l{k}``,
    W^ss = ``weight_hh_l{k}`` and W_0^ss = ``bias_ih_l{k} + bias_hh_l{k}``):

        s_t = f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss),   f_s = tanh or relu

    The loop it runs, per layer and direction (rows are batch entries)::

        xw = x @ weight_ih.T + bias_ih + bias_hh      # all t at once
        for t in range(T):                            # reversed for _reverse
            h = f_s(xw[t] + h @ weight_hh.T)
            output[t] = h

    Layer k > 0 reads layer k-1's output (both directions concatenated), with dropout
    in between in training mode.

    Shapes:
        x: (T, B, I) ((B, T, I) if ``batch_first``; (T, I) unbatched).  hx, h_n: (L*D, B, H).
        output: (T, B, D*H).  ``weight_ih_l0``: (H, I), ``weight_ih_l{k>0}``: (H, D*H),
        ``weight_hh_l{k}``: (H, H), biases (H,); D = 2 if bidirectional else 1.

    Args:
        input_size: I.  hidden_size: H.  num_layers: L, stacked layers.
        nonlinearity: f_s, ``"tanh"`` or ``"relu"``.  bias: add the biases.
        batch_first: x and output are (B, T, ...).  dropout: probability of zeroing the
            outputs of each layer but the last, in training mode.
        bidirectional: add a layer running from the last step to the first (``_reverse``).
        device: ``"cpu"`` or ``"cuda"``.  dtype: of the parameters (default float32).

    Returns:
        ``forward(x, hx=None, lengths=None)`` -> ``(output, h_n)`` (see ``forward``).

    Raises:
        ValueError: bad sizes, dropout or nonlinearity; in forward, see ``forward``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> rnn = tr.nn.RNN(3, 4, num_layers=2, bidirectional=True)
        >>> output, h_n = rnn(tr.Tensor.randn(5, 2, 3), lengths=[5, 3])
        >>> output.shape, h_n.shape
        ((5, 2, 8), (4, 2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = "cpu", dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):  # checked before any weight is drawn
            raise ValueError(f"RNN: nonlinearity={nonlinearity!r}; expected 'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)
        self.nonlinearity, self._f_s = nonlinearity, activation(nonlinearity, ("tanh", "relu"), "RNN")

    def _step(self, xw_t: Tensor, state: tuple[Tensor, ...], W_hh_T: Tensor,
              b_hh: Tensor | None) -> tuple[Tensor, ...]:
        return (rnn_step(xw_t, state[0], W_hh_T, self._f_s),)


class LSTM(_RNNBase):
    """A stack of LSTM layers, PyTorch's ``nn.LSTM`` (6.390 notes C.6.2, Long short-term memory).

    Each step is :class:`~tinygrad_rnn.nn.LSTMCell` (gates i, f, g, o; equations there).
    The loop it runs, per layer and direction::

        xw = x @ weight_ih.T + bias_ih + bias_hh      # (T, B, 4H), all t at once
        for t in range(T):                            # reversed for _reverse
            gates = xw[t] + h @ weight_hh.T
            i, f, g, o = sigmoid(gates[:, :H]), ..., tanh(gates[:, 2H:3H]), ...
            c = f * c + i * g
            h = o * tanh(c)
            output[t] = h

    Shapes:
        As :class:`RNN`, with 4H rows in every weight and bias; hx = (h0, c0) and
        (h_n, c_n) each (L*D, B, H).

    Args:
        As :class:`RNN`, without ``nonlinearity``.

    Returns:
        ``forward(x, hx=None, lengths=None)`` -> ``(output, (h_n, c_n))``.

    Raises:
        ValueError: bad sizes or dropout; in forward, see ``forward``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> lstm = tr.nn.LSTM(3, 4, batch_first=True)
        >>> output, (h_n, c_n) = lstm(tr.Tensor.randn(2, 5, 3))
        >>> output.shape, h_n.shape, c_n.shape
        ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    """

    gates = 4

    def _step(self, xw_t: Tensor, state: tuple[Tensor, ...], W_hh_T: Tensor,
              b_hh: Tensor | None) -> tuple[Tensor, ...]:
        return lstm_step(xw_t, state[0], state[1], W_hh_T)


class GRU(_RNNBase):
    """A stack of GRU layers, PyTorch's ``nn.GRU``.

    Each step is :class:`~tinygrad_rnn.nn.GRUCell` (gates r, z, n; equations there), the
    notes' gated update (6.390 notes C.49) with gate 1 - z_t. The loop, per layer and direction::

        xw = x @ weight_ih.T + bias_ih                # (T, B, 3H), all t at once
        for t in range(T):                            # reversed for _reverse
            hw = h @ weight_hh.T + bias_hh
            r, z = sigmoid(xw[t][:, :2H] + hw[:, :2H]) split in two
            n = tanh(xw[t][:, 2H:] + r * hw[:, 2H:])
            h = (1 - z) * n + z * h
            output[t] = h

    Shapes:
        As :class:`RNN`, with 3H rows in every weight and bias.

    Args:
        As :class:`RNN`, without ``nonlinearity``.

    Returns:
        ``forward(x, hx=None, lengths=None)`` -> ``(output, h_n)``.

    Raises:
        ValueError: bad sizes or dropout; in forward, see ``forward``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> gru = tr.nn.GRU(3, 4, num_layers=2)
        >>> output, h_n = gru(tr.Tensor.randn(5, 3))
        >>> output.shape, h_n.shape
        ((5, 4), (2, 4))
    """

    gates = 3
    fold_hh = False  # b_hn is multiplied by r_t, so b_hh cannot join the input projection

    def _step(self, xw_t: Tensor, state: tuple[Tensor, ...], W_hh_T: Tensor,
              b_hh: Tensor | None) -> tuple[Tensor, ...]:
        return (gru_step(xw_t, state[0], W_hh_T, b_hh),)
