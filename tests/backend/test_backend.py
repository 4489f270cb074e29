"""The backend contract: every primitive of tinygrad_rnn/backend/base.py behaves as NumPy
on every backend; the strict stand-in refuses what CuPy refuses; device lookup errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.backend import Backend, backend_of, get_backend, is_basic_index, register_backend
from tinygrad_rnn.backend.base import Backend as BaseBackend
from tinygrad_rnn.backend.numpy_backend import NumpyBackend

X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 0.0]])
Y = np.array([[1.0, 2.0, -1.0], [0.5, 0.5, 4.0]])
POS = np.abs(X) + 0.5
COND = X > 0
ERF_X = np.vectorize(math.erf)(X)

# name -> (what the backend is asked, with d = host -> device array; the NumPy answer)
def _write_refused(b, d) -> list:
    """set_writeable(False) makes writes into the array fail; set_writeable(True) undoes it."""
    a = d(X.copy())
    ok = b.set_writeable(a, False)
    try:
        a[0] = 1.0
        refused = False
    except ValueError:
        refused = True
    b.set_writeable(a, True)
    a[0] = 1.0
    return [ok, not refused, b.set_writeable(a, True)]


CASES = {
    "exp": (lambda b, d: b.exp(d(X)), np.exp(X)),
    "log": (lambda b, d: b.log(d(POS)), np.log(POS)),
    "tanh": (lambda b, d: b.tanh(d(X)), np.tanh(X)),
    "sqrt": (lambda b, d: b.sqrt(d(POS)), np.sqrt(POS)),
    "abs": (lambda b, d: b.abs(d(X)), np.abs(X)),
    "sign": (lambda b, d: b.sign(d(X)), np.sign(X)),
    "maximum": (lambda b, d: b.maximum(d(X), d(Y)), np.maximum(X, Y)),
    "minimum": (lambda b, d: b.minimum(d(X), 0.0), np.minimum(X, 0.0)),
    "where": (lambda b, d: b.where(d(COND), d(X), d(Y[0])), np.where(COND, X, Y[0])),
    "clip": (lambda b, d: b.clip(d(X), -1.0, 1.0), np.clip(X, -1.0, 1.0)),
    "matmul": (lambda b, d: b.matmul(d(X), d(Y.T)), X @ Y.T),
    "broadcast_to": (lambda b, d: b.broadcast_to(d(X[:1]), (3, 2, 3)), np.broadcast_to(X[:1], (3, 2, 3))),
    "concatenate": (lambda b, d: b.concatenate([d(X), d(Y)], axis=1), np.concatenate([X, Y], axis=1)),
    "stack": (lambda b, d: b.stack([d(X), d(Y)], axis=-1), np.stack([X, Y], axis=-1)),
    "dtype": (lambda b, d: [b.dtype("float32"), b.dtype(np.float64), b.dtype("int64")],
              [np.float32, np.float64, np.int64]),
    "is_floating": (lambda b, d: [b.is_floating(t) for t in ("float32", "float64", "int64", "bool")],
                    [True, True, False, False]),
    "is_integer": (lambda b, d: [b.is_integer(t) for t in ("int64", "int32", "uint8", "float32", "bool")],
                   [True, True, True, False, False]),
    "is_bool": (lambda b, d: [b.is_bool(t) for t in ("bool", "int64", "float32")], [True, False, False]),
    "result_type": (lambda b, d: [b.result_type(b.float32, b.float64), b.result_type(b.int64, b.float32)],
                    [np.float64, np.float64]),
    "is_array": (lambda b, d: [b.is_array(d(X)), b.is_array([1.0]), b.is_array(1.0)], [True, False, False]),
    "asarray": (lambda b, d: b.asarray([[1, 2], [3, 4]], dtype=b.float32), np.array([[1, 2], [3, 4]], np.float32)),
    "zeros": (lambda b, d: b.zeros((2, 0, 3), b.float64), np.zeros((2, 0, 3))),
    "ones": (lambda b, d: b.ones((2,), b.int64), np.ones(2, np.int64)),
    "full": (lambda b, d: b.full((2, 2), 7.5, b.float32), np.full((2, 2), 7.5, np.float32)),
    "eye": (lambda b, d: b.eye(3, b.float64), np.eye(3)),
    "arange": (lambda b, d: b.arange(5, b.int64), np.arange(5)),
    # erf to within 2 units in the last place of math.erf (exact equality is not promised across backends)
    "erf": (lambda b, d: b.abs(b.erf(d(X)) - d(ERF_X)) <= 2.0 * d(np.spacing(np.abs(ERF_X))),
            np.ones(X.shape, bool)),
    "qr": (lambda b, d: [abs(q) for q in b.qr(d(X.T @ X + np.eye(3)))],
           [abs(q) for q in np.linalg.qr(X.T @ X + np.eye(3))]),
    "set_writeable": (lambda b, d: _write_refused(b, d), [True, False, True]),
    # Random draws: the same seed gives the same numbers on every backend.
    "normal": (lambda b, d: b.normal(np.random.default_rng(5), (2, 3), b.float64),
               np.random.default_rng(5).standard_normal((2, 3))),
    "uniform": (lambda b, d: b.uniform(np.random.default_rng(5), -2.0, 3.0, (4,), b.float32),
                np.random.default_rng(5).uniform(-2.0, 3.0, 4).astype(np.float32)),
    "sum": (lambda b, d: [b.sum(d(X)), b.sum(d(X), axis=0), b.sum(d(X), axis=(0, 1), keepdims=True)],
            [X.sum(), X.sum(axis=0), X.sum(axis=(0, 1), keepdims=True)]),
    "amax": (lambda b, d: [b.amax(d(X)), b.amax(d(X), axis=1, keepdims=True), b.amax(d(X), axis=(1,))],
             [X.max(), X.max(axis=1, keepdims=True), X.max(axis=1)]),
    "amin": (lambda b, d: [b.amin(d(X)), b.amin(d(np.array([0, -128], np.int8)))], [X.min(), np.int8(-128)]),
    "argmax": (lambda b, d: [b.argmax(d(X)), b.argmax(d(X), axis=1)], [np.argmax(X), np.argmax(X, axis=1)]),
    "all_finite": (lambda b, d: [b.all_finite(d(X)), b.all_finite(d(np.array([1.0, np.inf]))),
                                 b.all_finite(d(np.array([np.nan])))], [True, False, False]),
    "index_add": (
        lambda b, d: [
            b.index_add((3, 2), (slice(1, None),), d(Y[:, :2]), b.float64),  # basic index: an assignment
            b.index_add((3,), (d(np.array([0, 2, 0, 0])),), d(np.array([1.0, 2.0, 3.0, 4.0])), b.float64),
            b.index_add((3, 2), (d(np.array([1, 1])), slice(None)), d(Y[:, :2]), b.float64),
        ],
        [
            np.concatenate([np.zeros((1, 2)), Y[:, :2]]),
            np.array([8.0, 0.0, 2.0]),  # repeated indices accumulate: 1 + 3 + 4
            np.array([[0.0, 0.0], Y[0, :2] + Y[1, :2], [0.0, 0.0]]),
        ],
    ),
    "index_add_": (
        lambda b, d: [
            index_add_in_place(b, d(X), (slice(None), 1), d(Y[:, 0])),  # basic index: adds, does not assign
            index_add_in_place(b, d(X), (d(np.array([1, 0, 1])),), d(Y[[0, 1, 1]])),  # rows 1, 0, 1
        ],
        [
            X + np.array([[0.0, Y[0, 0], 0.0], [0.0, Y[1, 0], 0.0]]),
            X + np.stack([Y[1], Y[0] + Y[1]]),  # row 1 read twice: both gradients accumulate
        ],
    ),
    "to_numpy": (lambda b, d: b.to_numpy(d(X)), X),
    "from_numpy": (lambda b, d: b.from_numpy(X), X),
    "scalar": (lambda b, d: [b.scalar(d(np.array(2.5))), b.scalar(d(np.array([7])))], [2.5, 7]),
}


TIES = np.array([[2, 0, 2, 1], [1, 1, 0, 3]], np.uint8)  # unsigned: a sort by negation would be wrong
CASES.update({
    "argmin": (lambda b, d: [b.argmin(d(X)), b.argmin(d(X), axis=1)], [np.argmin(X), np.argmin(X, axis=1)]),
    # stable both ways: equal values keep their order
    "argsort": (lambda b, d: [b.argsort(d(TIES), axis=1), b.argsort(d(TIES), axis=1, descending=True),
                              b.argsort(d(X), axis=0, descending=True)],
                [np.array([[1, 3, 0, 2], [2, 0, 1, 3]]), np.array([[0, 2, 3, 1], [3, 0, 1, 2]]),
                 np.argsort(-X, axis=0, kind="stable")]),
    "dlpack": (lambda b, d: b.from_dlpack(_Lender(b, d(X))), X),
    "dlpack_device": (lambda b, d: b.dlpack_device(d(X)) in ((1, 0), (2, 0)), True),  # the CPU or GPU 0
    "from_dlpack": (lambda b, d: _written_through(b, d(Y)), np.where(np.eye(2, 3) > 0, 9.0, Y)),
    "synchronize": (lambda b, d: b.synchronize(), None),
})


def _written_through(backend: Backend, array):
    """from_dlpack shares memory: a write into the import shows in the exporter's array."""
    imported = backend.from_dlpack(_Lender(backend, array))
    imported[0, 0] = 9.0
    imported[1, 1] = 9.0
    return array


class _Lender:
    """Exports a backend array through the backend's DLPack primitives (as Tensor does)."""

    def __init__(self, backend: Backend, array) -> None:
        self.backend, self.array = backend, array

    def __dlpack__(self, **kwargs):
        return self.backend.dlpack(self.array, **kwargs)

    def __dlpack_device__(self):
        return self.backend.dlpack_device(self.array)


def index_add_in_place(backend: Backend, target, index, values):
    """Run the in-place primitive, return its (modified) target."""
    assert backend.index_add_(target, index, values) is None
    return target


def primitive_names() -> set[str]:
    """Every primitive of the protocol: methods of Backend, and the xp functions it binds."""
    methods = {n for n, v in vars(BaseBackend).items() if callable(v) and not n.startswith("_")}
    bound = {n for n, v in vars(NumpyBackend()).items() if callable(v) and not isinstance(v, type)}
    return methods | bound


def test_every_primitive_has_a_case() -> None:
    assert primitive_names() == set(CASES)


def to_host(backend, result):
    if isinstance(result, list):
        return [to_host(backend, r) for r in result]
    return backend.to_numpy(result) if backend.is_array(result) else result


@pytest.mark.parametrize("name", sorted(CASES))
def test_primitive_behaves_as_numpy(device: str, name) -> None:
    backend = get_backend(device)
    call, expected = CASES[name]
    result = call(backend, lambda a: backend.from_numpy(np.array(a)))  # a copy: index_add_ writes
    for got, want in zip(*(([r] if not isinstance(r, list) else r) for r in (result, expected)), strict=True):
        if name not in ("to_numpy", "scalar", "dtype", "result_type") and isinstance(want, np.ndarray):
            assert backend.is_array(got), f"{name} returned a {type(got).__name__}, not a {device} array"
        got = to_host(backend, got)
        if isinstance(want, np.ndarray) or isinstance(want, np.generic):
            got = np.asarray(got)
            assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype, name
            np.testing.assert_array_equal(got, want)
        else:
            assert got == want, name


def test_to_numpy_gives_a_host_array_and_scalar_a_python_number(device: str) -> None:
    backend = get_backend(device)
    a = backend.from_numpy(X)
    assert type(backend.to_numpy(a)) is np.ndarray
    assert type(backend.scalar(backend.from_numpy(np.array(1.5)))) is float


def test_array_operators_the_ops_rely_on(device: str) -> None:
    """Ops use these array methods and operators directly (see base.py's docstring)."""
    backend = get_backend(device)
    x, y = backend.from_numpy(X), backend.from_numpy(Y)
    h = backend.to_numpy
    np.testing.assert_array_equal(h(x + y * 2.0 - y / 4.0), X + Y * 2.0 - Y / 4.0)
    np.testing.assert_array_equal(h(x ** 2 + 1.0 / (1.0 + x * x)), X**2 + 1.0 / (1.0 + X * X))
    np.testing.assert_array_equal(h(x @ y.T), X @ Y.T)
    np.testing.assert_array_equal(h((x > 0) & (y <= 1.0)), (X > 0) & (Y <= 1.0))
    np.testing.assert_array_equal(h(-x), -X)
    np.testing.assert_array_equal(h(x[1:, ::-1]), X[1:, ::-1])
    np.testing.assert_array_equal(h(x[backend.from_numpy(np.array([1, 1, 0]))]), X[[1, 1, 0]])
    np.testing.assert_array_equal(h(x.reshape(3, 2).transpose((1, 0))), X.reshape(3, 2).T)
    assert h(x.astype(backend.float32)).dtype == np.float32
    c = x.copy()
    c[0, 0] = 100.0
    assert h(x)[0, 0] == 0.5 and h(c)[0, 0] == 100.0
    assert x.shape == (2, 3) and x.ndim == 2 and x.dtype == np.float64


def test_is_basic_index() -> None:
    assert is_basic_index(3) and is_basic_index((slice(1, 2), None, Ellipsis, -1))
    assert not is_basic_index(np.array([0, 1])) and not is_basic_index((slice(None), [0, 1]))


# --------------------------------------------------------------- the strict stand-in
def test_strict_array_refuses_implicit_conversion_and_host_arrays() -> None:
    backend = get_backend("strict")
    a = backend.from_numpy(X)
    with pytest.raises(TypeError, match="implicit conversion to a NumPy array is not allowed"):
        np.asarray(a)
    with pytest.raises(TypeError, match="mixed with a device array"):
        a + np.ones(3)
    with pytest.raises(TypeError):
        np.ones(3) + a
    with pytest.raises(TypeError, match="indexed with a host numpy array"):
        a[np.array([0, 1])]
    with pytest.raises(TypeError, match="iterating over a device array is not allowed"):
        list(a)
    with pytest.raises(TypeError, match="got a host numpy array where a device array was expected"):
        backend.exp(X)


def test_strict_tensors_never_leak_host_arrays() -> None:
    t = tr.Tensor(X, requires_grad=True, device="strict")
    y = ((t * 2.0).tanh() @ tr.Tensor(Y.T, device="strict")).sum()
    y.backward()
    assert type(t.grad.data).__name__ == "StrictArray" and type(y.data).__name__ == "StrictArray"


# ----------------------------------------------------------------- device lookup
def test_get_backend_of_an_unknown_device_names_it() -> None:
    with pytest.raises(ValueError, match=r"unknown device 'gpu'; expected one of \['cpu', 'cuda'"):
        get_backend("gpu")
    with pytest.raises(ValueError, match=r"device=42 is a int; expected a string"):
        get_backend(42)
    with pytest.raises(ValueError, match=r"device='cuda:1': only one GPU is supported; expected 'cuda' or 'cuda:0'"):
        get_backend("cuda:1")


def test_cuda_0_is_the_one_gpu() -> None:
    """PyTorch scripts say "cuda:0": it is the GPU "cuda" names (or the same error without one)."""
    try:
        gpu = get_backend("cuda")
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=re.escape(str(e)[:30])):
            get_backend("cuda:0")
    else:
        assert get_backend("cuda:0") is gpu


def test_get_backend_returns_one_object_per_device() -> None:
    assert get_backend("cpu") is get_backend() is get_backend(get_backend("cpu"))
    assert isinstance(get_backend("cpu"), Backend) and get_backend("cpu").name == "cpu"


def test_backend_of_finds_the_owner_of_an_array() -> None:
    assert backend_of(np.ones(2)) is get_backend("cpu")
    assert backend_of(get_backend("strict").from_numpy(X)) is get_backend("strict")
    assert backend_of([1.0]) is None and backend_of(1.0) is None


def test_register_backend_adds_a_device() -> None:
    from tinygrad_rnn.backend import unregister_backend

    class Named(NumpyBackend):
        name = "spare"

    register_backend(Named())
    try:
        assert tr.Tensor([1.0], device="spare").device == "spare"
    finally:
        unregister_backend("spare")
    with pytest.raises(ValueError, match="unknown device 'spare'"):
        get_backend("spare")
