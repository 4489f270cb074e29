"""What ``Module`` does to the tensors it owns as a whole: list them by name for a state
dict, load a state dict into them, move and cast them (``Module.to``).

Kept apart from ``module.py`` (which holds the registry; ``module_traversal.py`` holds
the traversals) so each file reads in one sitting; every function here takes the module
as its first argument and uses only its public traversals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..autograd import no_grad
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not use."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def state_tensors(module: Module) -> dict[str, Tensor]:
    """Every parameter and persistent buffer under every name it has.

    Modules reached twice are walked twice, so a tensor tied into two modules (or a
    module listed twice) appears under each of its names, as in PyTorch's state dicts.
    Per module: its parameters, then its persistent buffers, then its children's.
    """
    out: dict[str, Tensor] = {}
    for owner, m in module.named_modules(remove_duplicate=False):
        skip = m._non_persistent_buffers_set
        members = [*m._parameters.items(), *((k, b) for k, b in m._buffers.items() if k not in skip)]
        out.update(((f"{owner}.{k}" if owner else k), t) for k, t in members if t is not None)
    return out


def load_state(module: Module, state_dict: dict[str, Any], strict: bool) -> IncompatibleKeys:
    """``Module.load_state_dict``: check every key and shape first, then copy all in place."""
    name = type(module).__name__
    if not isinstance(state_dict, dict):
        raise TypeError(f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}")
    own = state_tensors(module)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if strict and (missing or unexpected):
        parts = [f"{what} keys {keys}" for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise KeyError(f"load_state_dict for {name}: " + " and ".join(parts)
                       + f"; expected exactly the keys {list(own)}")
    values = {}
    for key, p in own.items():
        if key not in state_dict:
            continue
        value = _to_tensor(key, state_dict[key], p)
        if value.shape != p.shape:
            raise ValueError(f"load_state_dict for {name}: {key!r} has shape {value.shape} in the state dict but "
                             f"the parameter has shape {p.shape}")
        values[key] = value
    with no_grad():
        for key, value in values.items():  # only after every check passed: all or nothing
            p = own[key]
            p.copy_(value.to(p.device))  # in place (cast to p's dtype), with a new version
    return IncompatibleKeys(missing, unexpected)


def _to_tensor(name: str, value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    try:
        # Python data is read straight into the tensor's dtype (no float32 detour).
        return Tensor(value, dtype=like.dtype if isinstance(value, (list, tuple, int, float)) else None)
    except TypeError as e:
        raise TypeError(f"load_state_dict: value for {name!r} is a {type(value).__name__}; expected an array ({e})") from None


def move(module: Module, args: tuple, device: Any, dtype: Any) -> None:
    """``Module.to``: parse PyTorch's positional forms, check, then move and cast in place."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif arg is not None and _is_dtype(arg):
            dtype = arg
        else:
            device = arg
    if device is not None:
        Tensor.zeros(0, device=device)  # an unknown device is refused before anything moves
    if dtype is not None:  # checked before anything moves: all or nothing
        target = Tensor.zeros(0, dtype=dtype).dtype
        if target.kind != "f":
            raise TypeError(f"Module.to: dtype {target} is not floating; expected float32 or float64 for parameters")
    with no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            cast = dtype if t.dtype.kind == "f" else None  # integer buffers keep their dtype (PyTorch's rule)
            moved = t.detach().to(device=device, dtype=cast)
            t.data = moved.data  # in place: holders of t keep seeing it (now on the new device)
            t.grad = None


def _is_dtype(value: Any) -> bool:
    try:
        Tensor.zeros(0, dtype=value)
    except (TypeError, ValueError):
        return False
    return True
