"""``.npz`` files: the format (member names, the key index) and writing, member by member.

Writing: each entry becomes one ``.npy`` member of a zip archive, stored as ``numpy.savez``
stores it, plus an index member, ``tinygrad_rnn.keys.json``, mapping member names back to
the exact keys. A printable key ``k`` becomes the member ``k.npy`` (``numpy.load`` shows
it as ``k``); any other key (a NUL, a control character, a lone surrogate, a very long
name) gets a made-up member name that only the index resolves. Files with no index
(``numpy.savez``, older versions) load with NumPy's naming: member ``w.npy`` is ``w``.

Reading, which never trusts the file, is in ``npz_read.py``.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import zipfile
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

INDEX = "tinygrad_rnn.keys.json"
INDEX_FORMAT = 1


# --------------------------------------------------------------------------- writing
def _plain(key: str) -> bool:
    """Can ``key`` be its own member name, ``<key>.npy``, in every zip tool?"""
    return key != INDEX and key.isprintable() and "\\" not in key and len(key.encode("utf-8")) <= 200


def member_names(keys: list[str]) -> list[str]:
    """One distinct member name per key: ``<key>.npy`` if plain, else ``entry.<j>.npy``."""
    names = [key + ".npy" if _plain(key) else "" for key in keys]
    used, j = set(names), 0
    for i, name in enumerate(names):
        if not name:
            while f"entry.{j}.npy" in used:
                j += 1
            names[i] = f"entry.{j}.npy"
            used.add(names[i])
    return names


def needs_pickle(array: np.ndarray) -> bool:
    """Would ``numpy.save`` pickle this array (objects, or a new-style dtype such as StringDType)?"""
    return array.dtype.hasobject or not getattr(type(array.dtype), "_legacy", True)


def write_npz(entries: list[tuple[str, np.ndarray]], f: BinaryIO) -> None:
    """Write ``entries`` to the open binary file object ``f``, from its current position.

    Streams straight into ``f`` (no temporary file, no rename, no fsync: the caller owns
    the file); a stream that cannot seek gets zip data descriptors, which every reader
    understands. ``save_npz`` calls it on its temporary file.
    """
    members = member_names([key for key, _ in entries])
    index = {"format": INDEX_FORMAT, "keys": [[m, key] for m, (key, _) in zip(members, entries, strict=True)]}
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr(INDEX, json.dumps(index))  # ASCII: lone surrogates are escaped
        for member, (_, array) in zip(members, entries, strict=True):
            with archive.open(member, "w", force_zip64=True) as out:
                npy_format.write_array(out, np.asarray(array), allow_pickle=False)


def _as_os_error(e: OSError, path: str, what: str) -> OSError:
    """The same kind of OSError (by errno), naming the user's path instead of a temporary file."""
    return OSError(e.errno, f"save: cannot write {path!r}: {what} ({e.strerror or e})", path)


def save_npz(entries: list[tuple[str, np.ndarray]], path: str) -> None:
    """Write ``entries`` (key, array) to ``path`` atomically.

    The data goes to a temporary file in the same folder, is flushed and fsync'ed, and
    only then renamed over ``path``. A process killed mid-save leaves the previous file
    untouched, never a half-written one. Errors name ``path``, never the temporary file.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
        IsADirectoryError: ``path`` is a folder.
        PermissionError: ``path`` exists and is read-only, or its folder is not writable.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, f"save: cannot write {path!r}: the folder {folder!r} does not "
                                "exist; expected an existing folder (create it with os.makedirs)", path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"save: {path!r} is a folder; expected a file name", path)
    if os.path.exists(path) and not os.access(path, os.W_OK):  # what open(path, "wb") would refuse
        raise PermissionError(errno.EACCES, f"save: {path!r} is read-only; expected a writable file "
                              "(make it writable, or save under another name)", path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    except OSError as e:
        raise _as_os_error(e, path, f"no temporary file can be created in {folder!r}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            write_npz(entries, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _as_os_error(e, path, "writing failed") from e
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # some file systems cannot fsync a folder; the rename is done all the same
