"""Tensor: construction and dtype rules, conversions, constructors, seeding, and the
errors of API.md's Tensor table (each says what was given and what was expected)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

OTHER = {"cpu": "strict", "strict": "cpu", "cuda": "cpu"}  # a second device to mix with


# ----------------------------------------------------------------- dtype rules
@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2], [3, 4.5]], np.float32),
        (np.array([1.0, 2.0]), np.float64),  # float64 arrays stay float64
        (np.array([1.0], dtype=np.float32), np.float32),
        (3, np.int64),
        ([1, 2, 3], np.int64),
        (np.array([1, 2], dtype=np.int32), np.int32),  # arrays keep their dtype
        (True, np.bool_),
    ],
)
def test_dtype_of_python_data_and_arrays(device: str, data, dtype) -> None:
    t = Tensor(data, device=device)
    assert t.dtype == dtype and t.device == device
    np.testing.assert_array_equal(t.numpy(), np.asarray(data))


def test_dtype_argument_converts(device: str) -> None:
    assert Tensor(1.5, dtype="float64", device=device).dtype == np.float64
    assert Tensor([1, 2], dtype="float32", device=device).dtype == np.float32
    assert Tensor(np.ones(2), dtype=np.float32, device=device).dtype == np.float32


def test_float_tensors_require_grad_and_integer_ones_refuse(device: str) -> None:
    assert Tensor([1.0], requires_grad=True, device=device).requires_grad
    for make in (
        lambda: Tensor([1, 2], requires_grad=True, device=device),
        lambda: Tensor.arange(3, requires_grad=True, device=device),
        lambda: Tensor.zeros(2, dtype="int64", requires_grad=True, device=device),
        lambda: Tensor([1, 2], device=device).requires_grad_(),
        lambda: Tensor([True], requires_grad=True, device=device),
    ):
        with pytest.raises(TypeError, match=r"got dtype (int64|bool); expected float32 or float64"):
            make()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("abc", r"got data of dtype <U3 from str; expected numbers"),
        ([[1.0, 2.0], [3.0]], r"cannot make an array from list .*expected a number, a \(nested, rectangular\) list"),
        ([Tensor(1.0), Tensor(2.0)], r"list of Tensors; use tr.stack"),
    ],
)
def test_bad_data_is_refused(data, message) -> None:
    with pytest.raises(TypeError, match=message):
        Tensor(data)


def test_tensor_from_tensor_copies_device_and_keeps_values(device: str) -> None:
    a = Tensor(np.array([1.0, 2.0]), device=device)
    b = Tensor(a)
    assert b.device == device and b.dtype == np.float64 and b.tolist() == [1.0, 2.0]
    assert Tensor(a, device="cpu").device == "cpu"


# ------------------------------------------------------------------ conversions
def test_numpy_returns_a_host_ndarray(device: str) -> None:
    t = Tensor([[1.0, 2.0]], device=device)
    host = t.numpy()
    assert type(host) is np.ndarray and host.dtype == np.float32 and host.shape == (1, 2)
    assert type(Tensor(2.0, device=device).numpy()) is np.ndarray


def test_item_and_tolist(device: str) -> None:
    assert Tensor(2.5, device=device).item() == 2.5
    assert Tensor([[7]], device=device).item() == 7
    assert isinstance(Tensor([3], device=device).item(), int)
    assert Tensor([[1, 2], [3, 4]], device=device).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match=r"item\(\): tensor of shape \(2,\) has 2 elements; expected exactly 1"):
        Tensor([1.0, 2.0], device=device).item()
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous; expected one element"):
        bool(Tensor([1.0, 2.0], device=device))


def test_to_moves_data_between_cpu_and_strict() -> None:
    a = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    b = a.to("strict")
    assert b.device == "strict" and b.dtype == np.float64 and b.requires_grad and b.is_leaf
    assert type(b.data).__name__ == "StrictArray"
    c = b.to("cpu")
    assert c.device == "cpu" and type(c.data) is np.ndarray and c.tolist() == [1.0, -2.0]
    assert a.to("cpu") is a  # already there
    assert a.to(dtype="float32").dtype == np.float32


def test_detach_shares_data_and_leaves_the_tape(device: str) -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 2.0
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.data is y.data


def test_shape_ndim_len_size(device: str) -> None:
    t = Tensor.zeros(2, 3, 4, device=device)
    assert (t.shape, t.ndim, len(t), t.numel(), t.size(), t.size(-1), t.dim()) == ((2, 3, 4), 3, 2, 24, (2, 3, 4), 4, 3)
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(1.0, device=device))


def test_repr_shows_device_and_requires_grad() -> None:
    assert repr(Tensor([1.0], requires_grad=True)) == "tensor([1.], dtype=float32, requires_grad=True)"
    assert "device='strict'" in repr(Tensor([1.0], device="strict"))


# ----------------------------------------------------------------- constructors
@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_shape_constructors(device: str, name) -> None:
    make = getattr(Tensor, name)
    for t in (make(2, 3, device=device), make((2, 3), device=device)):
        assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == device and not t.requires_grad
    t = make(4, dtype="float64", requires_grad=True, device=device)
    assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert make(device=device).shape == ()
    with pytest.raises(ValueError, match=r"shape \(2, -1\): expected non-negative ints"):
        make(2, -1, device=device)


def test_constructor_values(device: str) -> None:
    assert Tensor.zeros(3, device=device).tolist() == [0.0] * 3
    assert Tensor.ones(2, device=device).tolist() == [1.0] * 2
    assert Tensor.eye(2, device=device, dtype="float64").tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert Tensor.eye(3, device=device).dtype == np.float32
    r = Tensor.rand(1000, device=device).numpy()
    assert 0.0 <= r.min() and r.max() < 1.0 and 0.4 < r.mean() < 0.6
    n = Tensor.randn(4000, device=device, dtype="float64").numpy()
    assert abs(n.mean()) < 0.1 and 0.9 < n.std() < 1.1


def test_arange_is_int64_unless_told(device: str) -> None:
    a = Tensor.arange(4, device=device)
    assert a.dtype == np.int64 and a.tolist() == [0, 1, 2, 3]
    b = Tensor.arange(3, device=device, dtype="float64", requires_grad=True)
    assert b.dtype == np.float64 and b.requires_grad and b.tolist() == [0.0, 1.0, 2.0]


def test_manual_seed_makes_draws_reproducible_on_every_device(device: str) -> None:
    tr.manual_seed(123)
    first = (Tensor.randn(3, 2, device=device).numpy(), Tensor.rand(4, device=device).numpy())
    tr.manual_seed(123)
    again = (Tensor.randn(3, 2, device=device).numpy(), Tensor.rand(4, device=device).numpy())
    tr.manual_seed(123)
    on_cpu = Tensor.randn(3, 2).numpy()
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[0], on_cpu)  # same seed, same numbers on any device
    tr.manual_seed(124)
    assert not np.array_equal(Tensor.randn(3, 2, device=device).numpy(), first[0])
    with pytest.raises(ValueError, match="expected a non-negative int, got -1"):
        tr.manual_seed(-1)


# -------------------------------------------------- errors of API.md's Tensor table
def test_mixing_devices_names_both_and_asks_for_one(device: str) -> None:
    other = OTHER[device]
    a, b = Tensor([1.0], device=device), Tensor([1.0], device=other)
    pattern = rf"inputs are on different devices \({device}, {other}\); expected all on one device"
    for op in (lambda: a + b, lambda: a * b, lambda: a @ b, lambda: tr.cat([a, b]), lambda: tr.where(a > 0, a, b)):
        with pytest.raises(RuntimeError, match=pattern):
            op()
    with pytest.raises(RuntimeError, match=rf"cond is on '{other}' but a is on '{device}'; expected one device"):
        tr.where(b > 0, a, a)
    with pytest.raises(RuntimeError, match=rf"index is on device '{other}' but the tensor is on '{device}'"):
        a[Tensor([0], device=other)]


@pytest.mark.parametrize(("name", "op"), [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a**b),
])
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(device: str, name, op) -> None:
    a, b = Tensor.ones(2, 3, device=device), Tensor.ones(4, device=device)
    with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\) do not broadcast; expected each"):
        op(a, b)


def test_where_that_does_not_broadcast_names_all_shapes(device: str) -> None:
    with pytest.raises(ValueError, match=r"where: shapes \(2, 3\) and \(2, 3\) and \(4,\) do not broadcast"):
        tr.where(Tensor.ones(2, 3, device=device) > 0, Tensor.ones(2, 3, device=device), Tensor.ones(4, device=device))


@pytest.mark.parametrize(("a_shape", "b_shape", "message"), [
    ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) do not multiply; expected a.shape\[-1\] \(3\) to equal b.shape\[-2\] \(4\)"),
    ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) do not multiply; expected a.shape\[-1\] \(3\) to equal b.shape\[0\] \(4\)"),
    ((2, 2, 3), (3, 3, 4), r"matmul \(batch axes\): shapes \(2,\) and \(3,\) do not broadcast"),
    ((3,), (), r"matmul: operands must have at least 1 dimension, got shapes \(3,\) and \(\)"),
])
def test_matmul_shape_mismatch(device: str, a_shape, b_shape, message) -> None:
    with pytest.raises(ValueError, match=message):
        Tensor.ones(*a_shape, device=device) @ Tensor.ones(*b_shape, device=device)


def test_backward_on_a_non_scalar_without_grad(device: str) -> None:
    y = Tensor.ones(2, 3, requires_grad=True, device=device) * 2.0
    with pytest.raises(RuntimeError, match=r"backward\(\) on a tensor of shape \(2, 3\) needs grad= of that shape"):
        y.backward()
    y.backward(Tensor.ones(2, 3, device=device))  # with grad it is fine
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor.ones(1, device=device).backward()


def test_unknown_device_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown device 'tpu'; expected one of \['cpu', 'cuda'"):
        Tensor([1.0], device="tpu")
    with pytest.raises(ValueError, match=r"device='cuda:1': only one GPU is supported; expected 'cuda' or 'cuda:0'"):
        Tensor.zeros(1, device="cuda:1")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed: 'cuda' does not fail here")
def test_cuda_without_cupy_says_how_to_install_it() -> None:
    for make in (lambda: Tensor([1.0], device="cuda"), lambda: Tensor.zeros(2, device="cuda"),
                 lambda: Tensor([1.0]).to("cuda"), lambda: Tensor([1.0]).cuda()):
        with pytest.raises(RuntimeError, match=r"device='cuda' needs CuPy.*Install it with: pip install") as info:
            make()
        assert "cupy-cuda12x" in str(info.value) and "device='cpu'" in str(info.value)
    assert tr.cuda_available() is False
