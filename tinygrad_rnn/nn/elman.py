"""The lecture notes' own recurrent networks, ``ElmanRNN`` and ``GatedRNN``, in the notation
of the 6.390 notes (Appendix C, "Recurrent Neural Networks"), so the code reads next to
the equations. Each keeps only its equation lines; the loop, the checks and the rule for
ragged batches are :mod:`.unroll`'s. BPTT is the tape: what step t sends back to
``s_prev`` is the notes' δ^{s_{t-1}} (C.41), and a weight used at every step collects the
sums of C.42-C.45 (tests/nn/test_bptt_closed_form.py checks both). Rows are batch
entries, so x is (T, B, l), s_t is (B, m), and the notes' W^sx x_t is ``x_t @ W_sx.T``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..tensor import Tensor
from .cells import uniform_parameter
from .checks import check_size
from .functional import activation
from .module import Module
from .unroll import State, check_state, project, sequence_batch, unroll

Activation = str | Callable[[Tensor], Tensor]

_STATE_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
_OUTPUT_ACTIVATIONS = (*_STATE_ACTIVATIONS, "softmax")


class ElmanRNN(Module):
    """The notes' recurrent neural network, a state machine made of two small networks.

    s_t = f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss)     (6.390 notes C.5, Recurrent neural networks)
    g_t = f_o(W^o s_t + W_0^o)                      (6.390 notes C.6; the notes' y_t, returned as g)

    Here g is the prediction sequence (notes C.15), not the gate of :class:`GatedRNN`.
    The forward pass is the plain per-step loop of C.28-C.31::

        s_prev = s_0
        for t = 1 .. T:
            z1_t = W^sx x_t + W^ss s_prev + W_0^ss      # C.28
            s_t  = f_s(z1_t)                            # C.29
            g_t  = f_o(W^o s_t + W_0^o)                 # C.30-C.31
            s_prev = s_t

    For speed, C.28's input term W^sx x_t + W_0^ss is one matrix product for all t before
    the loop and C.30-C.31 one after it; only W^ss s_{t-1} waits for the previous step.
    Gradients come from the tape (BPTT, notes C.32-C.45); no state is kept between calls.

    Shapes (T time steps, B sequences, l = input_size, m = state_size, n = output_size):
        x: (T, B, l). Rows are sequences: the notes' W^sx x_t is computed as x_t @ W_sx^T.
        s0: (B, m), default zeros.
        g: (T, B, n), the predictions g_1..g_T.  s: (T, B, m), the states s_1..s_T.

    Args:
        input_size: l, the size of x_t (notes C.7).
        state_size: m, the size of s_t (notes C.8).
        output_size: n, the size of g_t (the notes' v, C.9).
        f_s: state activation: "tanh", "relu", "sigmoid", "identity" or a callable on a Tensor.
        f_o: output activation: the same names plus "softmax" (over the last axis), or a callable.
        bias: keep the offsets W_0^ss and W_0^o (``W_ss0``, ``W_o0``).
        device: "cpu", "cuda", ...  dtype: parameter dtype (default float32). Parameters
            W_sx (m, l), W_ss (m, m), W_ss0 (m,), W_o (n, m), W_o0 (n,) (notes C.10-C.14)
            are drawn from U(-1/sqrt(m), 1/sqrt(m)) (``tr.manual_seed``).

    Raises:
        ValueError: a size is not a positive int, or an unknown activation name.
        TypeError: ``dtype`` is not a floating dtype.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> rnn = tr.nn.ElmanRNN(input_size=3, state_size=4, output_size=2)
        >>> x = tr.Tensor.randn(5, 2, 3)          # T=5 steps, B=2 sequences, l=3
        >>> g, s = rnn(x, lengths=[5, 3])         # the second sequence is 3 steps long
        >>> g.shape, s.shape
        ((5, 2, 2), (5, 2, 4))
        >>> s[3:, 1].tolist()                     # past its end: zeros
        [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """

    # name: shape in the sizes l, m, n (notes C.10-C.14); offsets (ending in 0) are None without bias
    _parameter_shapes = {"W_sx": "ml", "W_ss": "mm", "W_ss0": "m", "W_o": "nm", "W_o0": "n"}
    _input_weights = (("W_sx", "W_ss0"),)  # the terms of the step that depend on x_t only
    _recurrent_weights = ("W_ss",)  # those that multiply s_{t-1}

    def __init__(self, input_size: int, state_size: int, output_size: int, f_s: Activation = "tanh",
                 f_o: Activation = "identity", bias: bool = True, device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        sizes = {"l": check_size(name, "input_size", input_size), "m": check_size(name, "state_size", state_size),
                 "n": check_size(name, "output_size", output_size)}
        self.input_size, self.state_size, self.output_size = sizes["l"], sizes["m"], sizes["n"]
        self.bias = bool(bias)
        self.f_s = activation(f_s, _STATE_ACTIVATIONS, f"{name} f_s")
        self.f_o = activation(f_o, _OUTPUT_ACTIVATIONS, f"{name} f_o")
        self._f_names = tuple(a if isinstance(a, str) else getattr(a, "__name__", repr(a)) for a in (f_s, f_o))
        bound = 1.0 / math.sqrt(self.state_size)
        for key, shape in self._parameter_shapes.items():
            keep = self.bias or not key.endswith("0")
            value = uniform_parameter(tuple(sizes[c] for c in shape), bound, device, dtype) if keep else None
            setattr(self, key, value)

    # ------------------------------------------------------------------ the model
    def _step(self, inputs_t: tuple[Tensor, ...], s_prev: Tensor, W_T: tuple[Tensor, ...]) -> Tensor:
        """One transition s_t = f_s(z^1_t)   (6.390 notes C.28-C.29, Back-propagation through time).

        ``inputs_t[0]`` is W^sx x_t + W_0^ss, precomputed; s_prev is s_{t-1}, shape (B, m).
        """
        (input_term_t,), (W_ss_T,) = inputs_t, W_T
        z1_t = input_term_t + s_prev @ W_ss_T  # (C.28)
        return self.f_s(z1_t)  # (C.29)

    def forward(self, x: Tensor, s0: Tensor | None = None, lengths: Any = None) -> tuple[Tensor, Tensor]:
        """Run the machine over a batch of sequences (6.390 notes C.1-C.2, C.28-C.31).

        Args:
            x: inputs x_1..x_T, shape (T, B, l).
            s0: the initial state s_0, shape (B, m); zeros when omitted.
            lengths: optional ints n^(i), one per sequence, 1 <= n^(i) <= T (the notes' pairs
                may differ in length, C.3). The rule of every recurrent layer (:mod:`.unroll`):
                x past n^(i) is never read, g and s there are 0, so a padded batch gives what
                each sequence alone gives; the final state is ``s[n^(i) - 1, i]``.

        Returns:
            ``(g, s)``: predictions (T, B, n) and states s_1..s_T (T, B, m).

        Raises:
            TypeError, ValueError: x is not a (T, B, l) Tensor with T >= 1, s0 not a (B, m)
                one, or the lengths are not one int in 1..T per sequence.
        """
        name, m = type(self).__name__, self.state_size
        x, _, ragged = sequence_batch(name, x, self.input_size, lengths, unbatched_ok=False)
        B = x.shape[1]
        if s0 is None:
            s0 = Tensor.zeros(B, m, device=x.device, dtype=x.dtype)
        s0 = check_state(name, "s0", s0, (B, m), f"(B, m) = ({B}, {m})")
        terms = tuple(project(x, getattr(self, W), getattr(self, b)) for W, b in self._input_weights)
        W_T = tuple(getattr(self, W).T for W in self._recurrent_weights)  # once: rows are batch entries

        def step(inputs_t: tuple[Tensor, ...], state: State) -> State:
            return (self._step(inputs_t, state[0], W_T),)

        s, _ = unroll(step, terms, (s0,), ragged, name + " time step {t}", count_from=1)
        g = ragged.zero_past_ends(self.f_o(project(s, self.W_o, self.W_o0)))  # (C.30-C.31) for all t at once
        return ragged.pad(g), ragged.pad(s)

    def extra_repr(self) -> str:
        f_s, f_o = self._f_names
        return f"{self.input_size}, {self.state_size}, {self.output_size}, f_s={f_s!r}, f_o={f_o!r}, bias={self.bias}"


class GatedRNN(ElmanRNN):
    """The notes' simple gated recurrent network: ElmanRNN plus a gating network.

    gate_t = sigmoid(W^gx x_t + W^gs s_{t-1} + W_0^g)                      (6.390 notes C.48)
    s_t    = (1 - gate_t) * s_{t-1} + gate_t * f_s(W^sx x_t + W^ss s_{t-1} + W_0^ss)   (C.49)
    g_t    = f_o(W^o s_t + W_0^o)                                           (C.6)

    The notes call the gate g_t too; in code it is ``gate_t``, and the returned ``g`` is
    the prediction. The gate decides, for each dimension of the state, how much of it is
    rewritten at this step (``*`` is component-wise). C.48 omits the offset W_0^g "for
    simplicity"; here it is ``W_g0`` (dropped with ``bias=False``). The per-step loop::

        s_prev = s_0
        for t = 1 .. T:
            gate_t = sigmoid(W^gx x_t + W^gs s_prev + W_0^g)                        # C.48
            s_t = (1 - gate_t) * s_prev + gate_t * f_s(W^sx x_t + W^ss s_prev + W_0^ss)   # C.49
            g_t = f_o(W^o s_t + W_0^o)                                              # C.6
            s_prev = s_t

    Shapes, arguments, ``forward`` and ``lengths`` are those of :class:`ElmanRNN`; the
    parameters are ElmanRNN's, then W_gx (m, l), W_gs (m, m), W_g0 (m,).

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> rnn = tr.nn.GatedRNN(input_size=3, state_size=4, output_size=2)
        >>> g, s = rnn(tr.Tensor.randn(5, 2, 3))
        >>> g.shape, s.shape
        ((5, 2, 2), (5, 2, 4))
        >>> list(rnn.state_dict())
        ['W_sx', 'W_ss', 'W_ss0', 'W_o', 'W_o0', 'W_gx', 'W_gs', 'W_g0']
    """

    _parameter_shapes = {**ElmanRNN._parameter_shapes, "W_gx": "ml", "W_gs": "mm", "W_g0": "m"}
    _input_weights = (("W_sx", "W_ss0"), ("W_gx", "W_g0"))
    _recurrent_weights = ("W_ss", "W_gs")

    def _step(self, inputs_t: tuple[Tensor, ...], s_prev: Tensor, W_T: tuple[Tensor, ...]) -> Tensor:
        """One gated transition   (6.390 notes C.48-C.49, Simple gated recurrent networks).

        ``inputs_t`` holds W^sx x_t + W_0^ss and W^gx x_t + W_0^g, precomputed.
        """
        (input_term_t, gate_input_t), (W_ss_T, W_gs_T) = inputs_t, W_T
        gate_t = (gate_input_t + s_prev @ W_gs_T).sigmoid()  # (C.48)
        candidate_t = self.f_s(input_term_t + s_prev @ W_ss_T)  # f_s(z^1_t)
        return (1 - gate_t) * s_prev + gate_t * candidate_t  # (C.49)
