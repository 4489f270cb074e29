"""Nested state dicts in flat ``.npz`` files: ``flatten`` and its inverse ``unflatten``.

An optimizer's ``state_dict()`` nests (``{"state": {0: {...}}, "param_groups": [...]}``),
and so does a PyTorch-style checkpoint (``{"model": ..., "optimizer": ..., "epoch": 3}``),
while an ``.npz`` file holds flat ``name -> array`` entries. ``flatten`` stores each leaf
as an entry named by its dotted path (``"state.0.exp_avg"``, ``"param_groups.0.lr"``) and
the shape of the nesting as JSON text under :data:`TREE`; ``unflatten`` rebuilds the
same dicts (int and str keys kept apart), lists and tuples, and the same Python types
for numbers, bools, strings and None. Arrays come back as ``numpy.ndarray``.
"""

from __future__ import annotations

import json
from typing import Any

from .backend import backend_of, host
from .tensor import Tensor

TREE = "__tinygrad_rnn_tree__"
"""The entry that holds the nesting; a file without it is a flat state dict."""

_SCALARS = {bool: "bool", int: "int", float: "float", str: "str"}
_CONTAINERS = (dict, list, tuple)


def is_nested(state: dict[str, Any]) -> bool:
    """Whether a dict needs :func:`flatten` (it holds containers, strings or None)."""
    return any(isinstance(v, (*_CONTAINERS, str)) or v is None for v in state.values())


def _is_array(value: Any) -> bool:
    return isinstance(value, Tensor) or host.is_host_array(value) or backend_of(value) is not None


def flatten(state: dict[str, Any], fn: str = "save") -> dict[str, Any]:
    """``{dotted path: leaf}`` plus the nesting as JSON text under :data:`TREE`.

    Raises:
        TypeError: a key is neither str nor int, or a value is not an array, a Tensor,
            a number, a bool, a str, None, or a dict/list/tuple of those.
    """
    entries: dict[str, Any] = {}

    def leaf(path: str, value: Any) -> str:
        name, n = path, 1
        while name in entries or name == TREE:  # keys holding dots can make two paths alike
            name, n = f"{path}#{n}", n + 1
        entries[name] = value
        return name

    def walk(value: Any, path: str) -> Any:
        if value is None:
            return ["none"]
        if type(value) in _SCALARS:
            return ["leaf", leaf(path, host.as_host_array(value)), _SCALARS[type(value)]]
        if _is_array(value):
            return ["leaf", leaf(path, value), "array"]
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if type(key) not in (str, int):
                    raise TypeError(f"{fn}: the key {key!r} under {path or 'the top level'!r} is a "
                                    f"{type(key).__name__}; expected str or int keys")
                items.append([key, walk(item, f"{path}.{key}" if path else str(key))])
            return ["dict", items]
        if isinstance(value, (list, tuple)):
            kind = "tuple" if isinstance(value, tuple) else "list"
            return [kind, [walk(item, f"{path}.{k}" if path else str(k)) for k, item in enumerate(value)]]
        raise TypeError(f"{fn}: the entry {path!r} is a {type(value).__name__}; expected a Tensor, an array, a "
                        "number, a bool, a str, None, or a dict/list/tuple of those")

    tree = walk(state, "")
    entries[TREE] = host.as_host_array(json.dumps(tree))
    return entries


def unflatten(entries: dict[str, Any], where: str) -> Any:
    """Rebuild what :func:`flatten` stored (``entries`` as read back, with :data:`TREE`).

    Raises:
        ValueError: the nesting text is not valid or names entries that are missing or
            of the wrong kind (``where`` names the file in the message).
    """
    def bad(why: str) -> ValueError:
        return ValueError(f"{where}: the nesting entry {TREE!r} {why}; the file is damaged")

    text = entries[TREE]
    if getattr(text, "shape", None) != () or text.dtype.kind != "U":
        raise bad("is not JSON text")
    try:
        tree = json.loads(text.item())
    except (ValueError, RecursionError) as e:
        raise bad(f"is not valid JSON ({e})") from None
    used: set[str] = set()

    def build(node: Any, depth: int) -> Any:
        if depth > 100 or not isinstance(node, list) or not node:
            raise bad("has a malformed node")
        kind = node[0]
        if kind == "none" and len(node) == 1:
            return None
        if kind == "leaf" and len(node) == 3 and isinstance(node[1], str) and node[1] in entries:
            used.add(node[1])
            return _leaf(entries[node[1]], node[2], bad)
        if kind in ("list", "tuple") and len(node) == 2 and isinstance(node[1], list):
            items = [build(item, depth + 1) for item in node[1]]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and len(node) == 2 and isinstance(node[1], list):
            out = {}
            for pair in node[1]:
                if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
                    raise bad("has a malformed dict item")
                out[pair[0]] = build(pair[1], depth + 1)
            return out
        raise bad(f"has an unknown node {str(node)[:60]!r} (or names a missing entry)")

    state = build(tree, 0)
    extra = sorted(k for k in entries if k != TREE and k not in used)
    if extra:
        raise bad(f"does not list the entries {extra[:8]}")
    return state


def _leaf(array: Any, kind: Any, bad: Any) -> Any:
    if kind == "array":
        return array
    expected = {"bool": "b", "int": "iu", "float": "f", "str": "U"}.get(kind) if isinstance(kind, str) else None
    if expected is None or array.shape != () or array.dtype.kind not in expected:
        raise bad(f"expects a {kind} where the file holds {array.dtype} data of shape {array.shape}")
    return {"bool": bool, "int": int, "float": float, "str": str}[kind](array.item())
