"""``Module``: the base of every layer: parameters, buffers, state dicts, modes, devices.

The registry follows ``torch.nn.Module``: a module owns three ordered dicts,
``_parameters``, ``_buffers`` and ``_modules``, filled by attribute assignment (or by
``register_parameter``, ``register_buffer``, ``add_module``). The traversals
(``parameters()``, ``named_modules()``, ..., inherited from ``module_traversal.py``) are
generators, and list a tensor or a module reachable twice only once; ``state_dict()``
lists every name, so a parameter tied into two modules (``decoder.weight =
encoder.weight``) is trained once and saved under both of its names, exactly as PyTorch
does.
"""

from __future__ import annotations

from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor
from .module_state import IncompatibleKeys, load_state, move, state_tensors
from .module_traversal import ModuleTraversal


class Parameter(Tensor):
    """A tensor that a :class:`Module` registers as a learnable weight.

    ``Parameter(t)`` copies ``t``'s values, as ``Tensor(t)`` does (``torch.nn.Parameter``
    shares them; a copy keeps the parameter's version its own). It requires grad unless
    ``requires_grad=False`` (a frozen weight, still listed by ``parameters()``).
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, device=device, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__() + ")"


class Module(ModuleTraversal):
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, in
    assignment order; ``named_parameters()`` then yields dotted names such as
    ``"rnn.weight_ih_l0"``. Plain Tensors assigned to attributes are not registered;
    ``register_buffer`` makes one a buffer: saved in ``state_dict()`` (unless
    ``persistent=False``) and moved by ``to()``, but not trained.
    """

    training: bool

    def __init__(self) -> None:
        for name in ("_parameters", "_buffers", "_modules"):
            object.__setattr__(self, name, {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_parameters" not in d:
            raise RuntimeError(
                f"{type(self).__name__}: assigned {name!r} before Module.__init__(); "
                "call super().__init__() first in your __init__"
            )
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            modules[name] = value
        elif name in params or name in modules or name in buffers:
            registry, expected = ((params, "an nn.Parameter") if name in params else
                                  (modules, "an nn.Module") if name in modules else (buffers, "a Tensor"))
            if value is not None and (registry is not buffers or not isinstance(value, Tensor)):
                fix = (f" (wrap it: nn.Parameter(t), or write into it: with tr.no_grad(): "
                       f"module.{name}.copy_(t))" if registry is params else "")
                raise TypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} to {name!r}; "
                                f"expected {expected} or None{fix}")
            registry[name] = value  # stays registered (None is skipped by every traversal)
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str = "") -> None:
        """Unregister ``name``, except from registry ``keep`` (where a new value replaces
        the old one in place, keeping its position, as in PyTorch)."""
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                d[registry].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    # ------------------------------------------------------------- registering
    def _check_new_name(self, kind: str, name: Any, registry: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name {name!r} is empty or contains '.'; expected a plain attribute name")
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}; expected a new name")

    def _register(self, registry: str, name: str, value: Any) -> None:
        self._forget(name, keep=registry)
        self.__dict__[registry][name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` (or None) as buffer ``name``: saved in ``state_dict()`` when
        ``persistent``, moved and cast by ``to()``, never returned by ``parameters()``.

        Raises:
            TypeError: ``tensor`` is not a Tensor or None, or ``name`` not a str.
            KeyError: ``name`` is empty, holds ".", or is already another attribute.
        """
        self._check_new_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): got a {type(tensor).__name__}; expected a Tensor or None")
        self._register("_buffers", name, tensor)
        if not persistent:
            self.__dict__["_non_persistent_buffers_set"].add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """``self.name = param``, with the name checks of :meth:`register_buffer`."""
        self._check_new_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): got a {type(param).__name__}; expected an nn.Parameter "
                            "or None")
        self._register("_parameters", name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """``self.name = module``, with the name checks of :meth:`register_buffer`."""
        self._check_new_name("module", name, "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): got a {type(module).__name__}; expected an nn.Module or None")
        self._register("_modules", name, module)

    register_module = add_module

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -------------------------------------------------------------- state dicts
    def state_dict(self, *, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Any]:
        """``{dotted name: numpy.ndarray}`` host copies of every parameter and persistent buffer.

        A tensor tied into two modules appears under both names (as in PyTorch).
        ``keep_vars=True`` gives the tensors themselves; ``prefix`` is put before every key;
        ``destination`` is filled and returned.
        """
        out = {} if destination is None else destination
        for name, t in state_tensors(self).items():
            out[prefix + name] = t if keep_vars else t.numpy().copy()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers (cast to their dtype, kept on
        their device); a tied parameter may appear under any or all of its names.

        Accepts NumPy arrays, Tensors, or anything with ``.numpy()`` / ``__array__``
        (a PyTorch state dict loads as is).

        Returns:
            ``(missing_keys, unexpected_keys)`` (both empty when ``strict``).

        Raises:
            KeyError: ``strict`` and keys are missing or unexpected (all are named).
            ValueError: a value's shape differs from its parameter's (name and both shapes).
        """
        return load_state(self, state_dict, strict)

    # ------------------------------------------------------------ modes, devices
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode``) here and, through each child's ``train``, below."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode={mode!r}): expected a bool")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``), or fill it with zeros in place."""
        with no_grad():
            for p in self.parameters():
                if p.grad is None or set_to_none:
                    p.grad = None
                elif p.grad.requires_grad:  # a gradient on the tape (create_graph): replace, never write
                    p.grad = p.grad.detach().zeros_like()
                else:
                    p.grad.zero_()

    def to(self, *args: Any, device: Any = None, dtype: Any = None) -> Module:
        """Move (``device``) and/or cast (``dtype``: "float32", "float64" or a NumPy dtype)
        every parameter and floating buffer, in place; returns the module.

        As in PyTorch, positional arguments may be a device, a dtype, both, or a Tensor
        (its device and dtype): ``model.to("cuda")``, ``model.to("float64")``.
        """
        move(self, args, device, dtype)
        return self

    def cpu(self) -> Module:
        return self.to(device="cpu")

    def cuda(self) -> Module:
        return self.to(device="cuda")

    def float(self) -> Module:
        return self.to(dtype="float32")

    def double(self) -> Module:
        return self.to(dtype="float64")

    @property
    def device(self) -> str:
        first = next(self.parameters(), None)
        return first.device if first is not None else "cpu"

    # ------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """This module's own settings for ``repr`` (e.g. ``in_features=2, out_features=3``)."""
        return ""

    def _child_lines(self) -> list[str]:
        return [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]

    def __repr__(self) -> str:
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = self._child_lines()
        if len(extra) == 1 and not children:
            return f"{type(self).__name__}({extra[0]})"
        body = "".join("\n  " + line for line in extra + children)
        return f"{type(self).__name__}({body}\n)" if body else f"{type(self).__name__}()"
