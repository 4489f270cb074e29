"""tr.save / tr.load: .npz round trips, and files that are refused without ever being
unpickled."""

from __future__ import annotations

import os
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.backend import npz


def spring(marker: str) -> None:
    """Called only if someone unpickles a _Trap: leaves a file behind as evidence."""
    pathlib.Path(marker).write_text("unpickled")


class _Trap:
    """Pickles to a call of ``spring``: loading it would run code."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (spring, (self.marker,))


def test_round_trip_of_tensors_and_arrays(device: str, tmp_path: pathlib.Path) -> None:
    state = {
        "w32": Tensor.randn(3, 2, device=device),
        "w64": Tensor.randn(4, device=device, dtype="float64"),
        "steps": Tensor([1, 2, 3], device=device),
        "scalar": Tensor(2.5, device=device, dtype="float64"),
        "empty": Tensor.zeros(0, 3, device=device),
        "host32": np.arange(6, dtype=np.float32).reshape(2, 3),
        "host_int": np.array([[7, -1]], dtype=np.int64),
        "flag": np.array([True, False]),
        "count": 5,
        "lr": 0.01,
    }
    path = tmp_path / "ckpt.npz"
    tr.save(state, path)
    loaded = tr.load(path)
    assert set(loaded) == set(state)
    for name, value in state.items():
        got = loaded[name]
        assert type(got) is np.ndarray, name
        expected = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected)
    assert loaded["w32"].dtype == np.float32 and loaded["w64"].dtype == np.float64
    assert loaded["steps"].dtype == np.int64


def test_loaded_arrays_make_tensors_on_any_device(device: str, tmp_path: pathlib.Path) -> None:
    tr.save({"w": Tensor([[1.0, 2.0]], dtype="float64")}, str(tmp_path / "c.npz"))  # str paths too
    w = Tensor(tr.load(str(tmp_path / "c.npz"))["w"], device=device)
    assert w.device == device and w.dtype == np.float64 and w.tolist() == [[1.0, 2.0]]


def test_save_overwrites_and_a_failed_save_leaves_the_old_file(tmp_path: pathlib.Path, monkeypatch) -> None:
    path = tmp_path / "ckpt.npz"
    tr.save({"a": np.zeros(2)}, path)
    tr.save({"a": np.ones(2)}, path)
    assert tr.load(path)["a"].tolist() == [1.0, 1.0]

    def crash(out, array, allow_pickle):
        out.write(b"half an array")
        raise KeyboardInterrupt  # killed mid-save

    monkeypatch.setattr(npz.npy_format, "write_array", crash)
    with pytest.raises(KeyboardInterrupt):
        tr.save({"a": np.full(2, 9.0)}, path)
    monkeypatch.undo()
    assert tr.load(path)["a"].tolist() == [1.0, 1.0]
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]  # no temporary file left behind


def test_an_object_array_is_refused_and_never_unpickled(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "sprung"
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.ones(2), payload=np.array([_Trap(str(marker))], dtype=object))
    with pytest.raises(ValueError, match=r"entry 'payload' is an object array.*never unpickles"):
        tr.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["text", "pickle", "npy", "empty", "truncated zip", "zip of other files"])
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: pathlib.Path, kind) -> None:
    marker = tmp_path / "sprung"
    path = tmp_path / "not_a_checkpoint.npz"
    if kind == "text":
        path.write_text("step,loss\n1,0.5\n")
    elif kind == "pickle":
        path.write_bytes(pickle.dumps({"w": _Trap(str(marker))}))
    elif kind == "npy":
        np.save(tmp_path / "single.npy", np.ones(3))
        path = tmp_path / "single.npy"
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated zip":
        tr.save({"w": np.ones(100)}, path)
        path.write_bytes(path.read_bytes()[:60])
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("notes.txt", "hello")
    with pytest.raises(ValueError, match=r"is not a tinygrad_rnn checkpoint.*expected an \.npz archive of arrays"):
        tr.load(path)
    assert not marker.exists()


def test_missing_file_raises_file_not_found(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        tr.load(tmp_path / "nope.npz")


@pytest.mark.parametrize(("state", "message"), [
    ([np.ones(1)], "save: expected a dict of name -> Tensor, got list"),
    ({1: np.ones(1)}, "save: key 1 is a int; expected str"),
    ({"a": [1.0, {"b": object()}]}, r"save: the entry 'a.1.b' is a object; expected a Tensor, an array, a number"),
    ({"a": {(1, 2): 3}}, r"save: the key \(1, 2\) under 'a' is a tuple; expected str or int keys"),
])
def test_save_refuses_what_it_cannot_store(tmp_path: pathlib.Path, state, message) -> None:
    with pytest.raises(TypeError, match=message):
        tr.save(state, tmp_path / "x.npz")
    assert not os.listdir(tmp_path)
