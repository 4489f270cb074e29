"""Reading optimizer state dicts: ours, PyTorch's, and the flat dicts of earlier versions.

:meth:`Optimizer.load_state_dict` checks everything with these helpers before it changes
anything. They turn what a state dict may hold (NumPy arrays from ``tr.load``, our
Tensors, ``torch.Tensor`` values, Python numbers) into host arrays and Python values.
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor

# PyTorch's per-group switches with no counterpart here. The speed switches change
# nothing about the result and are dropped; the others change the meaning of a step,
# so a PyTorch state dict that turns them on is refused.
SPEED_SWITCHES = ("foreach", "fused")
REFUSED_SWITCHES = ("capturable", "differentiable")


def host_value(value: Any) -> Any:
    """A state-dict entry (host array, Tensor, ``torch.Tensor``, Python data) -> host array."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple, float)):  # Python floats: read in float64, no float32 detour
        return Tensor(value, dtype="float64").numpy()
    return Tensor(value).numpy()


def python_value(value: Any) -> Any:
    """An option as Python data: arrays and tensors become numbers or lists; lists stay lists."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(python_value(v) for v in value)
    return host_value(value).tolist()


def from_legacy(optimizer: str, flat: dict[str, Any], n_groups: int, n_params: int) -> dict[str, Any]:
    """The flat state dict of earlier versions (``{"lr": ..., "state.0.exp_avg": ...}``, one
    group) in PyTorch's layout."""
    state: dict[int, dict[str, Any]] = {}
    options: dict[str, Any] = {}
    unexpected = []
    for key, value in flat.items():
        parts = key.split(".") if isinstance(key, str) else []
        if len(parts) == 3 and parts[0] == "state" and parts[1].isdigit():
            state.setdefault(int(parts[1]), {})[parts[2]] = value
        elif len(parts) == 1 and key not in ("state", "params"):
            options[key] = value
        else:
            unexpected.append(key)
    if unexpected:
        raise KeyError(f"{optimizer}.load_state_dict: unexpected keys {unexpected}; expected PyTorch's layout "
                       "{'state': ..., 'param_groups': [...]} or a flat dict of options and 'state.{i}.{name}'")
    if n_groups != 1:
        raise ValueError(f"{optimizer}.load_state_dict: a flat state dict (of an earlier version) holds one "
                         f"parameter group; expected {n_groups}, as this optimizer has")
    return {"state": state, "param_groups": [{**options, "params": list(range(n_params))}]}


def group_options(optimizer: str, saved: Any, where: str, names: tuple[str, ...], late: dict[str, Any]) -> dict:
    """A saved group's options as Python values, in ``names`` order, extra keys kept after them.

    Raises:
        TypeError: the group is not a dict with ``"params"``.
        KeyError: options are missing (PyTorch's later additions in ``late`` are filled in).
        ValueError: a PyTorch switch that changes the step is on.
    """
    if not isinstance(saved, dict) or "params" not in saved:
        raise TypeError(f"{optimizer}.load_state_dict: {where} is a {type(saved).__name__}; expected a dict with "
                        "'params' and the group's options")
    options = {k: python_value(v) for k, v in saved.items() if k != "params" and k not in SPEED_SWITCHES}
    for switch in REFUSED_SWITCHES:
        if options.pop(switch, False):
            raise ValueError(f"{optimizer}.load_state_dict: {where} has PyTorch's {switch}=True, which has no "
                             f"counterpart here; expected {switch}=False")
    for key, value in late.items():
        options.setdefault(key, value)
    missing = [n for n in names if n not in options]
    if missing:
        raise KeyError(f"{optimizer}.load_state_dict: {where} has missing keys {missing}; expected the options "
                       f"{list(names)}")
    return {**{n: options[n] for n in names}, **{k: v for k, v in options.items() if k not in names}}


def saved_index(optimizer: str, saved: dict[str, Any], where: str, size: int) -> list[int]:
    """The parameter numbers a saved group lists; as many as the group here holds."""
    ids = python_value(saved["params"])
    ids = [ids] if isinstance(ids, int) else ids
    if not isinstance(ids, (list, tuple)) or not all(isinstance(j, int) and not isinstance(j, bool) for j in ids):
        raise ValueError(f"{optimizer}.load_state_dict: {where}['params'] is {ids!r}; expected a list of "
                         "parameter numbers")
    if len(ids) != size:
        raise ValueError(f"{optimizer}.load_state_dict: {where} holds {len(ids)} parameters in the state dict but "
                         f"{size} in this optimizer; expected the same parameter groups")
    return list(ids)


def check_state(optimizer: str, j: int, p: Tensor, entries: Any, arrays: tuple[str, ...],
                counters: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    """Parameter ``j``'s saved state, checked: host arrays of ``p``'s shape, and ints."""
    if not isinstance(entries, dict):
        raise TypeError(f"{optimizer}.load_state_dict: the state of parameter {j} is a {type(entries).__name__}; "
                        "expected a dict of name -> array")
    entries = {k: v for k, v in entries.items() if v is not None}  # PyTorch writes None for "no buffer yet"
    unexpected = [k for k in entries if k not in arrays + counters]
    if unexpected:
        raise KeyError(f"{optimizer}.load_state_dict: unexpected keys {unexpected} in the state of parameter {j}; "
                       f"expected names in {list(arrays + counters)}")
    if entries and any(n not in entries for n in required):
        raise ValueError(f"{optimizer}.load_state_dict: parameter {j} has state {sorted(entries)}; expected all "
                         f"of {list(required)}")
    state: dict[str, Any] = {}
    for name, value in entries.items():
        value = host_value(value)
        where = f"{optimizer}.load_state_dict: state {name!r} of parameter {j}"
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{where} holds {value.dtype} data; expected numbers")
        if name in counters:
            number = value.item() if value.shape == () else None
            if number is None or value.dtype.kind == "b" or not math.isfinite(number) or number < 0 \
                    or number != int(number):
                raise ValueError(f"{where} is {value!r}; expected one non-negative int")
            state[name] = int(number)
        elif tuple(value.shape) != p.shape:
            raise ValueError(f"{where} has shape {tuple(value.shape)} but the parameter has shape {p.shape}")
        else:
            state[name] = value
    return state
