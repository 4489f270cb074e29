"""Training checkpoints: a model, its optimizer, the random-number state and a step
counter in one ``.npz`` file, so an interrupted run resumes exactly where it stopped.

A checkpoint is an ordinary file of :func:`tinygrad_rnn.save` (written atomically,
read without pickle) whose entries have flat names:

==============================  ==================================================
``tinygrad_rnn_checkpoint``     the marker: the format version (an int)
``model/<parameter name>``      ``model.state_dict()``
``optim/<key>``                 ``optimizer.state_dict()`` (moments, step counts, lr)
``rng``                         the library generator's state, as JSON text
``meta/step``                   the step counter (absent when not given)
``meta/extra``                  the plain-Python extras, as JSON text
``extra/<name>``                the array extras (Tensors and arrays)
==============================  ==================================================

Resuming from a checkpoint continues the run bit for bit: parameters, the optimizer's
state (Adam's moments and step count) and the generator (dropout masks, shuffled
batches) are all as they were when it was saved.

Example:
    >>> import os, tempfile
    >>> import tinygrad_rnn as tr
    >>> model = tr.nn.Linear(2, 1)
    >>> opt = tr.optim.Adam(model.parameters(), lr=0.01)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> tr.save_checkpoint(path, model, opt, step=100, extra={"best_loss": 0.25})
    >>> info = tr.load_checkpoint(path, model, opt)
    >>> info["step"], info["extra"]
    (100, {'best_loss': 0.25})
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import random as _random
from .backend import backend_of, host
from .serialization import load, save
from .tensor import Tensor

MARKER = "tinygrad_rnn_checkpoint"
FORMAT_VERSION = 1


def _text(value: str) -> Any:
    """A string as a 0-d unicode array: it loads back without pickle."""
    return host.as_host_array(value)


def _is_array(value: Any) -> bool:
    return isinstance(value, Tensor) or host.is_host_array(value) or backend_of(value) is not None


def _split_extra(extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate array extras (stored as arrays) from plain Python ones (stored as JSON)."""
    if not isinstance(extra, dict):
        raise TypeError(f"save_checkpoint: extra is a {type(extra).__name__}; expected a dict of name -> value")
    arrays, plain = {}, {}
    for name, value in extra.items():
        if not isinstance(name, str):
            raise TypeError(f"save_checkpoint: extra key {name!r} is a {type(name).__name__}; expected str")
        if _is_array(value):
            arrays[f"extra/{name}"] = value
        else:
            plain[name] = value
    try:
        text = json.dumps(plain)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"save_checkpoint: extra holds a value that is neither an array nor plain Python data ({e}); "
            "expected Tensors, arrays, or JSON-able values (numbers, str, bool, None, lists, dicts)"
        ) from None
    return arrays, {"meta/extra": _text(text)}


def save_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    step: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write a model, an optimizer, the RNG state, a step counter and extras to ``path``.

    Everything goes into one ``.npz`` file through :func:`tinygrad_rnn.save`, which
    writes a temporary file, fsyncs it and renames it over ``path``: a run killed in
    the middle of a save leaves the previous checkpoint intact. The library's
    random-number state is always saved, so dropout masks and random batches continue
    exactly after :func:`load_checkpoint`.

    Args:
        path: where to write (conventionally ``*.npz``).
        model: an ``nn.Module`` (its ``state_dict()`` is saved), or None.
        optimizer: an optimizer from ``tr.optim`` (its ``state_dict()``), or None.
        step: the training step (a non-negative int), or None.
        extra: anything else to keep: ``{name: value}`` where a value is a Tensor or
            an array (saved as an array) or plain Python data such as numbers,
            strings, lists and dicts (saved as JSON).

    Raises:
        TypeError: ``model`` or ``optimizer`` has no ``state_dict()``, ``step`` is not
            an int, or an ``extra`` value is neither an array nor JSON-able.
        ValueError: ``step`` is negative.
    """
    entries: dict[str, Any] = {MARKER: host.as_host_array(FORMAT_VERSION)}
    for what, obj, prefix in (("model", model, "model/"), ("optimizer", optimizer, "optim/")):
        if obj is None:
            continue
        if not callable(getattr(obj, "state_dict", None)):
            raise TypeError(
                f"save_checkpoint: {what} is a {type(obj).__name__}; expected an object with state_dict() "
                f"(an nn.Module for model, a tr.optim optimizer for optimizer) or None"
            )
        entries.update({prefix + key: value for key, value in obj.state_dict().items()})
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"save_checkpoint: step={step!r} is a {type(step).__name__}; expected an int or None")
        if step < 0:
            raise ValueError(f"save_checkpoint: step={step}; expected a non-negative int")
        entries["meta/step"] = host.as_host_array(step)
    arrays, meta = _split_extra({} if extra is None else extra)
    entries.update(arrays)
    entries.update(meta)
    entries["rng"] = _text(json.dumps(_random.get_rng_state()))
    save(entries, path)


def _section(entries: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {key[len(prefix):]: value for key, value in entries.items() if key.startswith(prefix)}


def _read(path: str | os.PathLike) -> dict[str, Any]:
    """The entries of a checkpoint file, after checking the marker and its version."""
    entries = load(path)
    if MARKER not in entries:
        found = sorted(entries)[:8]
        raise ValueError(
            f"{os.fspath(path)!r} is not a tinygrad_rnn checkpoint: it has no {MARKER!r} entry (its entries "
            f"start {found}); expected a file written by tr.save_checkpoint. A plain state dict saved "
            "with tr.save loads with tr.load(path) and model.load_state_dict(...)"
        )
    version = entries[MARKER]
    if version.shape != () or version.dtype.kind not in "iu" or not 1 <= int(version) <= FORMAT_VERSION:
        raise ValueError(
            f"{os.fspath(path)!r}: checkpoint format version {version!r} is not supported; expected an int "
            f"in 1..{FORMAT_VERSION} (written by a newer tinygrad_rnn?)"
        )
    return entries


def load_checkpoint(
    path: str | os.PathLike,
    model: Any = None,
    optimizer: Any = None,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote, in place, and return the rest.

    The model's parameters (strictly: every key must match), the optimizer's state and
    hyperparameters, and (with ``restore_rng``) the library's random-number state are
    restored; the model is left untouched if the optimizer's state does not fit.

    Args:
        path: a file written by :func:`save_checkpoint`.
        model: the ``nn.Module`` to load into (built with the same architecture), or None.
        optimizer: the optimizer to load into (over the same parameters), or None.
        restore_rng: also restore the random-number state, so a resumed run draws the
            same dropout masks and batches as an uninterrupted one.

    Returns:
        ``{"step": int or None, "extra": {name: value}, "model_state": {...},
        "optimizer_state": {...}}``: the step counter, the extras (arrays as
        ``numpy.ndarray``, the rest as saved), and the raw state dicts.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a tinygrad_rnn checkpoint (not an ``.npz``, or no
            checkpoint marker: the message says so), or has no model/optimizer state
            while one was passed, or a state array has the wrong shape.
        KeyError: the model's or the optimizer's keys do not match (all are named).
    """
    entries = _read(path)
    model_state, optim_state = _section(entries, "model/"), _section(entries, "optim/")
    for what, obj, state in (("model", model, model_state), ("optimizer", optimizer, optim_state)):
        if obj is not None and not state:
            raise ValueError(
                f"load_checkpoint: {os.fspath(path)!r} holds no {what} state; expected one since a {what} "
                f"was passed (save it with save_checkpoint(path, {what}=...))"
            )
    if model is not None:
        before = model.state_dict() if optimizer is not None else None
        model.load_state_dict(model_state)
        if optimizer is not None:
            try:
                optimizer.load_state_dict(optim_state)
            except Exception:
                model.load_state_dict(before)  # all or nothing
                raise
    elif optimizer is not None:
        optimizer.load_state_dict(optim_state)
    if restore_rng and "rng" in entries:
        _random.set_rng_state(json.loads(entries["rng"].item()))
    extra = json.loads(entries["meta/extra"].item()) if "meta/extra" in entries else {}
    extra.update(_section(entries, "extra/"))
    step = entries.get("meta/step")
    return {
        "step": None if step is None else int(step),
        "extra": extra,
        "model_state": model_state,
        "optimizer_state": optim_state,
    }
