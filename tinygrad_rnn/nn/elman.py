"""The lecture notes' own recurrent networks: ``ElmanRNN`` and ``GatedRNN``.

Both are written in the notation of the 6.390 notes (Appendix C, "Recurrent Neural
Networks"), so the code reads next to the equations:

    z^1_t = W^sx x_t + W^ss s_{t-1} + W_0^ss     (6.390 notes C.28, Back-propagation through time)
    s_t   = f_s(z^1_t)                          (6.390 notes C.29)
    z^2_t = W^o s_t + W_0^o                     (6.390 notes C.30)
    g_t   = f_o(z^2_t)                          (6.390 notes C.31; g_t is the prediction)

No backward code: ``loss.backward()`` walks the recorded, unrolled network back to
front, which *is* back-propagation through time. What step t sends back to ``s_prev``
is the notes' δ^{s_{t-1}} (C.41), and a weight used at every step collects the sums of
C.42-C.45; tests/nn/test_bptt_closed_form.py checks both against the notes' formulas.

Layout: the notes use column vectors; here a batch of B sequences is stored as rows, so
x has shape (T, B, l) and s_t has shape (B, m). A matrix-vector product W v becomes
v @ W^T: the notes' W^sx x_t is ``x_t @ W_sx.T``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import autograd
from .. import random as _random
from ..backend import get_backend, host
from ..ops import MatMul, stack, where
from ..tensor import Tensor
from .functional import activation
from .module import Module, Parameter
from .unroll import unbind_time

Activation = str | Callable[[Tensor], Tensor]

_STATE_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
_OUTPUT_ACTIVATIONS = (*_STATE_ACTIVATIONS, "softmax")


def _uniform_parameter(shape: tuple[int, ...], bound: float, device: Any, dtype: Any) -> Parameter:
    """A Parameter drawn uniformly from [-bound, bound) with the library's generator."""
    backend = get_backend(device)
    dtype = backend.dtype(dtype) if dtype is not None else backend.float32
    if not backend.is_floating(dtype):
        raise TypeError(f"dtype {dtype} is not floating; expected float32 or float64 for parameters")
    draw = host.uniform(_random.generator(), -bound, bound, shape, str(dtype))
    return Parameter(Tensor._make(backend.from_numpy(draw), backend))


def _affine(v: Tensor, W: Tensor, W_0: Tensor | None) -> Tensor:
    """W v + W_0 for every row of v at once: (..., k) -> (..., rows of W).

    The leading axes are flattened so the whole sequence costs one matrix product.
    """
    lead = v.shape[:-1]
    out = v.reshape(-1, v.shape[-1]) @ W.T
    if W_0 is not None:
        out = out + W_0
    return out.reshape(*lead, W.shape[0])


def _times_transpose(s_prev: Tensor, W: Tensor) -> Tensor:
    """s_prev W^T for batch rows: the notes' W s_{t-1} (one op, no transpose node)."""
    return s_prev._apply(MatMul, W, transpose_b=True)


def _shape_str(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


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

    For speed, the input term W^sx x_t + W_0^ss of C.28 is computed for all t in one
    matrix product before the loop, and C.30-C.31 for all t in one after it; only the
    W^ss s_{t-1} term has to wait for the previous step. Gradients come from the tape
    (back-propagation through time, notes C.32-C.45); the layer keeps no state between
    calls.

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
        device: "cpu", "cuda", ...  dtype: parameter dtype (default float32).

    Parameters (notes C.10-C.14), drawn uniformly from ±1/sqrt(m) (``tr.manual_seed``):
        W_sx (m, l), W_ss (m, m), W_ss0 (m,), W_o (n, m), W_o0 (n,).

    Raises:
        ValueError: a size is not a positive int, or an activation name is unknown.
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

    def __init__(
        self,
        input_size: int,
        state_size: int,
        output_size: int,
        f_s: Activation = "tanh",
        f_o: Activation = "identity",
        bias: bool = True,
        device: Any = "cpu",
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for what, size in (("input_size", input_size), ("state_size", state_size), ("output_size", output_size)):
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"{name}: {what}={size!r}; expected a positive int")
        m, n = state_size, output_size
        self.input_size, self.state_size, self.output_size, self.bias = input_size, m, n, bool(bias)
        self.f_s = activation(f_s, _STATE_ACTIVATIONS, f"{name} f_s")
        self.f_o = activation(f_o, _OUTPUT_ACTIVATIONS, f"{name} f_o")
        self._f_names = tuple(a if isinstance(a, str) else getattr(a, "__name__", repr(a)) for a in (f_s, f_o))
        bound = 1.0 / math.sqrt(m)
        self.W_sx = _uniform_parameter((m, input_size), bound, device, dtype)
        self.W_ss = _uniform_parameter((m, m), bound, device, dtype)
        self.W_ss0 = _uniform_parameter((m,), bound, device, dtype) if bias else None
        self.W_o = _uniform_parameter((n, m), bound, device, dtype)
        self.W_o0 = _uniform_parameter((n,), bound, device, dtype) if bias else None

    # ------------------------------------------------------------------ the model
    def _input_terms(self, x: Tensor) -> tuple[Tensor, ...]:
        """The parts of the step that depend on x_t only, for all t at once: W^sx x_t + W_0^ss (C.28)."""
        return (_affine(x, self.W_sx, self.W_ss0),)

    def _step(self, inputs_t: tuple[Tensor, ...], s_prev: Tensor) -> Tensor:
        """One transition s_t = f_s(z^1_t)   (6.390 notes C.28-C.29, Back-propagation through time).

        ``inputs_t[0]`` is W^sx x_t + W_0^ss, precomputed; s_prev is s_{t-1}, shape (B, m).
        """
        (input_term_t,) = inputs_t
        z1_t = input_term_t + _times_transpose(s_prev, self.W_ss)  # (C.28)
        return self.f_s(z1_t)  # (C.29)

    def forward(self, x: Tensor, s0: Tensor | None = None, lengths: Any = None) -> tuple[Tensor, Tensor]:
        """Run the machine over a batch of sequences (6.390 notes C.1-C.2, C.28-C.31).

        Args:
            x: inputs x_1..x_T, shape (T, B, l).
            s0: the initial state s_0, shape (B, m); zeros when omitted.
            lengths: optional ints n^(i), one per sequence, 1 <= n^(i) <= T (the notes' pairs
                may differ in length, C.3). After its last step a sequence's state is carried
                unchanged, and its outputs and states are 0, so a padded batch gives what
                running each sequence alone gives. Its last state is ``s[n^(i) - 1, i]``.

        Returns:
            ``(g, s)``: predictions (T, B, n) and states s_1..s_T (T, B, m).

        Raises:
            TypeError: x or s0 is not a Tensor, or a length is not an int.
            ValueError: x is not (T, B, l) with T >= 1, s0 is not (B, m), or the lengths
                are not one int in 1..T per sequence.
        """
        T, B = self._check_input(x)
        s_prev = self._check_initial_state(s0, x, B)
        active = self._active_steps(lengths, x, T, B)  # (T, B, 1) bool, or None
        inputs = list(zip(*(unbind_time(term) for term in self._input_terms(x)), strict=True))
        states = []
        for t in range(1, T + 1):
            with autograd.anomaly_context(f"{type(self).__name__} time step {t}"):
                s_t = self._step(inputs[t - 1], s_prev)
                if active is not None:  # a sequence that has ended keeps its state
                    s_t = where(active[t - 1], s_t, s_prev)
            states.append(s_t)
            s_prev = s_t
        s = stack(states, axis=0)
        g = self.f_o(_affine(s, self.W_o, self.W_o0))  # (C.30-C.31) for all t at once
        if active is not None:
            zero = s._make(s.backend.zeros((), s.dtype), s.backend)
            g, s = where(active, g, zero), where(active, s, zero)
        return g, s

    # ----------------------------------------------------------------- checks
    def _check_input(self, x: Any) -> tuple[int, int]:
        name, size = type(self).__name__, self.input_size
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: x is a {type(x).__name__}; expected a Tensor of shape (T, B, {size})")
        if x.ndim != 3 or x.shape[-1] != size:
            raise ValueError(
                f"{name}: x has shape {_shape_str(x.shape)}; expected (T, B, {size}) = "
                f"(time steps, batch, input_size={size})"
            )
        if x.shape[0] < 1:
            raise ValueError(f"{name}: x has shape {_shape_str(x.shape)}, with no time steps; expected T >= 1")
        return x.shape[0], x.shape[1]

    def _check_initial_state(self, s0: Any, x: Tensor, B: int) -> Tensor:
        name, m = type(self).__name__, self.state_size
        if s0 is None:
            return Tensor.zeros(B, m, device=x.device, dtype=self.W_ss.dtype)
        if not isinstance(s0, Tensor):
            raise TypeError(f"{name}: s0 is a {type(s0).__name__}; expected a Tensor of shape (B, m) = ({B}, {m})")
        if s0.shape != (B, m):
            raise ValueError(f"{name}: s0 has shape {_shape_str(s0.shape)}; expected (B, m) = ({B}, {m})")
        return s0

    def _active_steps(self, lengths: Any, x: Tensor, T: int, B: int) -> Tensor | None:
        """Boolean (T, B, 1): is step t (0-based) within sequence b's length?"""
        if lengths is None:
            return None
        name = type(self).__name__
        if hasattr(lengths, "tolist"):  # a Tensor or a NumPy array
            lengths = lengths.tolist()
        if not isinstance(lengths, (list, tuple)):
            raise TypeError(f"{name}: lengths expected a list of {B} ints, got {type(lengths).__name__}")
        lengths = list(lengths)
        if len(lengths) != B:
            raise ValueError(
                f"{name}: got {len(lengths)} lengths for a batch of {B} sequences; expected one length per sequence"
            )
        for n_i in lengths:
            if isinstance(n_i, bool) or not isinstance(n_i, int):
                raise TypeError(f"{name}: lengths {lengths} holds {n_i!r}; expected ints")
        bad = [n_i for n_i in lengths if not 1 <= n_i <= T]
        if bad:
            raise ValueError(
                f"{name}: lengths {lengths} include {bad}; expected every length in 1..T = 1..{T}"
            )
        steps = Tensor.arange(T, device=x.device).reshape(T, 1, 1)
        return steps < Tensor(lengths, device=x.device).reshape(1, B, 1)

    def extra_repr(self) -> str:
        f_s, f_o = self._f_names
        return (
            f"{self.input_size}, {self.state_size}, {self.output_size}, f_s={f_s!r}, f_o={f_o!r}, bias={self.bias}"
        )


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

    Shapes, arguments, ``forward`` and ``lengths`` are those of :class:`ElmanRNN`.

    Parameters: those of ElmanRNN, then W_gx (m, l), W_gs (m, m), W_g0 (m,).

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

    def __init__(
        self,
        input_size: int,
        state_size: int,
        output_size: int,
        f_s: Activation = "tanh",
        f_o: Activation = "identity",
        bias: bool = True,
        device: Any = "cpu",
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, state_size, output_size, f_s, f_o, bias, device, dtype)
        m = state_size
        bound = 1.0 / math.sqrt(m)
        self.W_gx = _uniform_parameter((m, input_size), bound, device, dtype)
        self.W_gs = _uniform_parameter((m, m), bound, device, dtype)
        self.W_g0 = _uniform_parameter((m,), bound, device, dtype) if bias else None

    def _input_terms(self, x: Tensor) -> tuple[Tensor, ...]:
        """W^sx x_t + W_0^ss (C.49) and W^gx x_t + W_0^g (C.48), for all t at once."""
        return (_affine(x, self.W_sx, self.W_ss0), _affine(x, self.W_gx, self.W_g0))

    def _step(self, inputs_t: tuple[Tensor, ...], s_prev: Tensor) -> Tensor:
        """One gated transition   (6.390 notes C.48-C.49, Simple gated recurrent networks).

        ``inputs_t`` holds W^sx x_t + W_0^ss and W^gx x_t + W_0^g, precomputed.
        """
        input_term_t, gate_input_t = inputs_t
        gate_t = (gate_input_t + _times_transpose(s_prev, self.W_gs)).sigmoid()  # (C.48)
        candidate_t = self.f_s(input_term_t + _times_transpose(s_prev, self.W_ss))  # f_s(z^1_t)
        return (1 - gate_t) * s_prev + gate_t * candidate_t  # (C.49)
