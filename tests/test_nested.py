"""tr.nested: nested state dicts go into flat .npz files and come back exactly (tr.save / tr.load)."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nested, nn, optim


def assert_same(a: object, b: object) -> None:
    """Equal values of equal Python types, recursively (arrays by value and dtype)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])  # type: ignore[index]
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)  # type: ignore[arg-type]
        for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype  # type: ignore[union-attr]
        np.testing.assert_array_equal(a, b)  # type: ignore[arg-type]
    else:
        assert a == b or (a != a and b != b), (a, b)  # NaN equals NaN here


NESTED = {
    "model": {"rnn.weight_ih_l0": np.arange(6.0).reshape(2, 3), "head.bias": np.zeros(2, np.float32)},
    "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones(2)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False, "params": [0, 1]}]},
    "epoch": 7, "best": math.inf, "worst": -math.inf, "nan": math.nan, "note": "caf\u00e9", "nothing": None,
    "empty": {"list": [], "tuple": (), "dict": {}}, "0": "a str key that looks like an int", 0: "an int key",
    "a.b": 1, "a": {"b": 2},  # two dotted paths alike: both kept
}


def test_round_trip_keeps_structure_types_and_values() -> None:
    entries = nested.flatten(NESTED)
    assert nested.TREE in entries and "optimizer.state.0.exp_avg" in entries
    assert {"a.b", "a.b#1"} <= set(entries)
    arrays = {k: np.asarray(v) for k, v in entries.items()}  # as a file gives them back
    assert_same(nested.unflatten(arrays, "test"), NESTED)


def test_tr_save_and_load_nested_dicts(tmp_path: pathlib.Path) -> None:
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = Tensor.ones(*p.shape)
    opt.step()
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}
    tr.save(checkpoint, tmp_path / "ckpt.npz")  # PyTorch's torch.save({...}) idiom
    loaded = tr.load(tmp_path / "ckpt.npz")
    assert_same(loaded, checkpoint)
    fresh = optim.Adam(nn.Linear(3, 2).parameters())
    fresh.load_state_dict(loaded["optimizer"])
    assert_same(fresh.state_dict(), opt.state_dict())

    tr.save({"w": np.ones(2), "n": 3}, tmp_path / "flat.npz")  # a flat dict: no nesting entry, as before
    with np.load(tmp_path / "flat.npz") as plain:
        assert {"n", "w"} <= set(plain.files) and nested.TREE not in plain.files
    assert_same(tr.load(tmp_path / "flat.npz"), {"w": np.ones(2), "n": np.array(3)})


def test_tensors_in_a_nested_dict_come_back_as_arrays(tmp_path: pathlib.Path) -> None:
    tr.save({"ema": [Tensor([1.0, 2.0]), Tensor(3.0, dtype="float64")]}, tmp_path / "t.npz")
    ema = tr.load(tmp_path / "t.npz")["ema"]
    assert [type(x) for x in ema] == [np.ndarray, np.ndarray] and ema[0].dtype == np.float32


@pytest.mark.parametrize("tree, message", [
    ('["dict", [["x", ["leaf", "missing", "array"]]]]', "has an unknown node"),
    ('["dict", [["w", ["leaf", "w", "int"]]]]', "expects a int where the file holds float64 data"),
    ('["dict", [["w", ["leaf", "w", "array"]], ["v", ["bogus"]]]]', "has an unknown node"),
    ('["dict", [[1.5, ["leaf", "w", "array"]]]]', "malformed dict item"),
    ('["dict", []]', r"does not list the entries \['w'\]"),
    ("{not json", "is not valid JSON"),
    ('["list", [' * 200 + "]]" * 200, "malformed node"),  # nested past any real state dict
])
def test_a_damaged_nesting_is_refused(tmp_path: pathlib.Path, tree: str, message: str) -> None:
    path = tmp_path / "bad.npz"
    tr.save({"w": np.ones(2), nested.TREE: np.array(tree)}, path)
    with pytest.raises(ValueError, match=message):
        tr.load(path)
