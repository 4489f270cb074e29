"""A graph never reads data that changed after it was recorded.

Every in-place change (optimizer step, load_state_dict, nn.init, in-place ops, assignment
to .data) takes a new version; backward refuses an op whose saved tensors are newer. A
raw write into a leaf's array that a recorded op reads fails at the write (NumPy).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim

MODIFIED = "modified in place after the op was recorded"


def test_backward_after_an_optimizer_step_is_refused() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    assert w.grad.tolist() == [2.0, 4.0]
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match=rf"Mul reads its input 0 .*shape \(2,\).*{MODIFIED}"):
        loss.backward()


@pytest.mark.parametrize("layer", ["elman", "lstm"])
def test_graph_reused_after_load_state_dict_is_refused_or_still_right(layer: str) -> None:
    """load_state_dict gives the parameters new arrays: a graph that reads a parameter
    directly refuses; one that reads only views of the old arrays still computes the
    gradient of the function it recorded. Never the gradient of a mixture."""
    tr.manual_seed(0)
    model = nn.ElmanRNN(2, 3, 1, dtype="float64") if layer == "elman" else nn.LSTM(2, 3, dtype="float64")
    x = Tensor.randn(4, 2, 2, dtype="float64")
    out = model(x)[0]
    loss = (out * out).sum()
    expected = [g.numpy() for g in tr.grad(loss, list(model.parameters()))]
    model.load_state_dict({k: v * 2.0 for k, v in model.state_dict().items()})
    try:
        got = tr.grad(loss, list(model.parameters()))
    except RuntimeError as e:
        assert MODIFIED in str(e)
        return
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12)


def test_optimizer_step_through_a_transposed_view_is_caught() -> None:
    """A layer reads W through W.T (a view): an in-place step of W changes the view too."""
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (Tensor([[1.0, 1.0]]) @ w.T).tanh().sum()
    optim.SGD([w], lr=0.5).step() if w.grad is not None else None
    with tr.no_grad():
        w.sub_(1.0)
    with pytest.raises(RuntimeError, match=rf"MatMul reads its input 1 .*{MODIFIED}"):
        loss.backward()


@pytest.mark.parametrize("change", [
    lambda w: w.data.__class__ and setattr(w, "data", w.data * 2.0),  # assignment to .data
    lambda w: nn.init.zeros_(w),
    lambda w: nn.init.uniform_(w, -1.0, 1.0),
])
def test_every_in_place_change_is_caught(change) -> None:
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = Tensor([[1.0], [1.0]])
    loss = (w @ x).tanh().sum()
    change(w)
    with pytest.raises(RuntimeError, match=rf"MatMul reads its input 0 .*{MODIFIED}"):
        loss.backward()


def test_in_place_ops_take_a_version_under_no_grad_and_are_refused_with_grad_on() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * 3.0).exp().sum()  # Exp reads its output; Mul reads w
    with pytest.raises(RuntimeError, match="in-place change of a leaf tensor that requires grad"):
        w.add_(1.0)
    with tr.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_changed_output_that_backward_reads_is_caught() -> None:
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    with tr.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match=rf"Exp reads its output .*{MODIFIED}"):
        y.sum().backward()


def test_ops_that_only_read_shapes_do_not_refuse() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w + 1.0).sum()
    with tr.no_grad():
        w.mul_(5.0)
    loss.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_a_raw_write_into_a_saved_leaf_fails_at_the_write() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[:] = 0.0
    loss.backward()
    assert w.grad.tolist() == [2.0, 4.0]
    w.data = np.zeros(2, np.float32)  # replacing the array is an (allowed, versioned) change
    w.data[:] = 1.0  # the new array is not saved by any graph


def test_a_raw_write_into_an_intermediate_fails_at_the_write() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    loss = (h * h).sum()  # Mul reads h
    for raw in (h.data, h.numpy()):
        with pytest.raises(ValueError, match="read-only"):
            raw[:] = 0.0
    loss.backward()
    assert w.grad.tolist() == [18.0, 36.0]


def test_detached_alias_shares_the_version() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    alias = w.detach()
    loss = (alias * w).sum()
    with tr.no_grad():
        alias.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_graph_with_a_random_in_place_change(data) -> None:
    """Either the gradient of the recorded function, or the RuntimeError: nothing else."""
    values = data.draw(st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3))
    a = Tensor(np.array(values[:2]), requires_grad=True)
    b = Tensor(np.array(values[1:]), requires_grad=True)
    ops = data.draw(st.lists(st.sampled_from(["mul", "add", "exp", "tanh", "sigmoid", "matmul", "div"]),
                             min_size=1, max_size=5))
    tensors = [a, b]
    for op in ops:
        x, y = data.draw(st.sampled_from(tensors)), data.draw(st.sampled_from(tensors))
        out = {"mul": lambda x=x, y=y: x * y, "add": lambda x=x, y=y: x + y, "exp": lambda x=x: (x * 0.1).exp(),
               "tanh": lambda x=x: x.tanh(), "sigmoid": lambda x=x: x.sigmoid(),
               "div": lambda x=x, y=y: x / (y * y + 1.0),
               "matmul": lambda x=x, y=y: (x.reshape(2, 1) @ y.reshape(1, 2)).sum(axis=0)}[op]()
        tensors.append(out)
    loss = tensors[-1].sum()
    expected = tr.grad(loss, [a, b])  # before the change
    victim = data.draw(st.sampled_from(tensors))
    with tr.no_grad():
        victim.mul_(data.draw(st.floats(0.5, 1.5)))
    try:
        got = tr.grad(loss, [a, b])
    except RuntimeError as e:
        assert MODIFIED in str(e)
        return
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ copies
def test_tensor_of_an_array_copies_and_from_numpy_shares() -> None:
    a = np.array([1.0, 2.0])
    copied, shared = Tensor(a), tr.from_numpy(a)
    a[0] = 9.0
    assert copied.tolist() == [1.0, 2.0] and shared.tolist() == [9.0, 2.0]
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = np.array([3.0, 4.0])
    loss = (Tensor(x) * w).sum()
    x[:] = 0.0  # the graph holds its own copy
    loss.backward()
    assert w.grad.tolist() == [3.0, 4.0]
    with pytest.raises(TypeError, match="expected a numpy.ndarray of bools, ints or floats"):
        tr.from_numpy([1.0, 2.0])


# ------------------------------------------------------------------ private gradients
def test_every_gradient_is_its_own_writable_array() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 10.0
    assert b.grad.tolist() == [1.0, 1.0]
    c = Tensor(np.ones((2, 3)), requires_grad=True)
    c.sum().backward()  # the gradient is a broadcast of one number
    c.grad.data += 1.0
    assert c.grad.tolist() == [[2.0] * 3] * 2


def test_rnn_bias_gradients_do_not_share_an_array() -> None:
    tr.manual_seed(0)
    rnn = nn.RNN(2, 3)
    out, _ = rnn(Tensor.randn(4, 2, 2))
    out.sum().backward()
    assert not np.shares_memory(rnn.bias_ih_l0.grad.data, rnn.bias_hh_l0.grad.data)
    np.testing.assert_array_equal(rnn.bias_ih_l0.grad.numpy(), rnn.bias_hh_l0.grad.numpy())
    rnn.bias_ih_l0.grad.data *= 0.0
    assert np.abs(rnn.bias_hh_l0.grad.numpy()).sum() > 0


# ------------------------------------------------------------------ hooks and arguments
@pytest.mark.parametrize("returned, message", [
    (lambda g: g.reshape(1, 2), r"returned shape \(1, 2\)"),
    (lambda g: g.astype("float64"), "returned shape .* and dtype float64"),
    (lambda g: g.numpy(), "returned a ndarray"),
])
def test_a_hook_that_changes_the_gradient_kind_is_refused(returned, message) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(returned)
    with pytest.raises(RuntimeError, match=rf"hook .*tensor of shape \(2,\) {message}"):
        y.sum().backward()


def test_an_integer_tensor_set_to_require_grad_is_refused_at_backward() -> None:
    ids = Tensor([1, 2])
    ids.requires_grad = True
    w = Tensor([1.0, 1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor of dtype int64 .* requires_grad=True"):
        (ids * w).sum().backward()


def test_uniform_bounds_and_numpy_integers() -> None:
    with pytest.raises(ValueError, match="low=2.0 is greater than high=1.0"):
        Tensor.uniform(3, low=2.0, high=1.0)
    with pytest.raises(ValueError, match="high=nan"):
        Tensor.uniform(3, high=float("nan"))
    assert Tensor.zeros(np.int64(2), np.int32(3)).shape == (2, 3)
    tr.manual_seed(np.int64(4))
    first = Tensor.rand(2).tolist()
    tr.manual_seed(4)
    assert Tensor.rand(2).tolist() == first
    with pytest.raises(ValueError, match="manual_seed: expected a non-negative int, got -1"):
        tr.manual_seed(-1)


def test_an_index_or_condition_changed_after_recording_does_not_change_the_gradient() -> None:
    w = Tensor(np.arange(4.0), requires_grad=True)
    idx = Tensor(np.array([0, 1]))
    y = w[idx].sum()
    idx.copy_(Tensor(np.array([2, 3])))  # reusing an ids buffer: the recorded op kept its own copy
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0, 0.0, 0.0]
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    mask = Tensor(np.array([True, False, True]))
    z = tr.where(mask, a, b).sum()
    mask.copy_(Tensor(np.array([False, True, False])))
    z.backward()
    assert a.grad.tolist() == [1.0, 0.0, 1.0] and b.grad.tolist() == [0.0, 1.0, 0.0]


def test_a_raw_write_through_a_view_fails_at_the_write() -> None:
    w = Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    c = Tensor(np.array([[1.0], [1.0]]), requires_grad=True)
    y = (w.T * c).sum()  # Mul reads w through the view w.T
    with pytest.raises(ValueError, match="read-only"):
        w.data[:] = 0.0
    x = Tensor(np.array([[1.0, 2.0]]))
    d = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    z = (x.reshape(2) * d).sum()  # a view made without a tape: its base is frozen with it
    with pytest.raises(ValueError, match="read-only"):
        x.data[:] = 0.0
    y.backward(), z.backward()
    assert c.grad.tolist() == [[1.0], [2.0]] and d.grad.tolist() == [1.0, 2.0]


def test_a_parameter_made_from_a_tensor_owns_its_values() -> None:
    t = Tensor(np.array([1.0, 2.0]))
    p = nn.Parameter(t)
    c = Tensor(np.array([1.0, 1.0]), requires_grad=True)
    y = (p * c).sum()
    t.add_(10.0)
    y.backward()
    assert c.grad.tolist() == [1.0, 2.0] and p.tolist() == [1.0, 2.0]
