"""Reading optimizer state dicts: ours, PyTorch's, and the flat dicts of earlier versions.

:func:`read_state_dict` checks and reads a whole state dict with these helpers, changing
nothing; :meth:`Optimizer.load_state_dict` puts what it returns in place only then, so a
bad state dict leaves the optimizer as it was. The helpers turn what a state dict may hold
(NumPy arrays from ``tr.load``, our Tensors, ``torch.Tensor`` values, Python numbers)
into host arrays and Python values.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..tensor import Tensor

if TYPE_CHECKING:
    from .optimizer import Optimizer

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


def read_state_dict(opt: Optimizer, state_dict: Any) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Check a whole state dict against ``opt`` and read it, changing nothing.

    Returns the new parameter groups (one per group of ``opt``, with its ``"params"``)
    and each parameter's checked state (host arrays and ints) keyed by ``id(param)``;
    :meth:`Optimizer.load_state_dict` puts them in place only once all of it passed.
    """
    name = type(opt).__name__
    if not isinstance(state_dict, dict):
        raise TypeError(f"{name}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
    if "param_groups" not in state_dict:
        state_dict = from_legacy(name, state_dict, len(opt.param_groups), len(opt.params))
    unexpected = [k for k in state_dict if k not in ("state", "param_groups")]
    if unexpected:
        raise KeyError(f"{name}.load_state_dict: unexpected keys {unexpected}; expected PyTorch's layout "
                       "{'state': {...}, 'param_groups': [...]}")
    saved_groups, saved_state = state_dict["param_groups"], state_dict.get("state", {})
    if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(opt.param_groups):
        count = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else type(saved_groups).__name__
        raise ValueError(f"{name}.load_state_dict: the state dict has {count} parameter groups; expected "
                         f"{len(opt.param_groups)}, as this optimizer has")
    groups, owner = [], {}
    for k, (saved, own) in enumerate(zip(saved_groups, opt.param_groups, strict=True)):
        where = f"param_groups[{k}]"
        group = {"params": own["params"], **group_options(name, saved, where, opt.option_names, opt.late_options)}
        opt.check(group, where)
        ids = saved_index(name, saved, where, len(own["params"]))
        for j, p in zip(ids, own["params"], strict=True):
            if j in owner:
                raise ValueError(f"{name}.load_state_dict: parameter {j} is listed twice in the groups")
            owner[j] = (p, group)
        groups.append(group)
    if not isinstance(saved_state, dict):
        raise TypeError(f"{name}.load_state_dict: 'state' is a {type(saved_state).__name__}; expected a dict")
    loaded: dict[int, dict[str, Any]] = {}
    for key, entries in saved_state.items():
        j = int(key) if isinstance(key, str) and key.isdigit() else key
        if j not in owner:
            raise KeyError(f"{name}.load_state_dict: unexpected keys: state for parameter {key!r}, but the "
                           f"groups hold parameters {sorted(owner)}")
        p, group = owner[j]
        loaded[id(p)] = check_state(name, j, p, entries, opt.state_names, opt.counter_names,
                                    opt.required_state(group))
    return groups, loaded


def to_tensors(state: dict[str, Any], p: Tensor) -> dict[str, Any]:
    """A checked state as the optimizer keeps it: tensors on ``p``'s device and dtype, and ints."""
    return {n: v if isinstance(v, int) else Tensor(v, device=p.device, dtype=p.dtype) for n, v in state.items()}
