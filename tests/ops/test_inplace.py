"""In-place changes (ops/inplace.py): ``t[index] = v`` and the ``*_`` ops, outside the tape
and recorded on it, against PyTorch running the same code; the refusals PyTorch makes
(a leaf that requires grad, a value a graph saved) and the one it makes later (a view).
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, op_settings, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")
MODIFIED = "modified in place after the op was recorded"


def run_both(program, *arrays_, device="cpu"):
    """``program(lib, *leaves)`` with lib = tr and lib = torch on the same float64 leaves:
    the outputs and every leaf's gradient (of the output's sum weighted by a fixed
    pattern) must agree."""
    ours = [Tensor(np.array(a, dtype=np.float64), requires_grad=True, device=device) for a in arrays_]
    theirs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays_]
    out, ref = program(tr, *ours), program(torch, *theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = np.cos(np.arange(out.numel(), dtype=np.float64)).reshape(out.shape)
    (out * Tensor(weights, device=device)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy()), f"leaf {k}: PyTorch has no gradient"
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=f"leaf {k}")


# --------------------------------------------------------------- t[index] = v on the tape
def test_filling_an_outputs_buffer_step_by_step() -> None:
    """The PyTorch idiom: outputs = zeros(T, B, H); outputs[t] = h_t inside the loop."""
    def program(lib, x, w):
        h = lib.zeros(2, 3, dtype=lib.float64)
        outputs = lib.zeros(4, 2, 3, dtype=lib.float64)
        for t in range(4):
            h = (x[t] @ w + h).tanh()
            outputs[t] = h
        return outputs
    run_both(program, np.linspace(-1, 1, 4 * 2 * 5).reshape(4, 2, 5), np.linspace(-0.5, 0.7, 15).reshape(5, 3))


def test_a_write_into_a_computed_tensor_splits_the_gradient() -> None:
    def program(lib, w, v):
        y = w * 2.0
        y[1:, 0] = v  # the places written get v's gradient, the others w's
        y[0, :] = 7.0  # a constant: nobody gets these places' gradient
        return y * y
    run_both(program, np.arange(12.0).reshape(3, 4) / 10, [0.5, -0.5])


def test_a_boolean_mask_write_and_a_broadcast_value() -> None:
    def program(lib, w, v):
        y = w * 2.0  # (not w.exp(): Exp saves its output, which the write would change; PyTorch refuses too)
        y[y > 1.5] = v
        y[:, 1] = v[0]
        return y.sum(0)
    run_both(program, np.linspace(-1, 1.2, 8).reshape(4, 2), [3.0])


def test_ops_recorded_before_the_write_keep_the_old_value() -> None:
    """An op that used y before y[0] = v gets the gradient for the old y (PyTorch's edges go to
    the old node)."""
    def program(lib, w, v):
        y = w * 3.0
        before = y + 1.0  # does not save y: the write does not bother it
        y[0] = v
        return before * 2.0 + y
    run_both(program, [1.0, 2.0, 3.0], [10.0])


def test_a_write_into_a_tensor_a_graph_saved_is_refused_like_pytorch() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = w * 2.0
    z = y * y  # saves y
    y[0] = 5.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tw * 2.0
    tz = ty * ty
    ty[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tz.sum().backward()


def test_a_leaf_that_requires_grad_is_changed_only_under_no_grad() -> None:
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"t\[index\] = v: an in-place change of a leaf tensor that requires grad"):
        w[0] = 0.0
    loss = (w * w).sum()
    with tr.no_grad():
        w[0] = 10.0
    assert w.tolist() == [10.0, 2.0, 3.0] and w.is_leaf
    with pytest.raises(RuntimeError, match=MODIFIED):
        loss.backward()


def test_a_write_on_the_tape_into_a_view_is_refused() -> None:
    """PyTorch would carry the write back into the base; here it says to write into the base."""
    w = Tensor.zeros(2, 3, requires_grad=True)
    y = w * 1.0
    with pytest.raises(RuntimeError, match=r"view of another tensor.*t\[i, j\] = v rather than t\[i\]\[j\] = v"):
        y[0][1] = Tensor(2.0, requires_grad=True)
    y[0, 1] = Tensor(2.0, requires_grad=True)  # the way that works
    base = Tensor.zeros(2, 3)
    with tr.no_grad():
        base[0][1] = 4.0  # outside the tape a view writes through
    assert base.tolist() == [[0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]


def test_setitem_outside_the_tape_casts_and_broadcasts(device: str) -> None:
    t = Tensor.zeros(2, 3, dtype="int64", device=device)
    t[0] = 2.7  # cast to int64, as PyTorch
    t[1, 1:] = Tensor([5, 6], device=device)
    t[t == 6] = -1
    assert t.tolist() == [[2, 2, 2], [0, 5, -1]] and t.dtype == tr.int64
    with pytest.raises(ValueError, match=r"t\[index\] = v: cannot write a value of shape \(3,\)"):
        t[0, :2] = Tensor([1, 2, 3], device=device)
    with pytest.raises(IndexError, match=r"t\[index\] = v on a tensor of shape \(2, 3\)"):
        t[5] = 1


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_random_basic_index_writes_match_pytorch(device: str, x, data) -> None:
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=False, allow_ellipsis=True).filter(
        lambda i: all(p.step is None or p.step > 0 for p in (i if isinstance(i, tuple) else (i,))
                      if isinstance(p, slice))))  # PyTorch has no negative steps
    place = x[index].shape
    kept = data.draw(st.integers(0, len(place)))  # a value that broadcasts to the place: a suffix, some sides 1
    value_shape = tuple(d if data.draw(st.booleans()) else 1 for d in place[len(place) - kept:])
    v = np.linspace(-2, 2, int(np.prod(value_shape))).reshape(value_shape)

    def program(lib, a, b):
        y = a * 1.5
        y[index] = b
        return y * a
    run_both(program, x, v, device=device)


def test_a_write_on_the_tape_has_gradients_of_gradients() -> None:
    def f(x, v):
        y = x * 1.0
        y[1:3] = v * v
        return (y * y).sum()
    x = Tensor(np.linspace(-1, 1, 5), requires_grad=True)
    v = Tensor([0.3, -0.7], requires_grad=True, dtype="float64")
    assert tr.gradcheck(f, x, v) and tr.gradgradcheck(f, x, v)


def test_a_jitted_step_with_a_write_replays_the_eager_one() -> None:
    w = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)

    def step(x):
        out = Tensor.zeros(3, 3, dtype="float64")
        out[0] = x * w[0]  # a row from the tape
        out[1:] = (x.unsqueeze(0) * w).tanh()
        loss = (out * out).sum()
        loss.backward()
        return loss

    eager = []
    for k in range(3):
        w.grad = None
        eager.append((step(Tensor([1.0, k, -1.0], dtype="float64")).item(), w.grad.numpy().copy()))
    jitted = tr.jit(step)
    for k in range(3):
        w.grad = None
        loss = jitted(Tensor([1.0, k, -1.0], dtype="float64"))
        assert loss.item() == eager[k][0]
        np.testing.assert_array_equal(w.grad.numpy(), eager[k][1])


# --------------------------------------------------------------- the *_ ops
def test_in_place_ops_on_the_tape_match_pytorch() -> None:
    def program(lib, w, x, m):
        h = w * 1.0
        h.add_(x, alpha=2.0)
        h.sub_(m, alpha=0.5)
        h.mul_(x)
        h.div_(m + 3.0)
        h.clamp_(-0.8, 0.9)
        h.masked_fill_(h > 0.5, 0.25)
        g = x * 1.0
        g.copy_(h * m)  # g's old value gets no gradient, h and m do
        g.add_(3.0).mul_(2.0)
        return g + h
    run_both(program, np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(0.5, -0.4, 6).reshape(2, 3), [[0.3, -0.2, 1.1]])


def test_add_with_alpha_keeps_the_dtype_outside_the_tape(device: str) -> None:
    t = Tensor([1.0, 2.0], device=device)
    t.add_(Tensor([1.0, 1.0], device=device), alpha=3).sub_(1, alpha=2)
    assert t.tolist() == [2.0, 3.0] and t.dtype == tr.float32
    t.mul_(Tensor(2.0, dtype="float64", device=device))  # the tensor keeps its dtype
    assert t.dtype == tr.float32 and t.tolist() == [4.0, 6.0]
    i = Tensor([1, 2], device=device)
    with pytest.raises(ValueError, match=r"add_: cannot write"):
        i.add_(0.5)


def test_in_place_functions_on_the_tape_match_pytorch() -> None:
    """Each on a fresh non-leaf: a second in-place op on a result that tanh_, sigmoid_, exp_ or
    sqrt_ saved would be refused (by PyTorch too)."""
    def program(lib, w):
        parts = [(w * 2.0).relu_(), (w * 1.0).tanh_(), (w + 2.0).log_(), (w * 1.0).exp_(), (w * 1.0).sigmoid_(),
                 (w + 2.0).sqrt_(), (w * 1.0).pow_(3.0), (w * 1.0).neg_(), (w * 1.0).abs_()]
        return lib.stack(parts)
    run_both(program, [0.5, -0.3, 1.2])


def test_random_fills_draw_from_the_library_generator(device: str) -> None:
    tr.manual_seed(3)
    t = Tensor.zeros(1000, dtype="float64", device=device).uniform_(-2.0, 2.0)
    assert -2.0 <= t.min().item() and t.max().item() < 2.0 and abs(t.mean().item()) < 0.15
    n = Tensor.zeros(1000, dtype="float64", device=device).normal_(5.0, 0.5)
    assert abs(n.mean().item() - 5.0) < 0.05 and abs(n.std().item() - 0.5) < 0.05
    tr.manual_seed(3)
    assert Tensor.zeros(1000, dtype="float64", device=device).uniform_(-2.0, 2.0).tolist() == t.tolist()


def test_a_random_fill_on_the_tape_cuts_the_old_gradient() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    h.uniform_(0.0, 1.0)
    (h * w).sum().backward()  # h is now a constant: w's gradient is h's values only
    np.testing.assert_allclose(w.grad.numpy(), h.numpy())
    assert h.requires_grad and not h.is_leaf
