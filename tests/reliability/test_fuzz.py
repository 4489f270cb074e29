"""Fuzzing every public op and layer with random shapes, dtypes and values.

Whatever is thrown at the library, it either works or raises one of its documented
errors (TypeError, ValueError, IndexError; RuntimeError for devices and misuse of
backward; KeyError for state dicts) from one of its own ``raise`` statements, with a
message. An error escaping from inside NumPy, or from a Python builtin on a line that
did not mean to raise, fails the test. When a call succeeds, its result is checked
against NumPy where that is cheap, and backward runs through it: gradients must have
their inputs' shapes.
"""

from __future__ import annotations

import dis
import math
import os
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F

PACKAGE = os.path.dirname(os.path.abspath(tr.__file__)) + os.sep
# CI (CI=true) replays a fixed set of examples, so a submission cannot fail on a new draw;
# a developer's run explores fresh ones every time.
fuzz_settings = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("CI", "").lower() == "true",
)
DTYPES = ("float32", "float64", "int64", "bool")
NARROW_INTS = ("int8", "uint8", "int16", "uint16", "int32", "uint32")  # indices and labels come in these too


# --------------------------------------------------------------------- the oracle
def _raised_on_purpose(e: BaseException) -> tuple[bool, str, str]:
    """Was ``e`` made by a ``raise SomeError(...)`` statement? (Not a bare re-raise, not an
    error from inside an operator or a builtin.) Also returns the raising file and a
    description of the spot. The bytecode is read, not the source, so the answer does
    not depend on the file on disk."""
    tb = e.__traceback__
    if tb is None:
        return False, "?", "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    instruction = next((i for i in dis.get_instructions(code) if i.offset == tb.tb_lasti), None)
    on_purpose = instruction is not None and instruction.opname == "RAISE_VARARGS" and instruction.arg >= 1
    spot = f"{code.co_filename}:{tb.tb_lineno} in {code.co_name} ({instruction.opname if instruction else '?'})"
    return on_purpose, os.path.abspath(code.co_filename), spot


def check_library_error(e: BaseException) -> None:
    """Fail unless ``e`` is a documented error raised by the library itself, with a message."""
    on_purpose, filename, spot = _raised_on_purpose(e)
    report = f"{type(e).__name__}: {e}\n  raised at {spot}"
    allowed = (TypeError, ValueError, IndexError, RuntimeError, KeyError)
    assert isinstance(e, allowed), f"undocumented exception type escaped: {report}"
    assert filename.startswith(PACKAGE), f"an error escaped from outside tinygrad_rnn: {report}"
    assert on_purpose, f"an error escaped from a library line that does not raise: {report}"
    assert len(str(e)) > 20, f"the error has no real message: {report}"
    if type(e) is RuntimeError:
        assert any(w in str(e) for w in ("device", "grad", "cuda", "CuPy")), f"RuntimeError not about devices: {report}"


def attempt(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run ``fn``; a raised error must be the library's (see :func:`check_library_error`)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(), None
        except Exception as e:  # noqa: BLE001 - the point is to look at whatever comes out
            check_library_error(e)
            return None, e


def backward_through(out: Any, *inputs: Any) -> None:
    """Backward through every tensor in ``out`` that has a tape; check the gradients' shapes."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    flat = [o for x in outs for o in (x if isinstance(x, (tuple, list)) else (x,))]
    loss_parts = [o for o in flat if isinstance(o, Tensor) and o.requires_grad]
    if not loss_parts:
        return
    for o in loss_parts:
        _, err = attempt(lambda o=o: o.backward(Tensor.ones(*o.shape, dtype=o.dtype, device=o.device)))
        assert err is None, f"backward failed on a result the forward accepted: {err}"
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.grad is not None:
            assert x.grad.shape == x.shape, f"gradient shape {x.grad.shape} != input shape {x.shape}"


def same_values(out: Tensor, expected: Any) -> None:
    expected = np.asarray(expected)
    got = out.numpy()
    assert got.shape == expected.shape, f"shape {got.shape}, NumPy gives {expected.shape}"
    if got.dtype.kind in "fc" or expected.dtype.kind in "fc":
        np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=1e-5, atol=1e-6,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------- strategies
def _elements(dtype: str) -> st.SearchStrategy:
    if dtype == "bool":
        return st.booleans()
    if dtype == "int64":
        return st.integers(-6, 6) | st.sampled_from([0, 1, 2**40, -(2**40)])
    if dtype in NARROW_INTS:  # small values, and the extremes where -x or x + 1 overflows
        info = np.iinfo(dtype)
        return st.integers(max(info.min, -6), 6) | st.sampled_from([int(info.min), int(info.max)])
    width = 32 if dtype == "float32" else 64
    return st.floats(-10, 10, width=width) | st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e30, -1e30])


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def arrays(draw: Any, shape: Any = None, dtypes: tuple[str, ...] = DTYPES) -> np.ndarray:
    dtype = draw(st.sampled_from(dtypes))
    if dtype == "int64" and draw(st.integers(0, 3)) == 0:
        dtype = draw(st.sampled_from(NARROW_INTS))
    shape = draw(shapes) if shape is None else shape
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=_elements(dtype)))


@st.composite
def tensors(draw: Any, shape: Any = None, dtypes: tuple[str, ...] = DTYPES) -> Tensor:
    a = draw(arrays(shape, dtypes))
    grad = a.dtype.kind == "f" and draw(st.booleans())
    return Tensor(a, requires_grad=grad)


@st.composite
def tensor_pairs(draw: Any) -> tuple[Tensor, Tensor]:
    """Two tensors whose shapes usually broadcast (and sometimes do not)."""
    if draw(st.integers(0, 3)):
        s1, s2 = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    else:
        s1, s2 = draw(shapes), draw(shapes)
    return draw(tensors(s1)), draw(tensors(s2))


axes = st.none() | st.integers(-4, 4) | st.tuples(st.integers(-4, 4)) | st.tuples(st.integers(-3, 3), st.integers(-3, 3))
# Not a size: 2**70 as a layer count would (rightly) try to allocate forever.
junk = st.sampled_from([None, "a", 1.5, [1, "x"], {"k": 1}, object(), (), [], -1, True, math.nan])
huge = st.sampled_from([2**70, -(2**70), 1e300])
# NumPy scalars go wherever Python numbers do (sizes, lengths, seeds, operands).
numpy_scalars = st.sampled_from([np.int64(2), np.int32(3), np.int8(-128), np.uint8(255), np.float32(1.5),
                                 np.float64(-0.5), np.bool_(True), np.uint16(1)])
sizes = st.integers(-1, 4) | st.sampled_from([0, True, 2.0, "3", None, np.int64(3), np.int32(2), np.uint8(1)])


def operand(draw: Any) -> Any:
    """Something for the other side of an operator: a tensor, a Python number, an array or junk."""
    return draw(st.one_of(tensors(), st.integers(-3, 3), st.floats(-3, 3), st.booleans(), arrays(), junk, huge,
                          numpy_scalars))


# ------------------------------------------------------------------------- targets
# Each target draws its arguments from ``data`` and exercises one public function.
TARGETS: dict[str, Callable[[Any], None]] = {}


def target(fn: Callable[[Any], None]) -> Callable[[Any], None]:
    TARGETS[fn.__name__] = fn
    return fn


BINARY = {
    "add": (lambda a, b: a + b), "sub": (lambda a, b: a - b), "mul": (lambda a, b: a * b),
    "truediv": (lambda a, b: a / b), "pow": (lambda a, b: a**b), "matmul": (lambda a, b: a @ b),
    "lt": (lambda a, b: a < b), "le": (lambda a, b: a <= b), "gt": (lambda a, b: a > b),
    "ge": (lambda a, b: a >= b), "eq": (lambda a, b: a == b), "ne": (lambda a, b: a != b),
}


@target
def binary_tensor_tensor(data: Any) -> None:
    a, b = data.draw(tensor_pairs())
    name = data.draw(st.sampled_from(sorted(BINARY)))
    op = BINARY[name]
    out, err = attempt(lambda: op(a, b))
    if err is None:
        with np.errstate(all="ignore"):
            expected = op(a.numpy(), b.numpy())
        same_values(out, expected)
        backward_through(out, a, b)


@target
def binary_with_other_operands(data: Any) -> None:
    a = data.draw(tensors())
    other = operand(data.draw)
    name = data.draw(st.sampled_from(sorted(BINARY)))
    op = BINARY[name]
    left = data.draw(st.booleans())
    out, err = attempt(lambda: op(a, other) if left else op(other, a))
    if err is None:
        assert isinstance(out, Tensor), f"{name} returned a {type(out).__name__}"
        backward_through(out, a)


UNARY = {
    "exp": np.exp, "log": np.log, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0), "abs": np.abs,
    "sqrt": np.sqrt, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "neg": np.negative,
}


@target
def unary_methods(data: Any) -> None:
    x = data.draw(tensors())
    name = data.draw(st.sampled_from(sorted(UNARY)))
    out, err = attempt(lambda: -x if name == "neg" else getattr(x, name)())
    if err is None:
        if x.dtype.kind == "f":
            with np.errstate(all="ignore"):
                same_values(out, UNARY[name](x.numpy().astype(np.float64)))
        backward_through(out, x)


@target
def reductions(data: Any) -> None:
    x = data.draw(tensors())
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "amin"]))  # max(dim)/min(dim) return (values, indices)
    axis = data.draw(axes | junk)
    keepdims = data.draw(st.booleans())
    out, err = attempt(lambda: getattr(x, name)(axis=axis, keepdims=keepdims))
    if err is None:
        with np.errstate(all="ignore"):
            ref = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[name]
            np_axis = tuple(axis) if isinstance(axis, (tuple, list)) else axis
            if x.ndim == 0:  # axis 0 or -1 of a 0-d tensor is allowed (as in PyTorch): all axes
                np_axis = None
            expected = ref(x.numpy(), axis=np_axis, keepdims=keepdims)
        if x.dtype.kind == "f" or name in ("amax", "amin"):
            same_values(out, expected)
        else:
            assert out.shape == np.shape(expected)
        backward_through(out, x)


@target
def argmax(data: Any) -> None:
    x = data.draw(tensors())
    axis = data.draw(st.none() | st.integers(-4, 4) | junk)
    out, err = attempt(lambda: x.argmax(axis=axis))
    if err is None:
        assert out.shape == np.argmax(x.numpy(), axis=axis).shape


@target
def softmaxes(data: Any) -> None:
    x = data.draw(tensors())
    name = data.draw(st.sampled_from(["softmax", "log_softmax"]))
    axis = data.draw(st.integers(-4, 4) | junk)
    out, err = attempt(lambda: getattr(x, name)(axis=axis))
    if err is None:
        assert out.shape == x.shape
        backward_through(out, x)


@target
def clip(data: Any) -> None:
    x = data.draw(tensors())
    lo = data.draw(st.none() | st.floats(-5, 5) | st.integers(-5, 5) | junk | huge)
    hi = data.draw(st.none() | st.floats(-5, 5) | st.integers(-5, 5) | junk | huge)
    out, err = attempt(lambda: x.clip(lo, hi))
    if err is None:
        assert out.shape == x.shape
        backward_through(out, x)


@target
def reshape(data: Any) -> None:
    x = data.draw(tensors())
    shape = data.draw(st.lists(st.integers(-2, 5), max_size=4) | junk)
    as_tuple = data.draw(st.booleans())
    out, err = attempt(lambda: x.reshape(tuple(shape)) if as_tuple and isinstance(shape, list) else x.reshape(shape))
    if err is None:
        np_shape = tuple(int(d) for d in shape) if isinstance(shape, (list, tuple)) else int(shape)  # True is 1
        same_values(out, x.numpy().reshape(np_shape))
        backward_through(out, x)


@target
def transpose(data: Any) -> None:
    x = data.draw(tensors())
    perm = data.draw(st.lists(st.integers(-4, 4), max_size=4) | junk)
    out, err = attempt(lambda: x.transpose(*perm) if isinstance(perm, list) else x.transpose(perm))
    if err is None and isinstance(perm, list) and len(perm) == 2:  # transpose(dim0, dim1): PyTorch's swap
        same_values(out, np.swapaxes(x.numpy(), *perm) if x.ndim else x.numpy())
        backward_through(out, x)
    elif err is None:
        np_perm = tuple(perm) if isinstance(perm, (list, tuple)) and perm else None  # () reverses, as no axes
        same_values(out, x.numpy().transpose(np_perm))
        backward_through(out, x)
    out, err = attempt(lambda: x.T)
    assert err is None and out.shape == x.shape[::-1]


index_parts = st.one_of(
    st.integers(-5, 5),
    st.builds(slice, st.none() | st.integers(-5, 5), st.none() | st.integers(-5, 5), st.none() | st.integers(-3, 3)),
    st.none(),
    st.just(Ellipsis),
    st.lists(st.integers(-5, 5), max_size=3),
    st.lists(st.booleans(), max_size=4),
    st.lists(st.floats(-2, 2), min_size=1, max_size=2),
    arrays(dtypes=("int64", "bool", "float32")),
    tensors(dtypes=("int64", "bool", "float64")),
    junk,
)


@target
def getitem(data: Any) -> None:
    x = data.draw(tensors())
    index = data.draw(index_parts | st.tuples(index_parts, index_parts) | st.tuples(index_parts, index_parts, index_parts))
    out, err = attempt(lambda: x[index])
    if err is None:

        def as_numpy(p: Any) -> Any:
            if isinstance(p, Tensor):
                return p.numpy()
            if isinstance(p, list):  # the library reads [] as an empty integer index
                return np.asarray(p) if p else np.zeros(0, np.int64)
            return p

        np_index = tuple(as_numpy(p) for p in index) if isinstance(index, tuple) else as_numpy(index)
        same_values(out, x.numpy()[np_index])
        backward_through(out, x)


@target
def cat_and_stack(data: Any) -> None:
    items = data.draw(st.lists(tensors(), min_size=0, max_size=3) | junk)
    if isinstance(items, list) and items and isinstance(items[0], Tensor) and data.draw(st.booleans()):
        shape = items[0].shape
        items = [data.draw(tensors(shape)) for _ in items]
    axis = data.draw(st.integers(-4, 4) | junk)
    name = data.draw(st.sampled_from(["cat", "stack"]))
    out, err = attempt(lambda: getattr(tr, name)(items, axis=axis))
    if err is None:
        arrays_ = [t.numpy() for t in items]
        same_values(out, np.concatenate(arrays_, axis=axis) if name == "cat" else np.stack(arrays_, axis=axis))
        backward_through(out, *items)


@target
def where(data: Any) -> None:
    cond = data.draw(tensors(dtypes=("bool", "int64", "float32")) | arrays() | st.booleans() | junk)
    a, b = data.draw(tensor_pairs())
    if data.draw(st.booleans()):  # a Python number (or junk) on one side or both
        a, b = (operand(data.draw), b) if data.draw(st.booleans()) else (a, operand(data.draw))
    out, err = attempt(lambda: tr.where(cond, a, b))
    if err is None:
        c = cond.numpy() if isinstance(cond, Tensor) else np.asarray(cond)
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            same_values(out, np.where(c != 0, a.numpy(), b.numpy()))
        else:  # a Python float meeting an integer tensor is float32 here (the library's default), not float64
            shapes_ = [np.shape(v.numpy() if isinstance(v, Tensor) else v) for v in (c, a, b)]
            assert out.shape == np.broadcast_shapes(*shapes_)
        backward_through(out, a, b)


@target
def casts_and_conversions(data: Any) -> None:
    x = data.draw(tensors())
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "bool", "int32", "float16", "complex64",
                                       "nonsense", None, np.float64, 3]))
    for fn in (lambda: x.astype(dtype), lambda: x.to(dtype=dtype), lambda: x.to(device=dtype),
               x.float, x.double, x.long, x.detach, x.clone, x.numpy, x.tolist, x.item, lambda: len(x),
               lambda: repr(x), lambda: bool(x), x.zeros_like, x.ones_like, x.cpu, lambda: list(x)):
        out, err = attempt(fn)
        if err is None and isinstance(out, Tensor):
            backward_through(out, x)


@target
def grad_api(data: Any) -> None:
    x = data.draw(tensors())
    mode = data.draw(st.booleans() | junk)
    attempt(lambda: x.requires_grad_(mode))
    y = x * 2 if x.requires_grad else x
    attempt(y.retain_grad)
    attempt(lambda: y.register_hook(data.draw(st.just(lambda grad: None) | junk)))
    grad = data.draw(st.none() | tensors() | arrays() | junk)
    attempt(lambda: y.backward(grad))
    attempt(lambda: tr.grad(y.sum(), [x]))


@target
def constructors(data: Any) -> None:
    shape = data.draw(st.lists(sizes, max_size=3))
    dtype = data.draw(st.sampled_from(DTYPES + (None, "int8", "complex64", "nonsense", 1.5)))
    device = data.draw(st.sampled_from(["cpu", None, "tpu", "cuda:1", 3]))
    requires_grad = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["zeros", "ones", "randn", "rand", "uniform"]))
    out, err = attempt(lambda: getattr(Tensor, name)(*shape, requires_grad=requires_grad, device=device, dtype=dtype))
    if err is None:
        assert out.shape == tuple(shape)
    n = data.draw(sizes)
    attempt(lambda: Tensor.eye(n, requires_grad=requires_grad, dtype=dtype))
    attempt(lambda: Tensor.arange(n, dtype=dtype))
    attempt(lambda: Tensor.full(shape, data.draw(st.floats() | junk), dtype=dtype))


@target
def tensor_from_data(data: Any) -> None:
    raw = data.draw(st.one_of(
        arrays(), st.floats(), st.integers(), st.booleans(), junk,
        st.lists(st.floats(-3, 3) | st.integers(-3, 3), max_size=3),
        st.lists(st.lists(st.floats(-3, 3), max_size=2), max_size=3),  # maybe ragged
        hnp.arrays(st.sampled_from([np.dtype("complex64"), np.dtype("U2"), np.dtype("O"), np.dtype("int8")]),
                   hnp.array_shapes(max_dims=2, max_side=2)),
    ))
    dtype = data.draw(st.sampled_from(DTYPES + (None, "complex64", "nonsense")))
    requires_grad = data.draw(st.booleans())
    out, err = attempt(lambda: Tensor(raw, requires_grad=requires_grad, dtype=dtype))
    if err is None:
        assert out.requires_grad == requires_grad


# ------------------------------------------------------------------------- layers
@target
def linear_and_embedding(data: Any) -> None:
    a, b = data.draw(sizes), data.draw(sizes)
    bias = data.draw(st.booleans())
    layer, err = attempt(lambda: nn.Linear(a, b, bias=bias, dtype=data.draw(st.sampled_from(DTYPES))))
    if err is None:
        x = data.draw(tensors(data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))) | junk)
        out, err = attempt(lambda: layer(x))
        if err is None:
            backward_through(out, x, layer.weight)
    emb, err = attempt(lambda: nn.Embedding(a, b))
    if err is None:
        ids = data.draw(tensors() | st.lists(st.integers(-2, 5), max_size=3) | junk)
        out, err = attempt(lambda: emb(ids))
        if err is None:
            backward_through(out, emb.weight)


def _layer_input(data: Any, input_size: Any) -> Any:
    """A tensor near the right shape (T, B, I): right rank and size half of the time."""
    good = isinstance(input_size, int) and not isinstance(input_size, bool) and input_size > 0
    if good and data.draw(st.booleans()):
        lead = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=2))
        return data.draw(tensors(tuple(lead) + (input_size,), dtypes=("float32", "float64", "int64")))
    return data.draw(tensors() | junk)


@target
def recurrent_layers(data: Any) -> None:
    cls = data.draw(st.sampled_from([nn.RNN, nn.LSTM, nn.GRU]))
    n_in, H = data.draw(sizes), data.draw(sizes)
    kwargs = {
        "num_layers": data.draw(st.integers(0, 2) | junk),
        "bias": data.draw(st.booleans()),
        "batch_first": data.draw(st.booleans()),
        "dropout": data.draw(st.sampled_from([0.0, 0.5, 1.0, -0.1, "x"])),
        "bidirectional": data.draw(st.booleans()),
        "dtype": data.draw(st.sampled_from(["float32", "float64", "int64", None])),
    }
    if cls is nn.RNN:
        kwargs["nonlinearity"] = data.draw(st.sampled_from(["tanh", "relu", "sigmoid", 3]))
    layer, err = attempt(lambda: cls(n_in, H, **kwargs))
    if err is not None:
        return
    x = _layer_input(data, n_in)
    hx = data.draw(st.none() | tensors() | st.tuples(tensors(), tensors()) | junk)
    lengths = data.draw(st.none() | st.lists(st.integers(-1, 4), max_size=4) | tensors(dtypes=("int64", "float32")) | junk)
    out, err = attempt(lambda: layer(x, hx, lengths=lengths))
    if err is None:
        backward_through(out, x, *layer.parameters())


@target
def cells(data: Any) -> None:
    cls = data.draw(st.sampled_from([nn.RNNCell, nn.LSTMCell, nn.GRUCell]))
    n_in, H = data.draw(sizes), data.draw(sizes)
    kwargs = {"bias": data.draw(st.booleans())}
    if cls is nn.RNNCell:
        kwargs["nonlinearity"] = data.draw(st.sampled_from(["tanh", "relu", "softmax"]))
    cell, err = attempt(lambda: cls(n_in, H, **kwargs))
    if err is not None:
        return
    n_in, H = int(n_in), int(H)  # the cell took NumPy integers; the shapes below need Python ones
    x = data.draw(tensors(data.draw(st.sampled_from([(n_in,), (2, n_in), (2, 2, n_in), (n_in + 1,)])), dtypes=("float32", "float64"))
                  | tensors() | junk)
    h = data.draw(st.none() | tensors() | st.tuples(tensors(), tensors()) | st.tuples(tensors((2, H)), tensors((2, H))))
    out, err = attempt(lambda: cell(x, h))
    if err is None:
        backward_through(out, x, *cell.parameters())


@target
def notes_layers(data: Any) -> None:
    cls = data.draw(st.sampled_from([nn.ElmanRNN, nn.GatedRNN]))
    n_in, m, n = data.draw(sizes), data.draw(sizes), data.draw(sizes)
    f_s = data.draw(st.sampled_from(["tanh", "relu", "sigmoid", "identity", "softmax", "swish", Tensor.exp, 3]))
    f_o = data.draw(st.sampled_from(["tanh", "identity", "softmax", "nope", None]))
    layer, err = attempt(lambda: cls(n_in, m, n, f_s=f_s, f_o=f_o, bias=data.draw(st.booleans())))
    if err is not None:
        return
    x = _layer_input(data, n_in)
    s0 = data.draw(st.none() | tensors() | tensors((2, m) if isinstance(m, int) else (2,)) | junk)
    lengths = data.draw(st.none() | st.lists(st.integers(-1, 4), max_size=4) | junk)
    out, err = attempt(lambda: layer(x, s0, lengths=lengths))
    if err is None:
        backward_through(out, x, *layer.parameters())


@target
def losses(data: Any) -> None:
    name = data.draw(st.sampled_from(["mse_loss", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"]))
    x = data.draw(tensors() | junk)
    if isinstance(x, Tensor) and data.draw(st.booleans()):  # often a target of a fitting shape
        shape = x.shape if name in ("mse_loss", "binary_cross_entropy_with_logits") else x.shape[:-1]
        target_ = data.draw(tensors(shape) | arrays(shape))
    else:
        target_ = data.draw(tensors() | arrays() | junk)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "avg", None]))
    kwargs = {"reduction": reduction}
    if name in ("cross_entropy", "nll_loss"):
        kwargs["ignore_index"] = data.draw(st.none() | st.integers(-2, 3))
    out, err = attempt(lambda: getattr(F, name)(x, target_, **kwargs))
    if err is None:
        backward_through(out, x)


@target
def dropout(data: Any) -> None:
    x = data.draw(tensors())
    p = data.draw(st.floats(-1, 2) | st.sampled_from([0.0, 0.5, 1.0]) | junk)
    out, err = attempt(lambda: F.dropout(x, p, training=data.draw(st.booleans())))
    if err is None:
        assert out.shape == x.shape
        backward_through(out, x)


@target
def initialisers(data: Any) -> None:
    x = data.draw(tensors() | junk)
    name = data.draw(st.sampled_from(["zeros_", "identity_", "uniform_", "normal_", "xavier_uniform_", "orthogonal_"]))
    arity = {"zeros_": 0, "identity_": 1, "xavier_uniform_": 1, "orthogonal_": 1}.get(name, 2)
    args = data.draw(st.lists(st.floats(-2, 2) | st.integers(-2, 2) | junk, max_size=arity))
    out, err = attempt(lambda: getattr(nn.init, name)(x, *args))
    if err is None:
        assert out is x


@target
def utils(data: Any) -> None:
    params = data.draw(st.lists(tensors(dtypes=("float32", "float64")), max_size=3) | tensors() | junk)
    if isinstance(params, list):
        for p in params:
            if isinstance(p, Tensor) and p.requires_grad and data.draw(st.booleans()):
                p.grad = data.draw(tensors(p.shape, dtypes=("float32", "float64")))
    max_norm = data.draw(st.floats(-1, 5) | st.sampled_from([0, math.inf, math.nan]) | junk)
    attempt(lambda: nn.utils.clip_grad_norm_(params, max_norm))
    seqs = data.draw(st.lists(tensors(), max_size=3) | junk)
    padding = data.draw(st.floats(-1, 1) | st.integers(-1, 1) | junk | huge)
    out, err = attempt(lambda: nn.utils.pad_sequence(seqs, padding_value=padding, batch_first=data.draw(st.booleans())))
    if err is None:
        backward_through(out, *seqs)


@target
def optimizers(data: Any) -> None:
    params = data.draw(st.lists(tensors(dtypes=("float32", "float64", "int64")), max_size=3) | tensors() | junk)
    cls = data.draw(st.sampled_from([optim.SGD, optim.Adam]))
    lr = data.draw(st.floats(-1, 1) | st.sampled_from([math.inf, math.nan]) | junk)
    kwargs = ({"momentum": data.draw(st.floats(-0.5, 1.5) | junk)} if cls is optim.SGD
              else {"betas": data.draw(st.tuples(st.floats(-0.5, 1.5), st.floats(-0.5, 1.5)) | junk)})
    opt, err = attempt(lambda: cls(params, lr=lr, **kwargs))
    if err is None:
        for p in opt.params:
            p.grad = Tensor.ones(*p.shape, dtype=p.dtype)
        _, err = attempt(opt.step)
        assert err is None
        opt.params[0].grad = data.draw(tensors() | junk)  # set by hand: maybe wrong
        attempt(opt.step)
        state = opt.state_dict()
        if state and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(sorted(state)))
            state[key] = data.draw(arrays() | junk)
        attempt(lambda: opt.load_state_dict(state))


@target
def state_dicts(data: Any) -> None:
    model = nn.Linear(2, 3)
    state = model.state_dict()
    edit = data.draw(st.sampled_from(["drop", "add", "reshape", "junk", "dtype", "none"]))
    key = data.draw(st.sampled_from(sorted(state)))
    if edit == "drop":
        del state[key]
    elif edit == "add":
        state["extra." + key] = state[key]
    elif edit == "reshape":
        state[key] = data.draw(arrays())
    elif edit == "junk":
        state[key] = data.draw(junk)
    elif edit == "dtype":
        state[key] = state[key].astype(data.draw(st.sampled_from(["int64", "bool", "float64", "U3"])))
    before = model.state_dict()
    _, err = attempt(lambda: model.load_state_dict(state, strict=data.draw(st.booleans())))
    if err is not None:  # all or nothing: a refused state dict changes nothing
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(value, before[name])


@target
def module_methods(data: Any) -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    device = data.draw(st.sampled_from(["cpu", "strict", "tpu", None, 0]))
    dtype = data.draw(st.sampled_from(["float32", "float64", "int64", "bool", "nonsense", None, 2]))
    _, err = attempt(lambda: model.to(device=device, dtype=dtype))
    if err is not None:  # a refused move changes nothing
        assert all(p.device == "cpu" and p.dtype == np.float32 for p in model.parameters())
    else:
        out, err = attempt(lambda: model(Tensor.ones(4, 2, device=model.device, dtype=next(model.parameters()).dtype)))
        assert err is None, err
        backward_through(out, *model.parameters())
    attempt(lambda: model.train(data.draw(st.booleans())))
    attempt(model.zero_grad)
    attempt(lambda: model[data.draw(st.integers(-3, 3))])


# Keys that once broke np.savez (its own keyword names), zip names (NUL, backslash, our index) or UTF-8.
odd_keys = (st.text(st.characters(blacklist_categories=()), max_size=4)
            | st.sampled_from(["allow_pickle", "file", "", "a\x00", "\ud800", "tinygrad_rnn.keys.json", "entry.0",
                               "a.npy", "../x", "/", "a\\b", "x" * 300]))


@target
def files(data: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "f.npz")
        state = data.draw(st.dictionaries(odd_keys | st.integers(0, 2), tensors() | arrays() | junk
                                          | st.floats() | st.integers(-3, 3), max_size=4) | junk)
        _, err = attempt(lambda: tr.save(state, path))
        if err is None:
            loaded, err = attempt(lambda: tr.load(path))
            assert err is None, err
            assert list(loaded) == list(state)  # every key exactly, in order
            for key, value in state.items():
                expected = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
                np.testing.assert_array_equal(loaded[key], expected, err_msg=repr(key))
        step = data.draw(st.none() | st.integers(-2, 5) | junk)
        extra = data.draw(st.none() | st.dictionaries(odd_keys, arrays() | junk | st.text(max_size=3),
                                                      max_size=2) | junk)
        _, err = attempt(lambda: tr.save_checkpoint(path, nn.Linear(2, 2), step=step, extra=extra))
        if err is None:
            info, err = attempt(lambda: tr.load_checkpoint(path, nn.Linear(2, 2)))
            assert err is None and info["step"] == step, err
        with open(path, "wb") as f:  # garbage, sometimes behind a zip header
            f.write(data.draw(st.sampled_from([b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY"])) + data.draw(st.binary()))
        for load in (tr.load, tr.load_checkpoint):
            _, err = attempt(lambda load=load: load(path))
            assert err is not None, "garbage loaded"


@target
def damaged_files(data: Any) -> None:
    """A real file with bytes flipped, cut or a limit too small: loads, or is refused by the library."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "f.npz")
        tr.manual_seed(0)  # the same file every time, so hypothesis can replay a draw
        model, opt = nn.Linear(2, 3), optim.Adam
        tr.save_checkpoint(path, model, opt(model.parameters()), step=2, extra={"k": [1], "a": np.ones(3)})
        if data.draw(st.booleans()):  # a NumPy-written file, compressed or not
            arrays_ = tr.load(path)
            with open(path, "wb") as f:
                data.draw(st.sampled_from([np.savez, np.savez_compressed]))(f, **arrays_)
        with open(path, "rb") as f:
            raw = bytearray(f.read())
        for _ in range(data.draw(st.integers(0, 3))):
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
        cut = data.draw(st.none() | st.integers(0, len(raw)))
        with open(path, "wb") as f:
            f.write(bytes(raw[:cut]))
        limit = data.draw(st.sampled_from([None, 0, 100, 2**31]))
        attempt(lambda: tr.load(path, max_bytes=limit))
        target_model = nn.Linear(2, 3)
        target_opt = opt(target_model.parameters(), lr=0.5)
        before = target_model.state_dict()
        _, err = attempt(lambda: tr.load_checkpoint(path, target_model, target_opt, max_bytes=limit))
        if err is not None:  # all or nothing
            assert target_opt.lr == 0.5
            for name, value in target_model.state_dict().items():
                np.testing.assert_array_equal(value, before[name])


@target
def seeding(data: Any) -> None:
    attempt(lambda: tr.manual_seed(data.draw(st.integers(-2, 2**70) | junk | numpy_scalars)))
    state = tr.get_rng_state()
    broken = data.draw(st.sampled_from(["drop", "junk", "none"]))
    if broken == "drop":
        state = {k: v for k, v in state.items() if k != "state"}
    elif broken == "junk":
        state = data.draw(junk)
    attempt(lambda: tr.set_rng_state(state))


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", sorted(TARGETS))
@fuzz_settings
@given(data=st.data())
def test_only_library_errors_escape(name: str, data: Any) -> None:
    TARGETS[name](data)


def test_the_oracle_catches_a_numpy_error() -> None:
    """The checker itself: an error raised inside NumPy, or by a library line that does
    not raise on purpose, is reported as an escape."""
    with pytest.raises(AssertionError, match="escaped"):
        attempt(lambda: np.ones(2).reshape(3))
    with pytest.raises(AssertionError, match="escaped"):
        check_library_error(_raised_by_numpy_inside_the_library())
    _, err = attempt(lambda: Tensor.ones(2) + Tensor.ones(3))  # a library error passes
    assert isinstance(err, ValueError)


def _raised_by_numpy_inside_the_library() -> BaseException:
    from tinygrad_rnn.ops.elementwise import PowScalar

    try:
        PowScalar.apply(Tensor([2]), p=-1)  # NumPy: "Integers to negative integer powers..."
    except ValueError as e:
        return e
    raise AssertionError("expected NumPy to refuse")
