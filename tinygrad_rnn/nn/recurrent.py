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
from .cells import GRUCell, LSTMCell, RecurrentFamily, RNNCell, add_weights, gru_step, lstm_step, rnn_step_with
from .checks import check_size
from .functional import dropout
from .unroll import Ragged, State, initial_state, sequence_batch, unroll

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]


class _RNNBase(RecurrentFamily):
    """Parameters, checks and the unrolled loop shared by RNN, LSTM and GRU.

    A layer is a stack of L = ``num_layers`` layers, each run in D directions (D = 2 if
    ``bidirectional``, else 1); layer k > 0 reads layer k-1's output (both directions
    concatenated), with dropout in between in training mode. Each step is the step of
    the layer's cell (``gates``, ``step`` and ``biases_summed_in_projection`` as there).

    Shapes:
        x: (T, B, I) ((B, T, I) if ``batch_first``; (T, I) unbatched).
        hx, h_n (and the LSTM's c0, c_n): (L*D, B, H) ((L*D, H) unbatched).
        output: (T, B, D*H).  ``weight_ih_l0``: (gates*H, I), ``weight_ih_l{k>0}``:
        (gates*H, D*H), ``weight_hh_l{k}``: (gates*H, H), biases (gates*H,); the reverse
        direction's parameters end in ``_reverse``.

    Args:
        Those of the family (:class:`~.cells.RecurrentFamily`), and num_layers: L, stacked
        layers.  batch_first: x and output are (B, T, ...).  dropout: probability of zeroing
        the outputs of each layer but the last, in training mode.  bidirectional: add a
        layer running from the last step to the first (``_reverse``).

    Raises:
        ValueError: bad sizes, dropout (or nonlinearity); in forward, see ``forward``.
    """

    _defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False,
                 "nonlinearity": "tanh"}

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        name, H = self._init_sizes(input_size, hidden_size, bias), self.hidden_size
        self.num_layers = check_size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout={dropout!r}; expected a probability in [0, 1)")
        self.batch_first, self.bidirectional = bool(batch_first), bool(bidirectional)
        self.dropout = float(dropout)
        self.num_directions = 2 if self.bidirectional else 1
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else H * self.num_directions
            for suffix in (f"_l{k}", f"_l{k}_reverse")[: self.num_directions]:
                add_weights(self, suffix, self.gates, layer_input, H, self.bias, device, dtype)

    def forward(self, x: Tensor, hx: Any = None, lengths: Any = None) -> tuple[Tensor, Any]:
        """Run every layer and direction over the sequence.

        Args:
            x: (T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I).
            hx: the initial state (L*D, B, H) ((L*D, H) unbatched); LSTM: a pair
                ``(h0, c0)``. None means zeros. Row ``k*D + d`` is layer k, direction d.
            lengths: one int per sequence (a list, or an int Tensor), each in 1..T, in any
                order: x past a sequence's length is never read, outputs there are 0, and
                ``h_n`` holds (a reverse direction starts from) the state at its own last
                step (the rule of :mod:`.unroll`).

        Returns:
            ``(output, h_n)``, LSTM ``(output, (h_n, c_n))``: output (T, B, D*H) (batch
            first if ``batch_first``), the last layer's states, both directions
            concatenated; h_n, c_n (L*D, B, H), the final state of every layer and
            direction (never batch first).

        Raises:
            ValueError: x, hx or lengths of the wrong shape or value (all named).
        """
        name, L, D = type(self).__name__, self.num_layers, self.num_directions
        layer_input, unbatched, ragged = sequence_batch(name, x, self.input_size, lengths, self.batch_first)
        parts = 2 if self.gates == 4 else 1
        B, H = layer_input.shape[1], self.hidden_size
        states = initial_state(name, hx, layer_input, B, H, parts, unbatched, rows=L * D)  # each (L*D, B, H)
        finals = []
        for k in range(L):
            outputs = []
            for d in range(D):
                out, final = self._run_direction(layer_input, k, d == 1, tuple(s[k * D + d] for s in states), ragged)
                outputs.append(out)
                finals.append(final)
            layer_input = outputs[0] if D == 1 else cat(outputs, axis=2)
            if self.dropout and self.training and k < L - 1:
                layer_input = dropout(layer_input, self.dropout, training=True)
        output = ragged.pad(layer_input)
        h_n = [stack([final[i] for final in finals]) for i in range(parts)]
        if unbatched:
            output = output.reshape(ragged.T, output.shape[2])
            h_n = [s.reshape(L * D, H) for s in h_n]
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        return output, (h_n[0] if parts == 1 else tuple(h_n))

    def _run_direction(self, x: Tensor, k: int, reverse: bool, state: State,
                       ragged: Ragged) -> tuple[Tensor, State]:
        """Unroll layer k in one direction over x (T, B, I): outputs (T, B, H), final state."""
        suffix = f"_l{k}_reverse" if reverse else f"_l{k}"
        label = f"{type(self).__name__} layer {k}{' reverse' if reverse else ''}"
        with anomaly_context(f"{label}, input projection"):
            xw, W_hh_T, b_hh = self._projection(x, suffix)

        def step(inputs_t: tuple[Tensor, ...], state: State) -> State:
            return self.step(inputs_t[0], state, W_hh_T, b_hh)

        return unroll(step, (xw,), state, ragged, label + ", time step {t}", reverse=reverse)


class RNN(_RNNBase):
    """A stack of Elman RNN layers: the notes' recurrent network, PyTorch's ``nn.RNN``.

    For each layer k and time step t (6.390 notes C.5, with W^sx = ``weight_ih_l{k}``,
    W^ss = ``weight_hh_l{k}`` and W_0^ss = ``bias_ih_l{k} + bias_hh_l{k}``):

        s_t = f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss),   f_s = tanh or relu (``nonlinearity``)

    The loop it runs, per layer and direction (rows are batch entries)::

        xw = x @ weight_ih.T + bias_ih + bias_hh      # all t at once
        for t in range(T):                            # reversed for _reverse
            h = f_s(xw[t] + h @ weight_hh.T)
            output[t] = h

    Shapes, arguments and errors: those of the family (``_RNNBase``), with H rows per
    weight; ``forward(x, hx=None, lengths=None)`` -> ``(output, h_n)``.

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
        step = rnn_step_with(nonlinearity, "RNN")  # checked before any weight is drawn
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)
        self.nonlinearity, self.step = nonlinearity, step


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

    Shapes, arguments and errors: those of the family (``_RNNBase``), with 4H rows per
    weight; hx = (h0, c0), and ``forward`` -> ``(output, (h_n, c_n))``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> lstm = tr.nn.LSTM(3, 4, batch_first=True)
        >>> output, (h_n, c_n) = lstm(tr.Tensor.randn(2, 5, 3))
        >>> output.shape, h_n.shape, c_n.shape
        ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    """

    gates = 4
    step = staticmethod(lstm_step)


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

    Shapes, arguments and errors: those of the family (``_RNNBase``), with 3H rows per
    weight; ``forward(x, hx=None, lengths=None)`` -> ``(output, h_n)``.

    Example:
        >>> import tinygrad_rnn as tr
        >>> gru = tr.nn.GRU(3, 4, num_layers=2)
        >>> output, h_n = gru(tr.Tensor.randn(5, 3))
        >>> output.shape, h_n.shape
        ((5, 4), (2, 4))
    """

    gates = 3
    biases_summed_in_projection = False  # b_hn is multiplied by r_t
    step = staticmethod(gru_step)
