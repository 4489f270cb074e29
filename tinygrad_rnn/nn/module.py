"""``Module``: the base of every layer: parameters, state dicts, modes, devices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a :class:`Module` registers as a learnable weight.

    ``Parameter(t)`` copies ``t``'s values, as ``Tensor(t)`` does (``torch.nn.Parameter``
    shares them; a copy keeps the parameter's version its own), and always requires grad.
    """

    __slots__ = ()

    def __init__(self, data: Any, device: Any = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=True, device=device, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, in
    assignment order; ``named_parameters()`` then yields dotted names such as
    ``"rnn.weight_ih_l0"``. Plain Tensors assigned to attributes are not parameters.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: assigned {name!r} before Module.__init__(); "
                "call super().__init__() first in your __init__"
            )
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # --------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules is listed once."""
        seen: set[int] = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    # -------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{dotted name: numpy.ndarray}`` copies of every parameter, on the host."""
        return {name: p.numpy().copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values into the existing parameters (cast to their dtype, kept on their device).

        Accepts NumPy arrays, Tensors, or anything with ``.numpy()`` / ``__array__``
        (a PyTorch state dict loads as is).

        Returns:
            ``(missing_keys, unexpected_keys)`` (both empty when ``strict``).

        Raises:
            KeyError: ``strict`` and keys are missing or unexpected (all are named).
            ValueError: a value's shape differs from its parameter's (name and both shapes).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict of name -> array, got {type(state_dict).__name__}")
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: " + " and ".join(parts)
                + f"; expected exactly the keys {list(own)}"
            )
        values = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = _to_tensor(name, state_dict[name], p)
            if value.shape != p.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: {name!r} has shape {value.shape} in the "
                    f"state dict but the parameter has shape {p.shape}"
                )
            values[name] = value
        with no_grad():
            for name, value in values.items():  # only after every check passed: all or nothing
                p = own[name]
                p.copy_(value.to(p.device))  # in place (cast to p's dtype), with a new version
        return missing, unexpected

    # ------------------------------------------------------------ modes, devices
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def to(self, device: Any = None, dtype: Any = None) -> Module:
        """Move (``device``) and/or cast (``dtype``: "float32", "float64" or a NumPy dtype)
        every parameter, in place; returns the module."""
        if device is not None:
            Tensor.zeros(0, device=device)  # an unknown device is refused before anything moves
        if dtype is not None:  # checked before anything moves: all or nothing
            target = Tensor.zeros(0, dtype=dtype).dtype
            if target.kind != "f":
                raise TypeError(f"Module.to: dtype {target} is not floating; expected float32 or float64 for parameters")
        with no_grad():
            for p in self.parameters():
                moved = p.detach().to(device=device, dtype=dtype)
                p.data = moved.data  # in place: holders of p keep seeing it (now on the new device)
                p.grad = None
        for m in self.modules():
            m._moved(device, dtype)
        return self

    def _moved(self, device: Any, dtype: Any) -> None:
        """Hook for modules that keep non-parameter tensors (buffers) to follow ``to()``."""

    @property
    def device(self) -> str:
        params = self.parameters()
        return params[0].device if params else "cpu"

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        return lines[0] + (")" if len(lines) == 1 else "\n" + "\n".join(lines[1:]) + "\n)")


def _to_tensor(name: str, value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value.detach()
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    try:
        # Python data is read straight into the parameter's dtype (no float32 detour).
        return Tensor(value, dtype=like.dtype if isinstance(value, (list, tuple, int, float)) else None)
    except TypeError as e:
        raise TypeError(f"load_state_dict: value for {name!r} is a {type(value).__name__}; expected an array ({e})") from None


class ModuleList(Module):
    """A list of modules whose parameters are registered as ``"0.weight"``, ``"1.weight"``..."""

    def __init__(self, modules: Any = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self._modules)), module)
        return self

    def __getitem__(self, i: int) -> Module:
        modules = list(self._modules.values())
        if isinstance(i, bool) or not isinstance(i, int) or not -len(modules) <= i < len(modules):
            raise IndexError(
                f"{type(self).__name__}: index {i!r} into {len(modules)} modules; expected an int in "
                f"[{-len(modules)}, {len(modules) - 1}]"
            )
        return modules[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())


class Sequential(ModuleList):
    """Modules applied one after the other: ``Sequential(m1, m2)(x)`` is ``m2(m1(x))``.

    Raises:
        TypeError: an argument is not a Module (a list of modules passed as one
            argument is named, with the fix: ``Sequential(*modules)``).
    """

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            given = modules[0]
            raise TypeError(
                f"Sequential: got one {type(given).__name__} of {len(given)} modules as its argument; expected "
                "the modules themselves as arguments: write nn.Sequential(*modules)"
            )
        for k, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {k} is a {type(m).__name__}; expected a Module")
        super().__init__(modules)

    def forward(self, x: Any) -> Any:
        for m in self:
            x = m(x)
        return x
