"""Anomaly mode: ``with tr.detect_anomaly():`` the first op whose forward or backward
makes a NaN or Inf raises ``FloatingPointError`` naming the op and, inside a recurrent
layer, the time step. This is how an exploding RNN is tracked down."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings are the point


def exploding_relu_rnn(device: str) -> nn.RNN:
    """h_t = relu(x_t + 1e20 h_{t-1}) in float32 with x_t = 1: h_0 = 1, h_1 = 1e20, and
    at step 2 the product 1e20 * 1e20 = 1e40 overflows float32 (max 3.4e38)."""
    rnn = nn.RNN(1, 1, nonlinearity="relu", bias=False, device=device)
    rnn.load_state_dict({"weight_ih_l0": np.ones((1, 1)), "weight_hh_l0": np.full((1, 1), 1e20)})
    return rnn


def test_an_exploding_rnn_is_caught_at_the_step_that_overflows(device: str) -> None:
    rnn = exploding_relu_rnn(device)
    x = Tensor.ones(5, 1, 1, device=device)
    output, _ = rnn(x)  # without anomaly mode the overflow goes through silently
    assert np.isinf(output.numpy()[2:]).all() and np.isfinite(output.numpy()[:2]).all()
    with tr.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        rnn(x)
    message = str(info.value)
    assert "MatMul.forward" in message  # h_{t-1} W_hh^T is the op that overflows
    assert "RNN layer 0, time step 2" in message


def test_the_first_bad_op_is_named_not_a_later_one(device: str) -> None:
    # s_t = log(x_t + s_{t-1}): s_1 = log 2, s_2 = log(2 + log 2), then log(-5 + 0.99) is NaN at step 3.
    model = nn.ElmanRNN(1, 1, 1, f_s=Tensor.log, bias=False, device=device, dtype="float64")
    model.load_state_dict({"W_sx": np.ones((1, 1)), "W_ss": np.ones((1, 1)), "W_o": np.ones((1, 1))})
    x = Tensor(np.array([2.0, 2.0, -5.0, 1.0]).reshape(4, 1, 1), device=device)
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match=r"Log\.forward .*ElmanRNN time step 3"):
        model(x)  # steps 4 and the output layer would spread the NaN: the error names its source


def test_a_nan_made_only_by_backward_names_the_op_and_the_step(device: str) -> None:
    # f_s(z) = sqrt(relu(z)): at step 3, z = -5 + sqrt(2) < 0, so s_3 = sqrt(0) = 0: finite.
    # Backward through sqrt at 0 is grad / (2 * 0) = inf: only the backward pass goes bad.
    model = nn.ElmanRNN(1, 1, 1, f_s=lambda z: z.relu().sqrt(), bias=False, device=device, dtype="float64")
    model.load_state_dict({"W_sx": np.ones((1, 1)), "W_ss": np.ones((1, 1)), "W_o": np.ones((1, 1))})
    x = Tensor(np.array([1.0, 1.0, -5.0, 1.0]).reshape(4, 1, 1), device=device)
    with tr.detect_anomaly():
        g, s = model(x)
        assert np.isfinite(g.numpy()).all() and s.numpy()[2, 0, 0] == 0.0
        with pytest.raises(FloatingPointError) as info:
            g.sum().backward()
    message = str(info.value)
    assert "Sqrt.backward" in message and "ElmanRNN time step 3" in message
    model.zero_grad()
    g, _ = model(x)
    g.sum().backward()  # outside anomaly mode: the NaN reaches the weights silently
    assert np.isnan(model.W_ss.grad.numpy()).all()


def test_backward_of_a_plain_op_names_it() -> None:
    x = Tensor([0.0, 4.0], requires_grad=True, dtype="float64")
    y = (x.sqrt() * 3.0).sum()  # recorded outside anomaly mode: the check still works in backward
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match=r"Sqrt\.backward produced NaN or Inf"):
        y.backward()
    a = Tensor([1.0], requires_grad=True, dtype="float64")
    b = Tensor([1e-200], requires_grad=True, dtype="float64")
    y = (a / b).sum()  # 1e200: finite; but d/db = -a / b**2 and b**2 underflows to 0
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match=r"Div\.backward produced NaN or Inf"):
        y.backward()


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_gated_layers_name_the_layer_direction_and_step(cls: type, device: str) -> None:
    layer = cls(2, 3, num_layers=2, bidirectional=True, device=device, dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 1, 2))
    x[2, 0, 0] = np.inf  # an Inf arriving at step 2 poisons the first op that reads it
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match=f"{cls.__name__} layer 0"):
        layer(Tensor(x, device=device))
    ok = Tensor(np.nan_to_num(x, posinf=0.0), device=device)
    with tr.detect_anomaly():
        output, _ = layer(ok)  # a finite input passes untouched
        output.sum().backward()
    # A huge initial state for layer 1's reverse direction (row k * D + d = 3): its
    # product with W_hh overflows at that direction's first step, the last one, T - 1 = 3.
    h0 = np.zeros((4, 1, 3))
    h0[3] = 1e308
    hx = Tensor(h0, device=device)
    if cls is nn.LSTM:
        hx = (hx, Tensor.zeros(4, 1, 3, device=device, dtype="float64"))
    layer.weight_hh_l1_reverse.data = layer.weight_hh_l1_reverse.data * 0.0 + 1.0
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match=f"{cls.__name__} layer 1 reverse, time step 3"):
        layer(ok, hx)


def test_anomaly_mode_is_scoped_and_restored() -> None:
    bad = Tensor([-1.0])
    with tr.detect_anomaly():
        with pytest.raises(FloatingPointError):
            bad.log()
        with pytest.raises(FloatingPointError):  # still on after an error inside the block
            bad.sqrt()
    assert np.isnan(bad.log().numpy()).all()  # off again outside

    @tr.detect_anomaly()
    def step() -> Tensor:
        return bad.log()

    with pytest.raises(FloatingPointError):
        step()
    assert np.isnan(bad.log().numpy()).all()


def test_integer_and_finite_results_are_never_flagged() -> None:
    with tr.detect_anomaly():
        ids = Tensor([1, 2, 3])
        assert (ids * 2).tolist() == [2, 4, 6]
        x = Tensor([1e30, -1e30], requires_grad=True)
        x.tanh().sum().backward()  # saturated, but finite
        assert np.isfinite(x.grad.numpy()).all()
