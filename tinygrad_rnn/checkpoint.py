"""Training checkpoints: a model, its optimizer and learning-rate scheduler, the
random-number state and a step counter in one ``.npz`` file, so an interrupted run
resumes exactly where it stopped.

A checkpoint is an ordinary file of :func:`tinygrad_rnn.save` (written atomically,
read without pickle) whose entries have flat names:

==============================  ==================================================
``tinygrad_rnn_checkpoint``     the marker: the format version (an int)
``model/<parameter name>``      ``model.state_dict()``
``optim/<path>``                ``optimizer.state_dict()`` (moments, step counts, lr),
                                leaf by leaf (``optim/state.0.exp_avg``), with its
                                nesting in ``optim/__tinygrad_rnn_tree__``
``scheduler/<path>``            ``scheduler.state_dict()``, the same way
``rng``                         the library generator's state, as JSON text
``meta/step``                   the step counter (absent when not given)
``meta/extra``                  the plain-Python extras, as JSON text
``extra/<name>``                the array extras (Tensors and arrays)
==============================  ==================================================

Resuming from a checkpoint continues the run bit for bit: parameters, the optimizer's
state (Adam's moments and step count, each group's lr), the scheduler's epoch and the
generator (dropout masks, shuffled batches) are all as they were when it was saved.
Version 1 files (the optimizer's earlier flat state dict, no scheduler) still load.

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
from typing import Any, BinaryIO

from . import nested
from . import random as _random
from .backend import backend_of, host
from .serialization import DEFAULT_MAX_BYTES, read_archive, save
from .tensor import Tensor

MARKER = "tinygrad_rnn_checkpoint"
FORMAT_VERSION = 2  # 2: nested optimizer state dicts and schedulers


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
    path: str | bytes | os.PathLike | BinaryIO,
    model: Any = None,
    optimizer: Any = None,
    step: int | None = None,
    extra: dict[str, Any] | None = None,
    scheduler: Any = None,
) -> None:
    """Write a model, an optimizer, a scheduler, the RNG state, a step counter and extras to ``path``.

    Everything goes into one ``.npz`` file through :func:`tinygrad_rnn.save`, which
    writes a temporary file, fsyncs it and renames it over ``path``: a run killed in
    the middle of a save leaves the previous checkpoint intact. The library's
    random-number state is always saved, so dropout masks and random batches continue
    exactly after :func:`load_checkpoint`.

    Args:
        path: where to write (conventionally ``*.npz``; str, bytes or ``os.PathLike``),
            or an open binary file object (written as :func:`tinygrad_rnn.save` writes
            one: checked first, then streamed in, with no temporary file).
        model: an ``nn.Module`` (its ``state_dict()`` is saved), or None.
        optimizer: an optimizer from ``tr.optim`` (its ``state_dict()``), or None.
        step: the training step (a non-negative int), or None.
        extra: anything else to keep: ``{name: value}`` where a value is a Tensor or
            an array (saved as an array) or plain Python data such as numbers,
            strings, lists and dicts (saved as JSON).
        scheduler: a learning-rate scheduler from ``tr.optim.lr_scheduler`` (its
            ``state_dict()``), or None.

    Raises:
        TypeError: ``model``, ``optimizer`` or ``scheduler`` has no ``state_dict()`` (or
            a scheduler's state holds something a file cannot), ``step`` is not an int,
            or an ``extra`` value is neither an array nor JSON-able.
        ValueError: ``step`` is negative.
        FileNotFoundError, PermissionError: the folder is missing or ``path`` is
            read-only (the message names ``path``, as :func:`tinygrad_rnn.save` does).
    """
    entries: dict[str, Any] = {MARKER: host.as_host_array(FORMAT_VERSION)}
    for what, obj, prefix in (("model", model, "model/"), ("optimizer", optimizer, "optim/"),
                              ("scheduler", scheduler, "scheduler/")):
        if obj is None:
            continue
        if not callable(getattr(obj, "state_dict", None)):
            raise TypeError(
                f"save_checkpoint: {what} is a {type(obj).__name__}; expected an object with state_dict() "
                f"(an nn.Module for model, a tr.optim optimizer for optimizer, a tr.optim.lr_scheduler "
                f"scheduler for scheduler) or None"
            )
        state = obj.state_dict()
        if what != "model":  # nested: stored leaf by leaf with the nesting, rebuilt by load_checkpoint
            state = nested.flatten(state, f"save_checkpoint: {what}")
        entries.update({prefix + key: value for key, value in state.items()})
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


class _Entries:
    """A checkpoint's entries, and the file and zip member names its errors cite."""

    def __init__(self, path: Any, max_bytes: int | None) -> None:
        self.path, self.arrays, self.members = read_archive("load_checkpoint", path, max_bytes)
        if MARKER not in self.arrays:
            found = sorted(self.arrays)[:8]
            raise ValueError(
                f"{self.path!r} is not a tinygrad_rnn checkpoint: it has no {MARKER!r} entry (its entries "
                f"start {found}); expected a file written by tr.save_checkpoint. A plain state dict saved "
                "with tr.save loads with tr.load(path) and model.load_state_dict(...)"
            )
        version = self.arrays[MARKER]
        if version.shape != () or version.dtype.kind not in "iu" or not 1 <= int(version) <= FORMAT_VERSION:
            raise ValueError(
                f"{self.where(MARKER)}: checkpoint format version {version!r} is not supported; expected an int "
                f"in 1..{FORMAT_VERSION} (written by a newer tinygrad_rnn?)"
            )

    def where(self, key: str) -> str:
        return f"load_checkpoint: {self.path!r}, member {self.members[key]!r} (entry {key!r})"

    def json(self, key: str, default: Any) -> dict[str, Any]:
        """A JSON text entry that must hold a dict."""
        if key not in self.arrays:
            return default
        value = self.arrays[key]
        if value.shape != () or value.dtype.kind != "U":
            raise ValueError(f"{self.where(key)}: holds a {value.dtype} array of shape {value.shape}; "
                             "expected JSON text as written by tr.save_checkpoint")
        try:
            data = json.loads(value.item())
        except (ValueError, RecursionError) as e:
            raise ValueError(f"{self.where(key)}: is not valid JSON ({e}); the file is damaged") from None
        if not isinstance(data, dict):
            raise ValueError(f"{self.where(key)}: holds JSON {type(data).__name__}; expected a JSON object")
        return data

    def nested(self, prefix: str) -> dict[str, Any]:
        """A section saved by :func:`nested.flatten` (rebuilt), or a version-1 flat section as it is."""
        section = _section(self.arrays, prefix)
        if nested.TREE not in section:
            return section
        return nested.unflatten(section, self.where(prefix + nested.TREE))

    def step(self) -> int | None:
        if "meta/step" not in self.arrays:
            return None
        step = self.arrays["meta/step"]
        if step.shape != () or step.dtype.kind not in "iu" or int(step) < 0:
            raise ValueError(f"{self.where('meta/step')}: the step is {step!r}; expected one non-negative int")
        return int(step)

    def check_model(self, model: Any, state: dict[str, Any], own: dict[str, Any]) -> None:
        """Dry run of ``model.load_state_dict(state)``: keys, shapes and dtypes, nothing changed."""
        if set(state) != set(own):
            model.load_state_dict(state)  # raises its KeyError naming the keys, changing nothing
        for name, value in state.items():
            if value.dtype.kind not in "biuf" or value.shape != own[name].shape:
                raise ValueError(
                    f"{self.where('model/' + name)}: holds {value.dtype} data of shape {value.shape}; "
                    f"expected numbers of shape {own[name].shape} for the model's {name!r}"
                )


def load_checkpoint(
    path: str | bytes | os.PathLike | BinaryIO,
    model: Any = None,
    optimizer: Any = None,
    restore_rng: bool = True,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote, in place, and return the rest.

    All or nothing: every entry (the model's keys, shapes and dtypes, the optimizer's
    and the scheduler's state, the random-number state, the step, the extras) is checked
    before the model, the optimizer, the scheduler or the generator is changed; if
    anything is wrong, none of them is.

    Args:
        path: a file written by :func:`save_checkpoint` (str, bytes or ``os.PathLike``),
            or an open binary file object positioned at its start.
        model: the ``nn.Module`` to load into (built with the same architecture), or None.
        optimizer: the optimizer to load into (over the same parameters), or None.
        restore_rng: also restore the random-number state, so a resumed run draws the
            same dropout masks and batches as an uninterrupted one.
        max_bytes: the most bytes the file may inflate to (as for :func:`tinygrad_rnn.load`,
            default 2 GiB); None for no limit.
        scheduler: the learning-rate scheduler to load into (of the same class, over
            ``optimizer``), or None. Build it before loading, as in PyTorch: building one
            sets the lr, which the optimizer's loaded state then overrides.

    Returns:
        ``{"step": int or None, "extra": {name: value}, "model_state": {...},
        "optimizer_state": {...}, "scheduler_state": {...}}``: the step counter, the
        extras (arrays as ``numpy.ndarray``, the rest as saved), and the state dicts.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a tinygrad_rnn checkpoint (not an ``.npz``, or no
            checkpoint marker: the message says so), is damaged or over ``max_bytes``,
            has no model/optimizer/scheduler state while one was passed, or an entry is wrong (a
            state array of the wrong shape or dtype, JSON that does not parse, a step
            that is not an int); the message names the file and the member.
        KeyError: the model's, the optimizer's or the scheduler's keys do not match (all
            are named).
    """
    entries = _Entries(path, max_bytes)
    model_state = _section(entries.arrays, "model/")
    optim_state, sched_state = entries.nested("optim/"), entries.nested("scheduler/")
    for what, obj, state in (("model", model, model_state), ("optimizer", optimizer, optim_state),
                             ("scheduler", scheduler, sched_state)):
        if obj is not None and not state:
            raise ValueError(
                f"load_checkpoint: {entries.path!r} holds no {what} state; expected one since a {what} "
                f"was passed (save it with save_checkpoint(path, {what}=...))"
            )
    step, extra = entries.step(), entries.json("meta/extra", {})
    rng = entries.json("rng", None) if restore_rng else None
    if rng is not None:
        try:  # on a scratch generator: the library's own is set only once everything passed
            host.set_rng_state(host.new_rng(0), rng)
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise ValueError(f"{entries.where('rng')}: the generator refuses this state ({e!r}); "
                             "expected the state written by tr.save_checkpoint") from None
    model_before = None if model is None else model.state_dict()  # one host copy: the dry run's and the undo's
    if model is not None:
        entries.check_model(model, model_state, model_before)
    undo: list[Any] = []  # each load is all or nothing itself; a later failure puts the earlier ones back
    try:
        for obj, state in ((model, model_state), (optimizer, optim_state), (scheduler, sched_state)):
            if obj is not None:
                before = model_before if obj is model else obj.state_dict()
                obj.load_state_dict(state)
                undo.append((obj, before))
    except Exception:
        for obj, before in reversed(undo):
            obj.load_state_dict(before)
        raise
    if rng is not None:
        _random.set_rng_state(rng)
    extra.update(_section(entries.arrays, "extra/"))
    return {"step": step, "extra": extra, "model_state": model_state, "optimizer_state": optim_state,
            "scheduler_state": sched_state}
