"""Gradient-ready hooks (tinygrad_rnn/ready_hooks.py) and end-of-backward callbacks.

A leaf's post-accumulate hook runs once per backward pass, with ``.grad`` complete, as
soon as the walk has passed the leaf's first use: for an output layer, long before the
walk reaches the recurrent layer's first step. Gradients are the same as without hooks.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, autograd, nn

F = nn.functional


def char_model(device: str) -> tuple[nn.Module, nn.Module, nn.Module]:
    return nn.Embedding(10, 4, device=device), nn.LSTM(4, 6, device=device), nn.Linear(6, 10, device=device)


def run_step(modules: tuple, device: str, events: list | None = None) -> None:
    emb, lstm, head = modules
    ids = Tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 3, 5]], device=device)
    x = emb(ids)
    if events is not None:
        x.register_hook(lambda grad: events.append("embedding output"))  # one of the last tensors the walk visits
    out, _ = lstm(x)
    F.cross_entropy(head(out), ids).backward()


def test_output_layer_is_ready_before_the_walk_reaches_the_recurrent_layer(device: str) -> None:
    modules = char_model(device)
    events: list[str] = []
    for name, module in zip(("emb", "lstm", "head"), modules, strict=True):
        for pname, p in module.named_parameters():
            p.register_post_accumulate_grad_hook(lambda t, n=f"{name}.{pname}": events.append(n))
    run_step(modules, device, events)
    assert events.index("head.weight") < events.index("embedding output")
    assert events.index("head.bias") < events.index("embedding output")
    assert events.index("emb.weight") > events.index("embedding output")
    assert sorted(events) == sorted(["embedding output", "emb.weight", "head.weight", "head.bias"]
                                    + [f"lstm.{n}" for n, _ in modules[1].named_parameters()])


def test_hooks_see_the_complete_grad_and_change_no_gradient(device: str) -> None:
    tr.manual_seed(3)
    plain = char_model(device)
    tr.manual_seed(3)
    hooked = char_model(device)
    seen = {}
    for module in hooked:
        for name, p in module.named_parameters():
            p.register_post_accumulate_grad_hook(lambda t, n=name: seen.setdefault(id(t), t.grad.numpy().copy()))
    for modules in (plain, hooked):
        run_step(modules, device)
    for a, b in zip(plain, hooked, strict=True):
        for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)
            np.testing.assert_array_equal(seen[id(q)], q.grad.numpy(), err_msg=name)


def test_hook_runs_once_per_pass_after_accumulation() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    grads = []
    handle = w.register_post_accumulate_grad_hook(lambda t: grads.append(t.grad.tolist()))
    ((w * w).sum() + (w * 3.0).sum()).backward()  # two uses: one call, with their sum
    (w * w).sum().backward()  # accumulates: the hook sees the running total
    assert grads == [[5.0, 7.0], [7.0, 11.0]]
    handle.remove()
    handle.remove()  # twice is harmless
    (w * w).sum().backward()
    assert len(grads) == 2


def test_root_leaf_and_create_graph_run_the_hook_too() -> None:
    w = Tensor([2.0], requires_grad=True, dtype="float64")
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.item()))
    w.backward()  # the root is the leaf itself: no op uses it
    (w * w).sum().backward(create_graph=True)
    assert calls == [1.0, 5.0]


def test_hook_registration_is_checked() -> None:
    w = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not a leaf"):
        (w * 2.0).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="not requiring grad"):
        Tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="expected fn"):
        w.register_post_accumulate_grad_hook(3)


def test_queue_callback_runs_once_the_walk_is_done() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = w * 2.0
    order = []

    def hook(grad: Tensor) -> None:
        order.append("hook")
        autograd.queue_callback(lambda: order.append(("callback", w.grad is not None)))
    x.register_hook(hook)
    x.sum().backward()
    assert order == ["hook", ("callback", True)]


def test_queue_callback_outside_backward_is_refused() -> None:
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        autograd.queue_callback(lambda: None)
    w = Tensor([1.0], requires_grad=True)
    y = w * 1.0
    y.register_hook(lambda grad: autograd.queue_callback(5))
    with pytest.raises(TypeError, match="expected a callable"):
        y.sum().backward()


def test_hooks_go_with_their_leaf() -> None:
    from tinygrad_rnn import ready_hooks

    before = len(ready_hooks._HOOKS)
    w = Tensor([1.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None)
    assert len(ready_hooks._HOOKS) == before + 1
    del w
    assert len(ready_hooks._HOOKS) == before
