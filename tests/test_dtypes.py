"""Dtype names (tinygrad_rnn/dtypes.py): PyTorch's spellings, accepted by every dtype=
argument and equal to a tensor's dtype; PyTorch's dtype attributes; refusals that say why."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

NAMES = {"float16": "half", "float32": "float", "float64": "double", "int16": "short", "int32": "int",
         "int64": "long", "bool": "bool"}


@pytest.mark.parametrize(("name", "alias"), sorted(NAMES.items()))
def test_every_name_and_alias_makes_that_dtype(device: str, name, alias) -> None:
    canonical = getattr(tr, name if name != "bool" else "bool_")
    assert getattr(tr, alias) == canonical == name and repr(canonical) == f"tr.{name}"
    for make in (lambda d: Tensor([1, 0], dtype=d, device=device), lambda d: tr.zeros(2, dtype=d, device=device),
                 lambda d: tr.tensor([1, 0], dtype=d, device=device), lambda d: tr.ones(2, device=device).to(d)):
        t = make(getattr(tr, alias))
        assert t.dtype == canonical and canonical == t.dtype and t.dtype == name
        assert t.dtype != (tr.int8 if name != "int8" else tr.uint8)


def test_pytorch_dtype_attributes() -> None:
    assert tr.float32.is_floating_point and not tr.int64.is_floating_point and not tr.bool.is_floating_point
    assert tr.int8.is_signed and not tr.uint8.is_signed and tr.float16.itemsize == 2 and tr.bool.itemsize == 1
    assert isinstance(tr.float64, tr.dtype) and tr.Size is tuple


def test_dtype_arguments_of_layers_and_modules_take_the_names() -> None:
    layer = nn.Linear(2, 3, dtype=tr.float64)
    assert layer.weight.dtype == tr.float64
    layer.to(dtype=tr.float32)
    assert layer.weight.dtype == tr.float32


def test_unsupported_dtypes_say_why() -> None:
    with pytest.raises(AttributeError, match=r"tinygrad_rnn.bfloat16 \(a PyTorch idiom\) is not supported: NumPy"):
        tr.bfloat16  # noqa: B018
    with pytest.raises(TypeError, match=r"dtype 'complex64' is not supported: tensors hold real numbers only"):
        Tensor([1.0]).to("complex64")
    assert tr.dtypes.name_of(np.dtype("float32")) is tr.float32 and tr.dtypes.name_of("torch.int64") is tr.long
