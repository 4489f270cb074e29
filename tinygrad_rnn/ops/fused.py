"""Fused cell ops: the elementwise chain every LSTM or GRU step repeats, as one op.

Written out with Tensor ops, one LSTM step's gate nonlinearities and state update are
about a dozen small ops, each a node on the tape and a pass over memory, forward and
backward. A fused op does the chain in one forward pass and one backward pass.

Each fused op keeps three views of the same math, side by side:

* ``composite``: the definition, in plain Tensor ops. It is the reference: the tests
  check that the fused forward equals it, and ``backward(create_graph=True)``
  differentiates it, so second derivatives are exact through fused cells too.
* ``forward``: the chain on backend arrays, in one pass.
* ``backward_arrays``: the textbook derivative of the chain, on arrays, in one pass.
  Used by a plain ``backward()``; ``tr.gradcheck`` proves it right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import autograd
from ..autograd import Function
from ..config import config
from .movement import cat

if TYPE_CHECKING:
    from ..tensor import Tensor


class Fused(Function):
    """Base of fused ops: backward is ``backward_arrays`` (plain) or the composite's
    derivative (``create_graph``)."""

    def composite(self, *inputs: Tensor) -> Tensor:
        raise NotImplementedError

    def backward_arrays(self, grad: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, ...]:
        if config.grad_enabled:
            # create_graph: differentiate the definition, on the tape. Only this op's own
            # partial derivatives: the walk stops at the inputs.
            reference = self.composite(*self.inputs)
            partial = autograd.backward(reference, grad, create_graph=True, accumulate=False,
                                   capture=self.inputs, stop_at_capture=True)
            return tuple(partial.get(id(x)) for x in self.inputs)
        return tuple(None if a is None else grad._make(a, grad.backend) for a in self.backward_arrays(grad._data))


def _sigmoid_in_place(backend: Any, a: Any) -> None:
    """a <- sigmoid(a) = 1 / (1 + exp(-a)) as (1 + tanh(a/2)) / 2 (no overflow), without temporaries."""
    a *= 0.5
    backend.tanh(a, out=a)
    a *= 0.5
    a += 0.5


class LSTMPointwise(Fused):
    """lstm_pointwise: one LSTM step after the matmuls; a = xw + hw = [a_i a_f a_g a_o]
        i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
        c_t = f * c_prev + i * g,   h_t = o * tanh(c_t),   y = [h_t | c_t]
    With dh, dc the two halves of grad and dc_total = dc + dh * o * (1 - tanh(c_t)^2):
    dxw = dhw = [dc_total * g * i (1 - i), dc_total * c_prev * f (1 - f),
                 dc_total * i * (1 - g^2), dh * tanh(c_t) * o (1 - o)]
    dc_prev = dc_total * f
    """

    def forward(self, xw: Any, hw: Any, c_prev: Any) -> Any:
        backend = self.backend
        H = c_prev.shape[-1]
        a = xw + hw  # a fresh array: the gate nonlinearities are applied to its blocks in place
        _sigmoid_in_place(backend, a[:, : 2 * H])
        _sigmoid_in_place(backend, a[:, 3 * H :])
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        backend.tanh(g, out=g)
        c = f * c_prev + i * g
        tanh_c = backend.tanh(c)
        self.saved = (i, f, g, o, tanh_c, c_prev)
        return backend.concatenate([o * tanh_c, c], axis=-1)

    def backward_arrays(self, grad: Any) -> tuple[Any, ...]:
        backend = self.backend
        i, f, g, o, tanh_c, c_prev = self.saved
        H = c_prev.shape[-1]
        dh, dc = grad[:, :H], grad[:, H:]
        dc_total = dc + dh * o * (1 - tanh_c * tanh_c)
        da = backend.concatenate(
            [
                dc_total * g * i * (1 - i),
                dc_total * c_prev * f * (1 - f),
                dc_total * i * (1 - g * g),
                dh * tanh_c * o * (1 - o),
            ],
            axis=-1,
        )
        return da, da, dc_total * f

    def composite(self, xw: Tensor, hw: Tensor, c_prev: Tensor) -> Tensor:
        H = c_prev.shape[-1]
        a = xw + hw
        i, f, o = a[:, :H].sigmoid(), a[:, H : 2 * H].sigmoid(), a[:, 3 * H :].sigmoid()
        g = a[:, 2 * H : 3 * H].tanh()
        c = f * c_prev + i * g
        return cat([o * c.tanh(), c], axis=-1)


def lstm_pointwise(xw: Tensor, hw: Tensor, c_prev: Tensor) -> Tensor:
    """[h_t | c_t] (B, 2H) from the two (B, 4H) gate terms and c_prev (B, H); gate order i, f, g, o."""
    _check_gates("lstm_pointwise", 4, xw, hw, c_prev)
    return xw._apply(LSTMPointwise, hw, c_prev)


class GRUPointwise(Fused):
    """gru_pointwise: one GRU step after the matmuls; xw = [x_r x_z x_n], hw + b = [h_r h_z h_n]
        r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r * h_n)
        h_t = (1 - z) * n + z * h_prev
    With dn = grad (1 - z) (1 - n^2), dr = dn * h_n * r (1 - r), dz = grad (h_prev - n) z (1 - z):
    dxw = [dr, dz, dn]
    dhw = [dr, dz, dn * r]
    db = sum of dhw over the batch
    dh_prev = grad * z
    """

    def forward(self, xw: Any, hw: Any, b: Any, h_prev: Any) -> Any:
        backend = self.backend
        H = h_prev.shape[-1]
        hb = hw + b
        rz = xw[:, : 2 * H] + hb[:, : 2 * H]  # a fresh array: sigmoid in place
        _sigmoid_in_place(backend, rz)
        r, z = rz[:, :H], rz[:, H:]
        h_n = hb[:, 2 * H :]
        n = xw[:, 2 * H :] + r * h_n
        backend.tanh(n, out=n)
        self.saved = (r, z, n, h_n, h_prev)
        return n + z * (h_prev - n)

    def backward_arrays(self, grad: Any) -> tuple[Any, ...]:
        backend = self.backend
        r, z, n, h_n, h_prev = self.saved
        dn = grad * (1 - z) * (1 - n * n)
        dr = dn * h_n * r * (1 - r)
        dz = grad * (h_prev - n) * z * (1 - z)
        dhw = backend.concatenate([dr, dz, dn * r], axis=-1)
        db = backend.sum(dhw, axis=0) if self.inputs[2].requires_grad else None
        return backend.concatenate([dr, dz, dn], axis=-1), dhw, db, grad * z

    def composite(self, xw: Tensor, hw: Tensor, b: Tensor, h_prev: Tensor) -> Tensor:
        H = h_prev.shape[-1]
        hb = hw + b
        r = (xw[:, :H] + hb[:, :H]).sigmoid()
        z = (xw[:, H : 2 * H] + hb[:, H : 2 * H]).sigmoid()
        n = (xw[:, 2 * H :] + r * hb[:, 2 * H :]).tanh()
        return n + z * (h_prev - n)


def gru_pointwise(xw: Tensor, hw: Tensor, h_prev: Tensor, b: Tensor | None = None) -> Tensor:
    """h_t (B, H) from the (B, 3H) gate terms xw = x W_ih^T + b_ih and hw = h_prev W_hh^T,
    the bias b = b_hh (3H,) (None: no bias) and h_prev (B, H)."""
    _check_gates("gru_pointwise", 3, xw, hw, h_prev)
    if b is None:
        b = hw._make(hw.backend.zeros((hw.shape[1],), hw.dtype), hw.backend)
    elif b.shape != (hw.shape[1],):
        raise ValueError(f"gru_pointwise: bias has shape {b.shape}; expected ({hw.shape[1]},)")
    return xw._apply(GRUPointwise, hw, b, h_prev)


def _check_gates(name: str, k: int, xw: Tensor, hw: Tensor, state: Tensor) -> None:
    if state.ndim != 2 or xw.shape != (state.shape[0], k * state.shape[1]) or hw.shape != xw.shape:
        raise ValueError(
            f"{name}: got gate terms of shapes {xw.shape} and {hw.shape} and a state of shape {state.shape}; "
            f"expected (B, {k}H), (B, {k}H) and (B, H)"
        )
