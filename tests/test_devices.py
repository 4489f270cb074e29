"""tr.device (tinygrad_rnn/devices.py) and tr.cuda (tinygrad_rnn/cuda.py): PyTorch's device
objects, equal to the device strings, and the torch.cuda calls scripts make."""

from __future__ import annotations

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor


def test_a_device_is_its_string(device: str) -> None:
    d = tr.device(device)
    t = Tensor([1.0], device=d)
    assert t.device == d == device and d == t.device and t.device.type == device
    assert str(t.device) == device and f"{t.device}" == device and Tensor([1.0], device=t.device).device == device
    assert tr.device(d) is d and t.to(d) is t


def test_cuda_names_and_indices() -> None:
    assert tr.device("cuda:0") == tr.device("cuda", 0) == "cuda" and tr.device("cuda:0").index == 0
    assert tr.device("cpu").index is None and tr.device("cuda").type == "cuda"
    for bad, message in [("cuda:1", "only one GPU is supported; expected index 0"), ("gpu", "unknown device 'gpu'"),
                         ("cpu:0", "only 'cuda' takes an index"), ("cuda:x", "expected an integer after ':'"),
                         (3, "expected a string such as 'cpu'")]:
        with pytest.raises(ValueError, match=message):
            tr.device(bad)
    with pytest.raises(ValueError, match="the index is given twice"):
        tr.device("cuda:0", 0)


def test_the_torch_cuda_calls_scripts_make() -> None:
    available = tr.cuda.is_available()
    assert available == tr.cuda_available() and tr.cuda.device_count() == (1 if available else 0)
    tr.cuda.synchronize()  # nothing to wait for without a GPU; waits for it with one
    tr.cuda.manual_seed_all(5)
    first = tr.randn(3).tolist()
    tr.manual_seed(5)
    assert tr.randn(3).tolist() == first  # one generator for every device
    if available:
        assert tr.cuda.current_device() == 0
        assert Tensor([1.0], device="cuda:0").device == "cuda"
    else:
        with pytest.raises(RuntimeError, match="device='cuda' needs"):
            tr.cuda.current_device()
    dev = tr.device("cuda" if available else "cpu")  # the usual first line of a script
    assert tr.zeros(2, device=dev).device == dev
