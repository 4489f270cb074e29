"""tr.save / tr.load: .npz round trips, and files that are refused without ever being
unpickled."""

from __future__ import annotations

import io
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


# ------------------------------------------------------- file objects, as torch.save / torch.load take
class OneWay:
    """A stream that cannot seek (a pipe, a socket): only write() or read()."""

    def __init__(self, data: bytes = b"") -> None:
        self.buffer, self.at = bytearray(data), 0

    def write(self, data) -> int:
        self.buffer += bytes(data)
        return len(data)

    def flush(self) -> None:
        pass

    def read(self, n: int = -1) -> bytes:
        end = len(self.buffer) if n < 0 else self.at + n
        out, self.at = bytes(self.buffer[self.at:end]), min(end, len(self.buffer))
        return out


def test_bytes_io_round_trip_the_pytorch_way(device: str) -> None:
    model = tr.nn.Linear(3, 2, device=device)
    buffer = io.BytesIO()
    tr.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = tr.nn.Linear(3, 2, device=device)
    fresh.load_state_dict(tr.load(buffer, map_location="cpu", weights_only=True))
    np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())
    assert not buffer.closed  # the caller's file stays open


def test_open_files_and_streams_that_cannot_seek(tmp_path: pathlib.Path) -> None:
    state = {"w": np.arange(6.0).reshape(2, 3), "step": 4}
    with open(tmp_path / "a.npz", "wb") as f:
        f.write(b"header bytes of the caller's own")  # a save starts at the current position
        start = f.tell()
        tr.save(state, f)
    with open(tmp_path / "a.npz", "rb") as f:
        f.seek(start)
        loaded = tr.load(f)
    assert loaded["w"].tolist() == state["w"].tolist() and int(loaded["step"]) == 4
    pipe = OneWay()
    tr.save(state, pipe)
    assert tr.load(OneWay(bytes(pipe.buffer)))["w"].tolist() == state["w"].tolist()
    assert tr.load(io.BytesIO(bytes(pipe.buffer)))["w"].tolist() == state["w"].tolist()
    assert np.load(io.BytesIO(bytes(pipe.buffer)))["w"].tolist() == state["w"].tolist()  # plain NumPy reads it


def test_a_refused_dict_writes_nothing_into_a_file_object() -> None:
    buffer = io.BytesIO()
    with pytest.raises(TypeError, match="'b'"):
        tr.save({"a": np.ones(2), "b": {1.0}}, buffer)  # a set: no array, number, string or container of them
    assert buffer.getvalue() == b""


def test_file_objects_in_the_wrong_mode_are_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "w.npz"
    tr.save({"w": np.ones(1)}, path)
    with open(path, encoding="utf-8") as text, pytest.raises(TypeError, match=r"is open in text mode; expected a binary"):
        tr.load(text)
    with open(path, "w", encoding="utf-8") as text, pytest.raises(TypeError, match="open in text mode"):
        tr.save({"w": np.ones(1)}, text)
    with open(path, "rb") as f, pytest.raises(io.UnsupportedOperation, match=r"not open for writing \(mode 'rb'\)"):
        tr.save({"w": np.ones(1)}, f)
    with open(path, "ab") as f, pytest.raises(io.UnsupportedOperation, match="not open for reading"):
        tr.load(f)
    closed = io.BytesIO()
    closed.close()
    with pytest.raises(ValueError, match="'<BytesIO>' is closed"):
        tr.save({"w": np.ones(1)}, closed)


def test_file_objects_keep_the_safety_of_paths(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "sprung"
    buffer = io.BytesIO()
    np.savez(buffer, payload=np.array([_Trap(str(marker))], dtype=object))
    buffer.seek(0)
    with pytest.raises(ValueError, match=r"'<BytesIO>': member 'payload.npy'.*never unpickles"):
        tr.load(buffer, weights_only=False)  # weights_only=False never turns pickle on
    assert not marker.exists()
    big = io.BytesIO()
    tr.save({"w": np.zeros(1000)}, big)
    big.seek(0)
    with pytest.raises(ValueError, match="over the limit max_bytes=4000; nothing was inflated"):
        tr.load(big, max_bytes=4000)
    with pytest.raises(ValueError, match=r"'<OneWay>': the stream holds more than 16777616 bytes.*max_bytes=200"):
        tr.load(OneWay(b"PK\x03\x04" + bytes(17 << 20)), max_bytes=200)  # never read to the end
    with pytest.raises(ValueError, match=r"'<BytesIO>' is not a tinygrad_rnn checkpoint"):
        tr.load(io.BytesIO(pickle.dumps({"w": 1})))


def test_map_location_moves_the_arrays(device: str) -> None:
    buffer = io.BytesIO()
    tr.save({"w": Tensor([[1.0, 2.0]]), "n": 3}, buffer)
    blob = buffer.getvalue()
    for where in (device, {"cpu": device}):
        loaded = tr.load(io.BytesIO(blob), map_location=where)
        for value in loaded.values():
            backend = tr.backend.backend_of(value)
            assert (backend.name if backend else "cpu") == device
        assert Tensor(loaded["w"]).tolist() == [[1.0, 2.0]]
    assert type(tr.load(io.BytesIO(blob), map_location={"cuda:1": "cuda"})["w"]) is np.ndarray  # nothing was on cuda:1
    seen = []
    loaded = tr.load(io.BytesIO(blob), map_location=lambda array, location: seen.append(location))
    assert seen == ["cpu", "cpu"] and type(loaded["w"]) is np.ndarray  # None keeps the array
    doubled = tr.load(io.BytesIO(blob), map_location=lambda array, location: Tensor(array * 2, device=device))
    assert Tensor(doubled["w"]).tolist() == [[2.0, 4.0]]


def test_map_location_takes_a_torch_device() -> None:
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    tr.save({"w": np.ones(2)}, buffer)
    buffer.seek(0)
    assert type(tr.load(buffer, map_location=torch.device("cpu"))["w"]) is np.ndarray


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"map_location": 3}, TypeError, "map_location is a int; expected None, a device"),
    ({"map_location": "tpu"}, ValueError, r"map_location='tpu': unknown device 'tpu'"),
    ({"map_location": {"cpu": {"cpu": "cpu"}}}, TypeError, "maps 'cpu' to a dict; expected a device"),
    ({"map_location": lambda array, location: [1.0]}, TypeError, "map_location returned a list; expected an array"),
    ({"weights_only": "yes"}, TypeError, "weights_only='yes'; expected True, False or None"),
])
def test_load_options_errors(kwargs, error, message) -> None:
    buffer = io.BytesIO()
    tr.save({"w": np.ones(2)}, buffer)
    buffer.seek(0)
    with pytest.raises(error, match=message):
        tr.load(buffer, **kwargs)


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path: pathlib.Path) -> None:
    for obj, kind in ((tr.nn.GRU(2, 3), "GRU"), (tr.optim.SGD(tr.nn.Linear(1, 1).parameters(), lr=0.1), "SGD")):
        with pytest.raises(TypeError, match=rf"got a whole {kind} object.*never pickles.*tr.save\(obj.state_dict\(\), "
                                            rf"path\).*obj.load_state_dict\(tr.load\(path\)\)"):
            tr.save(obj, tmp_path / "m.npz")
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="got a whole Linear object"):
        tr.save(torch.nn.Linear(1, 1), io.BytesIO())
    assert not os.listdir(tmp_path)


def test_a_nested_dict_round_trips_as_pytorch_users_save_it(tmp_path: pathlib.Path) -> None:
    model = tr.nn.Linear(2, 2)
    tr.save({"model": model.state_dict(), "epoch": 3}, tmp_path / "c.npz")
    loaded = tr.load(tmp_path / "c.npz")
    assert loaded["epoch"] == 3 and sorted(loaded["model"]) == ["bias", "weight"]
    np.testing.assert_array_equal(loaded["model"]["weight"], model.weight.numpy())


def test_checkpoints_go_to_file_objects_too() -> None:
    model = tr.nn.Linear(2, 3)
    opt = tr.optim.Adam(model.parameters(), lr=0.01)
    buffer = io.BytesIO()
    tr.save_checkpoint(buffer, model, opt, step=7, extra={"note": "x"})
    buffer.seek(0)
    fresh = tr.nn.Linear(2, 3)
    info = tr.load_checkpoint(buffer, fresh, tr.optim.Adam(fresh.parameters(), lr=0.5))
    assert info["step"] == 7 and info["extra"] == {"note": "x"}
    np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())
