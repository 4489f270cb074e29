"""The worked examples of the 6.390 notes (C.2.8, C.2.9) as ElmanRNNs with the notes' weights.

Both examples are linear, f_s(z) = f_o(z) = z, so the expected numbers below are worked
out by hand from the rules the notes state, step by step.

Two slips in the notes, found while writing these tests:

* Example 1 (C.2.8) asks for Y_t = 0.5 X_t + 0.3 X_{t-1} + 0.2 X_{t-2} with the state
  s_t = [X_{t-2}, X_{t-1}, X_t]^T, so W^o = [0.2 0.3 0.5]. The notes print
  W^o = [0.5 0.3 0.2] (and [0.5 0.2 0.2] in Remark 14), which weighs the oldest input
  most; ``test_example_1_as_printed_reverses_the_weights`` shows what that one computes.
* Example 2 (C.2.9) says in words that 10% of the investments go into the bank, but its
  equation C.23 and its W^ss use 0.2. We follow the equations.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn


def _linear_rnn(weights: dict[str, list], device: str = "cpu") -> nn.ElmanRNN:
    W_ss = np.array(weights["W_ss"], dtype=np.float64)
    W_o = np.array(weights["W_o"], dtype=np.float64)
    model = nn.ElmanRNN(input_size=1, state_size=W_ss.shape[0], output_size=W_o.shape[0],
                        f_s="identity", f_o="identity", device=device, dtype="float64")
    model.load_state_dict({k: np.array(v, dtype=np.float64) for k, v in weights.items()})
    return model


# ------------------------------------------------------------------ Example 1 (C.2.8)
EXAMPLE_1 = {  # Remark 14, with W^o in the order of the state [X_{t-2}, X_{t-1}, X_t]
    "W_ss": [[0, 1, 0], [0, 0, 1], [0, 0, 0]],  # shift the stored inputs up by one
    "W_sx": [[0], [0], [1]],  # put X_t in the last slot
    "W_ss0": [0, 0, 0],
    "W_o": [[0.2, 0.3, 0.5]],  # Y_t = 0.5 X_t + 0.3 X_{t-1} + 0.2 X_{t-2}
    "W_o0": [0],
}


def test_example_1_weighted_average_of_last_three_inputs(device: str) -> None:
    model = _linear_rnn(EXAMPLE_1, device)
    X = [1.0, 2.0, 4.0, 8.0, 16.0]
    g, s = model(Tensor(np.array(X).reshape(5, 1, 1), device=device))
    # s_t = [X_{t-2}, X_{t-1}, X_t] with X_t = 0 for t <= 0 (s_0 = 0)
    assert s.numpy()[:, 0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 4], [2, 4, 8], [4, 8, 16]]
    # Y_1 = 0.5*1                     = 0.5
    # Y_2 = 0.5*2  + 0.3*1            = 1.3
    # Y_3 = 0.5*4  + 0.3*2  + 0.2*1   = 2.8
    # Y_4 = 0.5*8  + 0.3*4  + 0.2*2   = 5.6
    # Y_5 = 0.5*16 + 0.3*8  + 0.2*4   = 11.2
    np.testing.assert_allclose(g.numpy().ravel(), [0.5, 1.3, 2.8, 5.6, 11.2], rtol=1e-14)


def test_example_1_output_forgets_inputs_older_than_three_steps() -> None:
    # BPTT on the notes' weights: dY_6/dX_t is the weight the average gives X_t.
    model = _linear_rnn(EXAMPLE_1)
    x = Tensor(np.arange(1.0, 7.0).reshape(6, 1, 1), requires_grad=True)
    g, _ = model(x)
    g[5].sum().backward()
    np.testing.assert_allclose(x.grad.numpy().ravel(), [0, 0, 0, 0.2, 0.3, 0.5], atol=1e-15)


def test_example_1_as_printed_reverses_the_weights() -> None:
    printed = dict(EXAMPLE_1, W_o=[[0.5, 0.3, 0.2]])  # W^o as printed after C.17
    g, _ = _linear_rnn(printed)(Tensor(np.array([1.0, 2.0, 4.0]).reshape(3, 1, 1)))
    # 0.5 X_{t-2} + 0.3 X_{t-1} + 0.2 X_t at t = 3: 0.5*1 + 0.3*2 + 0.2*4 = 1.9, not 2.8
    assert g.numpy().ravel()[2] == pytest.approx(1.9, rel=1e-14)


# ------------------------------------------------------------------ Example 2 (C.2.9)
EXAMPLE_2 = {  # Remark 16; state [s^B (bank), s^I (investments)], input x^E (earnings)
    "W_ss": [[1, 0.2], [0, 1.01]],
    "W_sx": [[0.8], [0.2]],
    "W_ss0": [-6000, 0],
    "W_o": [[1, 1]],  # net worth = bank + investments
    "W_o0": [0],
}


def test_example_2_bank_and_investments(device: str) -> None:
    model = _linear_rnn(EXAMPLE_2, device)
    earnings = [10000.0, 10000.0, 10000.0, 0.0]
    g, s = model(Tensor(np.array(earnings).reshape(4, 1, 1), device=device))
    # s^B_t = s^B_{t-1} + 0.2 s^I_{t-1} + 0.8 x^E_t - 6000     (C.23)
    # s^I_t = 1.01 s^I_{t-1} + 0.2 x^E_t                       (C.25)
    # t=1: s^B = 0 + 0 + 8000 - 6000               = 2000     s^I = 0 + 2000              = 2000
    # t=2: s^B = 2000 + 400 + 8000 - 6000          = 4400     s^I = 2020 + 2000           = 4020
    # t=3: s^B = 4400 + 804 + 8000 - 6000          = 7204     s^I = 4060.2 + 2000         = 6060.2
    # t=4: s^B = 7204 + 1212.04 + 0 - 6000         = 2416.04  s^I = 6120.802 + 0          = 6120.802
    expected_s = [[2000, 2000], [4400, 4020], [7204, 6060.2], [2416.04, 6120.802]]
    np.testing.assert_allclose(s.numpy()[:, 0], expected_s, rtol=1e-12)
    # y_t = s^B_t + s^I_t                                        (C.30)
    np.testing.assert_allclose(g.numpy().ravel(), [4000, 8420, 13264.2, 8536.842], rtol=1e-12)


def test_example_2_from_savings_two_people_in_one_batch() -> None:
    # Two people with different starting states s_0 and earnings, in one batch.
    model = _linear_rnn(EXAMPLE_2)
    earnings = np.array([[5000.0, 12000.0], [5000.0, 0.0]]).reshape(2, 2, 1)  # (T, B, 1)
    s0 = Tensor(np.array([[10000.0, 0.0], [0.0, 50000.0]]))
    g, s = model(Tensor(earnings), s0)
    # person 0: t=1: s^B = 10000 + 0 + 4000 - 6000 = 8000,  s^I = 0 + 1000 = 1000
    #           t=2: s^B = 8000 + 200 + 4000 - 6000 = 6200, s^I = 1010 + 1000 = 2010
    # person 1: t=1: s^B = 0 + 10000 + 9600 - 6000 = 13600, s^I = 50500 + 2400 = 52900
    #           t=2: s^B = 13600 + 10580 + 0 - 6000 = 18180, s^I = 53429 + 0 = 53429
    np.testing.assert_allclose(s.numpy(), [[[8000, 1000], [13600, 52900]], [[6200, 2010], [18180, 53429]]],
                               rtol=1e-12)
    np.testing.assert_allclose(g.numpy()[:, :, 0], [[9000, 66500], [8210, 71609]], rtol=1e-12)
