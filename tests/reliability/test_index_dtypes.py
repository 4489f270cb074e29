"""Indices of every integer dtype are range-checked by their true value.

Token ids (``Embedding``), class targets (``cross_entropy``, ``nll_loss``) and
``ignore_index`` are compared in 64 bits: an ``int8`` id of -128 is refused (negating it
in int8 overflows back to -128), a ``uint8`` label 255 is 255, and in-range indices of
every dtype give exactly what int64 indices give."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import functional as F

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16"]


def bounds(dtype: str) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_ids_of_every_dtype(dtype: str, device: str) -> None:
    lo, hi = bounds(dtype)
    n = min(hi, 200)  # the largest id that dtype can hold is the last valid row (or beyond it)
    emb = nn.Embedding(n, 3, device=device)
    ids = np.array([0, n - 1, 1], dtype=dtype)
    expected = emb(Tensor(ids.astype("int64"), device=device)).numpy()
    np.testing.assert_array_equal(emb(Tensor(ids, device=device)).numpy(), expected)
    bad_values = [lo] if lo < 0 else []
    bad_values += [n] if n <= hi else []
    bad_values += [hi] if hi >= n else []
    for bad in bad_values:
        with pytest.raises(IndexError, match=rf"id {bad} is out of range; expected ids in \[0, {n - 1}\]"):
            emb(Tensor(np.array([1, bad, 2], dtype=dtype), device=device))


def test_int8_minus_128_is_refused_not_read_as_row_72(device: str) -> None:
    emb = nn.Embedding(200, 2, device=device)
    with pytest.raises(IndexError, match="id -128 is out of range"):
        emb(Tensor(np.array([-128], dtype="int8"), device=device))


def test_int64_extremes_are_named_exactly(device: str) -> None:
    emb = nn.Embedding(5, 2, device=device)
    for bad in (-(2**63), 2**63 - 1):
        with pytest.raises(IndexError, match=f"id {bad} is out of range"):
            emb(Tensor(np.array([3, bad], dtype="int64"), device=device))
    with pytest.raises(IndexError, match=f"id {2**64 - 1} is out of range"):  # uint64 is not wrapped either
        emb(Tensor(np.array([1, 2**64 - 1], dtype="uint64"), device=device))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("dtype", DTYPES)
def test_class_targets_of_every_dtype(loss, dtype: str, device: str) -> None:
    lo, hi = bounds(dtype)
    logits = Tensor(np.random.default_rng(0).standard_normal((3, 4)), device=device, dtype="float64")
    target = np.array([1, 2, 3], dtype=dtype)
    expected = loss(logits, Tensor(target.astype("int64"), device=device), reduction="none").numpy()
    np.testing.assert_array_equal(loss(logits, Tensor(target, device=device), reduction="none").numpy(), expected)
    for bad in ([lo] if lo < 0 else []) + [4, hi]:
        with pytest.raises(IndexError, match=rf"class index {bad}, but the input has n_classes=4"):
            loss(logits, Tensor(np.array([0, bad, 1], dtype=dtype), device=device))


def test_uint8_labels_with_and_without_ignore_index(device: str) -> None:
    logits = Tensor(np.random.default_rng(1).standard_normal((4, 3)), device=device, dtype="float64")
    as_int64 = Tensor(np.array([1, 2, 0, 2]), device=device)
    as_uint8 = Tensor(np.array([1, 2, 0, 2], dtype="uint8"), device=device)
    assert F.cross_entropy(logits, as_uint8).item() == F.cross_entropy(logits, as_int64).item()
    # -100 is never a uint8 value, so nothing is ignored; 255 is ignored where it appears
    assert F.cross_entropy(logits, as_uint8, ignore_index=-100).item() == F.cross_entropy(logits, as_int64).item()
    padded = Tensor(np.array([1, 255, 0, 255], dtype="uint8"), device=device)
    expected = F.cross_entropy(logits, Tensor(np.array([1, -1, 0, -1]), device=device), ignore_index=-1)
    assert F.cross_entropy(logits, padded, ignore_index=255).item() == expected.item()


def test_int8_ignore_index_is_compared_by_value(device: str) -> None:
    logits = Tensor(np.random.default_rng(2).standard_normal((3, 3)), device=device, dtype="float64")
    target = Tensor(np.array([2, -128, 1], dtype="int8"), device=device)
    kept = F.cross_entropy(logits, target, ignore_index=-128, reduction="none").numpy()
    assert kept[1] == 0 and (kept[[0, 2]] > 0).all()
    with pytest.raises(IndexError, match="class index -128"):  # 128 wraps to -128 in int8: not equal here
        F.cross_entropy(logits, target, ignore_index=128)


@pytest.mark.parametrize("ignore_index", ["-100", True, False, 1.0, [1]])
def test_ignore_index_must_be_an_int(ignore_index, device: str) -> None:
    logits = Tensor.zeros(2, 3, device=device)
    with pytest.raises(TypeError, match=re.escape(f"cross_entropy: ignore_index={ignore_index!r}") + ".*expected an int"):
        F.cross_entropy(logits, Tensor([0, 1], device=device), ignore_index=ignore_index)


def test_ignore_index_accepts_numpy_integers_and_refuses_huge_ints(device: str) -> None:
    logits = Tensor(np.random.default_rng(3).standard_normal((3, 3)), device=device, dtype="float64")
    target = Tensor([0, 2, 1], device=device)
    for numpy_int in (np.int64(2), np.int8(2), np.uint16(2)):
        assert F.nll_loss(logits, target, ignore_index=numpy_int).item() == F.nll_loss(
            logits, target, ignore_index=2).item()
    with pytest.raises(ValueError, match="ignore_index=1180591620717411303424 does not fit in int64"):
        F.nll_loss(logits, target, ignore_index=2**70)
