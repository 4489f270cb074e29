"""Reading ``.npz`` files, with every size checked before anything is inflated.

Reading never trusts the file. Before any data is inflated, the zip directory's sizes
(summed over all members) are checked against ``max_bytes``, the compression method must
be one NumPy writes (stored or deflate), and each ``.npy`` header's shape and dtype must
add up to exactly the size the directory declares. Data is then inflated in chunks into
an array of that size, never more, and CRCs are checked. Object arrays are refused unread.
The member names and the key index are those that ``npz.py`` describes and writes.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import zipfile
import zlib
from typing import Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from .npz import INDEX, INDEX_FORMAT

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what numpy.savez and savez_compressed write
# What a damaged zip member can raise from inside zipfile and zlib.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError,
               NotImplementedError, struct.error, OverflowError, RecursionError)
_CHUNK = 1 << 20


class _Counted:
    """A member stream that counts the bytes read through it (the ``.npy`` header's length)."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.count = stream, 0

    def read(self, n: int = -1) -> bytes:
        data = self.stream.read(n)
        self.count += len(data)
        return data


def _not_npz(path: str, why: str) -> ValueError:
    return ValueError(f"{path!r} is not a tinygrad_rnn checkpoint: expected an .npz archive of arrays ({why})")


def _check_directory(path: str, infos: list[zipfile.ZipInfo], max_bytes: int | None) -> None:
    """Refuse, from the zip directory alone, what cannot or must not be inflated."""
    total, seen = 0, set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise ValueError(f"{path!r}: member {name!r} appears twice in the archive; expected each once")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise ValueError(f"{path!r}: member {name!r} is encrypted; expected a plain .npz archive")
        if info.compress_type not in _METHODS:
            raise ValueError(
                f"{path!r}: member {name!r} uses zip compression method {info.compress_type}; expected one "
                "NumPy writes: 0 (stored, numpy.savez) or 8 (deflate, numpy.savez_compressed)"
            )
        total += info.file_size
        if max_bytes is not None and total > max_bytes:
            raise ValueError(
                f"{path!r}: member {name!r} declares {info.file_size} bytes, bringing the archive to at least "
                f"{total} bytes uncompressed, over the limit max_bytes={max_bytes}; nothing was inflated. "
                "If the file is trusted, pass a larger max_bytes= (or None for no limit)"
            )


def _open(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
    try:
        return archive.open(info)
    except _ZIP_ERRORS as e:
        raise ValueError(f"{path!r}: member {info.filename!r} cannot be opened; the archive is damaged ({e})") from e


def _read_exactly(path: str, info: zipfile.ZipInfo, stream: Any, out: memoryview) -> None:
    """Inflate exactly ``len(out)`` bytes into ``out``, chunk by chunk, then check the CRC."""
    done = 0
    try:
        while done < len(out):
            n = stream.readinto(out[done:done + _CHUNK])
            if not n:
                break
            done += n
        more = stream.read(1)  # reaching the end checks the CRC-32
    except _ZIP_ERRORS as e:
        raise ValueError(f"{path!r}: member {info.filename!r} is damaged ({e}); expected intact data") from e
    if done < len(out) or more:
        raise ValueError(
            f"{path!r}: member {info.filename!r} holds {'fewer' if done < len(out) else 'more'} bytes than its "
            f"zip directory declares ({info.file_size}); the archive is damaged"
        )


def _header(path: str, name: str, stream: _Counted) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(stream)
        if version in ((2, 0), (3, 0)):
            return npy_format.read_array_header_2_0(stream)
        raise ValueError(f".npy format version {version} is not supported")
    except (*_ZIP_ERRORS, TypeError, SyntaxError, KeyError) as e:
        raise ValueError(f"{path!r}: member {name!r} is not a readable .npy array ({e})") from e


def _read_array(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> np.ndarray:
    """One ``.npy`` member, its header checked against the zip directory before any data is read."""
    name = info.filename
    with _open(path, archive, info) as raw:
        stream = _Counted(raw)
        shape, fortran_order, dtype = _header(path, name, stream)
        where = f"{path!r}: member {name!r} (entry {key!r})"
        if dtype.hasobject:
            raise ValueError(f"{path!r}: member {name!r}: entry {key!r} is an object array, which would need "
                             "pickle to load; tinygrad_rnn never unpickles. Expected plain numeric arrays.")
        if dtype.subdtype is not None or (dtype.itemsize == 0 and math.prod(shape) != 0):
            raise ValueError(f"{where}: dtype {dtype} is not supported; expected a plain array dtype")
        if len(shape) > 64 or any(d < 0 or d > sys.maxsize for d in shape) or math.prod(shape) > sys.maxsize:
            raise ValueError(f"{where}: the header declares shape {shape}, which no array can have")
        nbytes = math.prod(shape) * dtype.itemsize
        if stream.count + nbytes != info.file_size:
            raise ValueError(
                f"{where}: the header declares shape {shape} of {dtype} ({nbytes} bytes) but the zip directory "
                f"gives {info.file_size - stream.count} bytes of data; the archive is damaged or forged"
            )
        flat = np.empty(nbytes, np.uint8)
        _read_exactly(path, info, raw, memoryview(flat))
    if nbytes == 0:
        return np.empty(shape, dtype, order="F" if fortran_order else "C")
    flat = flat.view(dtype)
    return flat.reshape(shape[::-1]).transpose() if fortran_order else flat.reshape(shape)


def _read_index(path: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[tuple[str, str]]:
    """The (member, key) pairs of the index member, checked."""
    with _open(path, archive, info) as stream:
        text = bytearray(info.file_size)
        _read_exactly(path, info, stream, memoryview(text))
    try:
        index = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{path!r}: member {INDEX!r} (the key index) is not valid JSON ({e})") from e
    pairs = index.get("keys") if isinstance(index, dict) else None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT or not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs):
        raise ValueError(f"{path!r}: member {INDEX!r} (the key index) is not a format-{INDEX_FORMAT} index "
                         "{'format': 1, 'keys': [[member, key], ...]}; written by a newer tinygrad_rnn?")
    for column, what in ((0, "member"), (1, "key")):
        values = [p[column] for p in pairs]
        if len(set(values)) != len(values):
            raise ValueError(f"{path!r}: member {INDEX!r} (the key index) lists a {what} twice")
    return [(member, key) for member, key in pairs]


def _load_from(f: BinaryIO, path: str, max_bytes: int | None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    start = f.tell()
    magic = f.read(4)
    if magic not in _ZIP_MAGIC:
        raise _not_npz(path, f"the file starts with {magic!r}, not a zip header")
    f.seek(start)
    try:
        archive = zipfile.ZipFile(f)
        infos = archive.infolist()
    except _ZIP_ERRORS as e:
        raise _not_npz(path, str(e)) from e
    with archive:
        _check_directory(path, infos, max_bytes)
        by_name = {info.filename: info for info in infos}
        if INDEX in by_name:
            pairs = _read_index(path, archive, by_name.pop(INDEX))
            listed = {member for member, _ in pairs}
            for name in by_name:
                if name not in listed:
                    raise ValueError(f"{path!r}: member {name!r} is not listed in the key index {INDEX!r}; "
                                     "the archive is damaged or was edited")
        else:
            for name in by_name:
                if not name.endswith(".npy"):
                    raise _not_npz(path, f"member {name!r} is not a .npy array")
            pairs = [(name, name[:-4]) for name in by_name]
        arrays, members = {}, {}
        for member, key in pairs:
            if member not in by_name:
                raise ValueError(f"{path!r}: the key index lists member {member!r} for entry {key!r}, "
                                 "but the archive has no such member; the archive is damaged")
            arrays[key] = _read_array(path, archive, by_name[member], key)
            members[key] = member
        return arrays, members


def load_npz(source: str | BinaryIO, max_bytes: int | None, name: str | None = None,
             ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every array of an ``.npz`` file: ``({key: array}, {key: member name})``.

    ``source`` is a path, or an open binary file object that can seek, read from its
    current position; errors then cite ``name``.

    Raises:
        FileNotFoundError: no file at ``source``.
        ValueError: the file is not an ``.npz`` archive of plain arrays, is damaged, or
            would inflate to more than ``max_bytes`` (the message names the member).
    """
    if isinstance(source, str):
        with open(source, "rb") as f:  # a missing file raises FileNotFoundError here
            return _load_from(f, source, max_bytes)
    return _load_from(source, name or f"<{type(source).__name__}>", max_bytes)
