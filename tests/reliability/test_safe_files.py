"""Files never lose data and never crash inside NumPy: every str key round trips, every
damaged or hostile file is refused with a ValueError naming the file and the member
(before anything big is inflated), a checkpoint loads all or nothing, and save errors
name the user's path."""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import tracemalloc
import zipfile

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim, serialization
from tinygrad_rnn.backend import npz
from tinygrad_rnn.nested import flatten

ODD_KEYS = ["allow_pickle", "file", "", "a\x00b", "\ud800 lone surrogate", "x" * 1000, npz.INDEX, "entry.0",
            "a.npy", "../../etc/passwd", "/abs", "a\\b", "\u00fcn\u00efc\u00f6de", "\n", "model/weight", " "]


def npy(shape: tuple[int, ...], data: bytes, descr: str = "<f8") -> bytes:
    """A .npy member whose header declares ``shape`` whatever ``data`` holds."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue() + data


def write_zip(path: pathlib.Path, members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> pathlib.Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def refused(path: pathlib.Path, member: str, message: str, load=tr.load, **kwargs) -> str:
    """``load(path)`` raises a ValueError naming the file and the member, and matching ``message``."""
    with pytest.raises(ValueError) as info:
        load(path, **kwargs)
    text = str(info.value)
    assert repr(str(path)) in text and repr(member) in text, text
    assert re.search(message, text), text
    return text


# ------------------------------------------------------------------ keys round trip
def test_every_string_key_round_trips_exactly(tmp_path: pathlib.Path) -> None:
    state = {key: np.arange(i + 1.0) for i, key in enumerate(ODD_KEYS)}
    state["t"] = Tensor([[1, 2]])
    path = tmp_path / "odd.npz"
    tr.save(state, path)
    loaded = tr.load(path)
    assert list(loaded) == list(state)  # the same keys, in the same order
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, Tensor) else value
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == expected.dtype, repr(key)
        np.testing.assert_array_equal(loaded[key], expected, err_msg=repr(key))
    with np.load(path) as plain:  # printable keys keep their own names for numpy.load
        np.testing.assert_array_equal(plain["allow_pickle"], state["allow_pickle"])
        np.testing.assert_array_equal(plain["model/weight"], state["model/weight"])


def test_files_written_by_numpy_savez_still_load(tmp_path: pathlib.Path) -> None:
    """The previous tr.save was numpy.savez(f, **arrays): those files load under the same names."""
    model = nn.Linear(2, 3)
    opt = optim.Adam(model.parameters(), lr=0.03)
    new = tmp_path / "new.npz"
    tr.save_checkpoint(new, model, opt, step=4, extra={"note": "hi", "best": np.ones(2)})
    for writer in (np.savez, np.savez_compressed):
        old = tmp_path / f"{writer.__name__}.npz"
        with open(old, "wb") as f:
            writer(f, **tr.load(new))
        assert npz.INDEX not in zipfile.ZipFile(old).namelist()
        loaded = tr.load(old)
        assert loaded.keys() == tr.load(new).keys()
        fresh = nn.Linear(2, 3)
        fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
        info = tr.load_checkpoint(old, fresh, fresh_opt)
        assert info["step"] == 4 and info["extra"]["note"] == "hi" and fresh_opt.lr == 0.03
        np.testing.assert_array_equal(fresh.weight.numpy(), model.weight.numpy())


@pytest.mark.parametrize("kind", ["str", "bytes", "pathlib"])
def test_bytes_and_pathlike_paths_work_everywhere(tmp_path: pathlib.Path, kind: str) -> None:
    def as_kind(p: pathlib.Path):
        return {"str": str(p), "bytes": os.fsencode(p), "pathlib": p}[kind]

    tr.save({"w": np.ones(2)}, as_kind(tmp_path / "a.npz"))
    assert tr.load(as_kind(tmp_path / "a.npz"))["w"].tolist() == [1.0, 1.0]
    model = nn.Linear(2, 2)
    tr.save_checkpoint(as_kind(tmp_path / "c.npz"), model, step=3)
    assert tr.load_checkpoint(as_kind(tmp_path / "c.npz"), nn.Linear(2, 2))["step"] == 3
    assert sorted(os.listdir(tmp_path)) == ["a.npz", "c.npz"]


@pytest.mark.parametrize("path", [None, 3, "", b""])
def test_a_path_that_is_not_a_file_name_is_refused(tmp_path: pathlib.Path, path) -> None:
    for call in (lambda: tr.save({}, path), lambda: tr.load(path), lambda: tr.load_checkpoint(path)):
        with pytest.raises(TypeError, match=r"path is .*; expected a non-empty str, bytes or os\.PathLike"):
            call()


# ------------------------------------------------------------------- save errors
def test_saving_into_a_missing_folder_names_the_users_path(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "no" / "such" / "folder" / "w.npz"
    for save in (lambda: tr.save({"w": np.ones(1)}, path), lambda: tr.save_checkpoint(path, nn.Linear(1, 1))):
        with pytest.raises(FileNotFoundError) as info:
            save()
        assert info.value.filename == str(path) and str(path) in str(info.value)
        assert ".tmp-" not in str(info.value)


def test_saving_over_a_folder_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(IsADirectoryError, match=re.escape(repr(str(tmp_path)))):
        tr.save({"w": np.ones(1)}, tmp_path)


def test_saving_over_a_read_only_file_is_refused_like_open(tmp_path: pathlib.Path, monkeypatch) -> None:
    """The check is os.access(path, W_OK), what open(path, "wb") (and torch.save) obeys. As
    root every file is writable to open(), so here os.access answers for a read-only file."""
    path = tmp_path / "w.npz"
    tr.save({"w": np.zeros(1)}, path)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.fspath(p) == str(path) else real_access(p, mode))
    with pytest.raises(PermissionError) as info:
        tr.save({"w": np.ones(1)}, path)
    assert info.value.filename == str(path) and "is read-only" in str(info.value)
    monkeypatch.undo()
    assert tr.load(path)["w"].tolist() == [0.0] and os.listdir(tmp_path) == ["w.npz"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: open() writes read-only files, so there is nothing to refuse")
def test_saving_over_a_chmod_read_only_file_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "w.npz"
    tr.save({"w": np.zeros(1)}, path)
    path.chmod(0o444)
    with pytest.raises(PermissionError, match=re.escape(repr(str(path)))):
        tr.save({"w": np.ones(1)}, path)
    assert tr.load(path)["w"].tolist() == [0.0]


def test_a_write_error_names_the_users_path_and_leaves_no_temporary_file(tmp_path: pathlib.Path,
                                                                         monkeypatch) -> None:
    path = tmp_path / "w.npz"
    tr.save({"w": np.zeros(1)}, path)

    def disk_full(out, array, allow_pickle):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(npz.npy_format, "write_array", disk_full)
    with pytest.raises(OSError, match=re.escape(f"save: cannot write {str(path)!r}: writing failed")) as info:
        tr.save({"w": np.ones(1)}, path)
    assert info.value.filename == str(path) and ".tmp-" not in str(info.value)
    monkeypatch.undo()

    def no_access(**kwargs):  # a folder the user may not write into (root may write anywhere)
        raise PermissionError(13, "Permission denied", os.path.join(kwargs["dir"], ".tmp-x.npz"))

    monkeypatch.setattr(npz.tempfile, "mkstemp", no_access)
    with pytest.raises(PermissionError, match="no temporary file can be created in") as info:
        tr.save({"w": np.ones(1)}, path)
    assert info.value.filename == str(path) and ".tmp-" not in str(info.value)
    monkeypatch.undo()
    assert tr.load(path)["w"].tolist() == [0.0] and os.listdir(tmp_path) == ["w.npz"]


def test_save_refuses_object_arrays_before_writing(tmp_path: pathlib.Path) -> None:
    with pytest.raises(TypeError, match="save: entry .o. holds object data, which only pickle could store"):
        tr.save({"o": np.array([{}], dtype=object)}, tmp_path / "o.npz")
    assert not os.listdir(tmp_path)


# ----------------------------------------------------------- refused before reading
def test_an_absurd_shape_is_refused_from_the_header(tmp_path: pathlib.Path) -> None:
    path = write_zip(tmp_path / "huge.npz", {"w.npy": npy((10**12, 10**6), bytes(16))})
    refused(path, "w.npy", r"header declares shape \(1000000000000, 1000000\).*zip directory gives 16 bytes",
            max_bytes=None)  # refused even with no limit: the header does not match the member
    path = write_zip(tmp_path / "negative.npz", {"w.npy": npy((-2,), b"")})
    refused(path, "w.npy", "not a readable .npy array|which no array can have")


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """0.39 MB of deflate that inflates to a 400 MB array of zeros."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    n = 50_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("w.npy", "w", force_zip64=True) as out:
        out.write(npy((n,), b""))
        chunk = bytes(1 << 20)
        for start in range(0, 8 * n, len(chunk)):
            out.write(chunk[:8 * n - start])
    assert path.stat().st_size < 400_000
    return path


def test_a_decompression_bomb_is_refused_before_it_is_inflated(bomb: pathlib.Path) -> None:
    tracemalloc.start()
    try:
        for load in (tr.load, tr.load_checkpoint):
            refused(bomb, "w.npy", r"declares 400000128 bytes.*over the limit max_bytes=100000000; nothing was "
                                   r"inflated.*larger max_bytes=", load=load, max_bytes=100_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak} bytes allocated to refuse the file"


def test_the_limit_is_documented_and_can_be_raised(tmp_path: pathlib.Path) -> None:
    assert serialization.DEFAULT_MAX_BYTES == 2 * 1024**3
    path = tmp_path / "w.npz"
    tr.save({"w": np.zeros(1000)}, path)
    refused(path, "w.npy", "over the limit max_bytes=4000", max_bytes=4000)
    assert tr.load(path, max_bytes=10_000)["w"].shape == (1000,)
    assert tr.load(path, max_bytes=None)["w"].shape == (1000,)
    with pytest.raises(TypeError, match=r"max_bytes='1' is a str; expected an int or None"):
        tr.load(path, max_bytes="1")
    with pytest.raises(ValueError, match="max_bytes=-1; expected a non-negative number of bytes"):
        tr.load_checkpoint(path, max_bytes=-1)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_an_unsupported_compression_method_is_refused(tmp_path: pathlib.Path, method: int) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ones(3))
    path = write_zip(tmp_path / "odd.npz", {"w.npy": buffer.getvalue()}, method)
    refused(path, "w.npy", rf"compression method {method}; expected one NumPy writes")


@pytest.mark.parametrize("compressed", [False, True])
def test_a_bit_flip_in_the_data_is_refused(tmp_path: pathlib.Path, compressed: bool) -> None:
    path = tmp_path / "w.npz"
    values = np.arange(1000.0)
    if compressed:
        np.savez_compressed(path, a=np.ones(2), w=values)
    else:
        tr.save({"a": np.ones(2), "w": values}, path)
    raw = bytearray(path.read_bytes())
    at = raw.find(values.tobytes()[4000:4100]) if not compressed else raw.find(b"w.npy") + 200
    raw[at + 10] ^= 0x08
    path.write_bytes(bytes(raw))
    refused(path, "w.npy", r"is damaged \(Bad CRC-32")


def test_a_damaged_key_index_is_refused(tmp_path: pathlib.Path) -> None:
    arr = io.BytesIO()
    np.save(arr, np.ones(2))
    index = {"format": 1, "keys": [["w.npy", "w"]]}
    cases = {
        "not json": ({npz.INDEX: b"{oops", "w.npy": arr.getvalue()}, npz.INDEX, "not valid JSON"),
        "newer": ({npz.INDEX: json.dumps({"format": 2, "keys": []}).encode(), "w.npy": arr.getvalue()},
                  npz.INDEX, "not a format-1 index"),
        "unlisted": ({npz.INDEX: json.dumps(index).encode(), "w.npy": arr.getvalue(), "v.npy": arr.getvalue()},
                     "v.npy", "not listed in the key index"),
        "missing": ({npz.INDEX: json.dumps({"format": 1, "keys": [["w.npy", "w"], ["v.npy", "v"]]}).encode(),
                     "w.npy": arr.getvalue()}, "v.npy", "the archive has no such member"),
        "twice": ({npz.INDEX: json.dumps({"format": 1, "keys": [["w.npy", "w"], ["w.npy", "v"]]}).encode(),
                   "w.npy": arr.getvalue()}, npz.INDEX, "lists a member twice"),
    }
    for name, (members, member, message) in cases.items():
        refused(write_zip(tmp_path / f"{name.replace(' ', '_')}.npz", members), member, message)


def test_a_member_listed_twice_in_the_zip_is_refused(tmp_path: pathlib.Path) -> None:
    arr = io.BytesIO()
    np.save(arr, np.ones(2))
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", arr.getvalue())
        z.writestr("w.npy", arr.getvalue())
    refused(path, "w.npy", "appears twice")


# ------------------------------------------------------- checkpoints: all or nothing
def snapshot(model: nn.Module, opt: optim.Optimizer) -> tuple:
    return model.state_dict(), opt.state_dict(), tr.get_rng_state()


def assert_unchanged(model: nn.Module, opt: optim.Optimizer, before: tuple) -> None:
    params, opt_state, rng = before
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, params[name], err_msg=name)
    now, opt_state = flatten(opt.state_dict()), flatten(opt_state)  # leaf by leaf, the nesting as text
    assert now.keys() == opt_state.keys()
    for key, value in opt_state.items():
        np.testing.assert_array_equal(now[key], value, err_msg=key)
    assert tr.get_rng_state() == rng


CORRUPTIONS = {
    "rng not json": ("rng", np.array("{not json"), "rng.npy", "is not valid JSON"),
    "rng wrong state": ("rng", np.array(json.dumps({"bit_generator": "MT19937", "state": 3})), "rng.npy",
                        "the generator refuses this state"),
    "rng a list": ("rng", np.array("[1, 2]"), "rng.npy", "holds JSON list; expected a JSON object"),
    "rng not text": ("rng", np.ones(3), "rng.npy", "expected JSON text"),
    "extra not json": ("meta/extra", np.array("{"), "meta/extra.npy", "is not valid JSON"),
    "float step": ("meta/step", np.array(1.5), "meta/step.npy", "the step is .*; expected one non-negative int"),
    "negative step": ("meta/step", np.array(-3), "meta/step.npy", "expected one non-negative int"),
    "step array": ("meta/step", np.array([1, 2]), "meta/step.npy", "expected one non-negative int"),
    "weight shape": ("model/weight", np.ones((5, 5), np.float32), "model/weight.npy",
                     r"shape \(5, 5\); expected numbers of shape \(3, 2\)"),
    "weight text": ("model/bias", np.array(["a", "b", "c"]), "model/bias.npy", "holds <U1 data"),
    "marker": (tr.checkpoint.MARKER, np.array(1.0), f"{tr.checkpoint.MARKER}.npy", "format version"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_bad_checkpoint_entry_changes_nothing(tmp_path: pathlib.Path, case: str) -> None:
    key, value, member, message = CORRUPTIONS[case]
    source = nn.Linear(2, 3)
    source_opt = optim.Adam(source.parameters(), lr=0.01)
    good = tmp_path / "good.npz"
    tr.save_checkpoint(good, source, source_opt, step=7, extra={"note": 1})
    entries = tr.load(good)
    entries[key] = value
    bad = tmp_path / "bad.npz"
    tr.save(entries, bad)

    tr.manual_seed(3)
    model = nn.Linear(2, 3)
    opt = optim.Adam(model.parameters(), lr=0.5)
    before = snapshot(model, opt)
    refused(bad, member, message, load=lambda p, **kw: tr.load_checkpoint(p, model, opt, **kw))
    assert_unchanged(model, opt, before)
    assert opt.lr == 0.5


def test_a_bad_optimizer_state_puts_the_model_back(tmp_path: pathlib.Path) -> None:
    source = nn.Linear(2, 3)
    source_opt = optim.Adam(source.parameters(), lr=0.01)
    path = tmp_path / "ckpt.npz"
    tr.save_checkpoint(path, source, source_opt)
    entries = tr.load(path)
    entries["optim/state.0.exp_avg"] = np.ones((7,), np.float32)  # wrong shape, found only by the optimizer
    tr.save(entries, path)
    model = nn.Linear(2, 3)
    opt = optim.Adam(model.parameters(), lr=0.5)
    before = snapshot(model, opt)
    with pytest.raises(ValueError):
        tr.load_checkpoint(path, model, opt)
    assert_unchanged(model, opt, before)


def test_a_corrupt_rng_entry_is_ignored_when_not_restored(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ckpt.npz"
    tr.save_checkpoint(path, nn.Linear(2, 3), step=1)
    entries = tr.load(path)
    entries["rng"] = np.array("{not json")
    tr.save(entries, path)
    model = nn.Linear(2, 3)
    assert tr.load_checkpoint(path, model, restore_rng=False)["step"] == 1
