"""Containers of modules: ``Sequential``, ``ModuleList`` and ``ModuleDict``, as in PyTorch.

Each registers its modules as children, so their parameters are the container's, under
the keys ``"0"``, ``"1"``, ... (``ModuleList``, and ``Sequential`` made from modules) or
the given names (``ModuleDict``, and ``Sequential`` made from an ``OrderedDict``):

    >>> from tinygrad_rnn import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module


def _position(container: Module, idx: Any, n: int) -> int:
    """``idx`` (an int, possibly negative) as a position in [0, n)."""
    try:
        i = operator.index(idx)
    except TypeError:
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                        f"not {type(idx).__name__}") from None
    if not -n <= i < n:
        raise IndexError(f"{type(container).__name__}: index {i} is out of range for {n} modules; "
                         f"expected an int in [{-n}, {n - 1}]")
    return i + n if i < 0 else i


def _module(container: Module, k: Any, m: Any) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{type(container).__name__}: module {k} is a {type(m).__name__}; expected an nn.Module")
    return m


class _Numbered(Module):
    """Shared by ``ModuleList`` and ``Sequential``: modules in order, looked up by position."""

    def _reset(self, modules: list[tuple[str, Module]]) -> None:
        """Make ``modules`` (name, module) the whole contents, in order."""
        for key in list(self._modules):
            delattr(self, key)
        for key, m in modules:
            self.add_module(key, m)

    def _renumbered(self, modules: list[Module]) -> None:
        self._reset([(str(i), m) for i, m in enumerate(modules)])

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_position(self, idx, len(self))]
        setattr(self, key, _module(self, idx, module))

    def __delitem__(self, idx: int | slice) -> None:
        kept = list(self._modules.values())
        if isinstance(idx, slice):
            del kept[idx]
        else:
            del kept[_position(self, idx, len(kept))]
        self._renumbered(kept)  # the keys stay "0", "1", ... (PyTorch's rule, for Sequential too)

    def pop(self, idx: int | slice) -> Any:
        """Remove and return the module at ``idx`` (a container of them for a slice)."""
        popped = self[idx]  # type: ignore[index]
        del self[idx]
        return popped

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (``len(self)`` appends); renumbers after it."""
        n = len(self)
        i = operator.index(index)
        if not -n <= i <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {i} is out of range for {n} modules; "
                             f"expected an int in [{-n}, {n}]")
        modules = list(self._modules.values())
        modules.insert(i + n if i < 0 else i, _module(self, index, module))
        self._renumbered(modules)


class ModuleList(_Numbered):
    """A list of modules, registered as ``"0"``, ``"1"``, ...: ``for layer in self.layers``.

    Supports ``append``, ``extend``, ``insert``, ``pop``, ``[i]`` (negative too), slices
    (a new ``ModuleList``), item assignment and deletion (later keys renumbered), ``len``,
    iteration, ``+`` and ``+=``, as ``torch.nn.ModuleList``.

    Raises:
        TypeError: an element is not a Module, or ``extend`` gets a non-iterable.
        IndexError: an index out of range (the index and the length are named).
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(modules[idx])
        return modules[_position(self, idx, len(modules))]

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), _module(self, len(self), module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if isinstance(modules, Module) and not isinstance(modules, _Numbered):
            raise TypeError(f"ModuleList.extend: got a {type(modules).__name__}; expected an iterable of modules "
                            "(use append for one module)")
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend: got a {type(modules).__name__}; expected an iterable of modules")
        for m in list(modules):
            self.append(m)
        return self

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def _child_lines(self) -> list[str]:
        """Runs of equal modules are shown once, as PyTorch does: ``(0-2): 3 x Linear(...)``."""
        runs: list[list[Any]] = []  # [first, last, repr]
        for i, m in enumerate(self):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        return [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text.replace("\n", "\n  ")
                for a, b, text in runs]


class Sequential(_Numbered):
    """Modules applied one after the other: ``Sequential(m1, m2)(x)`` is ``m2(m1(x))``.

    ``Sequential(OrderedDict(name=module, ...))`` names the modules; otherwise they are
    ``"0"``, ``"1"``, ... Indexing, slicing (a new ``Sequential`` keeping the names),
    ``append``, ``extend``, ``insert``, ``pop``, ``del`` and ``+`` work as in PyTorch.

    Raises:
        TypeError: an argument is not a Module (a list of modules passed as one
            argument is named, with the fix: ``Sequential(*modules)``).
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for key, m in modules[0].items():
                self.add_module(key, _module(self, repr(key), m))
            return
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            given = modules[0]
            raise TypeError(
                f"Sequential: got one {type(given).__name__} of {len(given)} modules as its argument; expected "
                "the modules themselves as arguments: write nn.Sequential(*modules)"
            )
        for k, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {k} is a {type(m).__name__}; expected a Module")
            self.add_module(str(k), m)

    def __getitem__(self, idx: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(dict(items[idx]))
        return items[_position(self, idx, len(items))][1]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), _module(self, len(self), module))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in list(modules):
            self.append(m)
        return self

    def __iadd__(self, other: Iterable[Module]) -> Sequential:
        return self.extend(other)

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential + {type(other).__name__}: expected another Sequential")
        return Sequential(*self, *other)

    def forward(self, x: Any) -> Any:
        for m in self:
            x = m(x)
        return x


class ModuleDict(Module):
    """A dict of modules registered under their keys: ``self.heads["tags"](h)``.

    Keys keep their insertion order. ``[key]``, ``[key] = module``, ``del``, ``in``,
    ``len``, iteration (over keys), ``keys()``, ``values()``, ``items()``, ``update``,
    ``pop`` and ``clear`` work as in ``torch.nn.ModuleDict``.

    Raises:
        TypeError: a key is not a str, or a value not a Module.
        KeyError: a missing key (the keys present are named), or a key that is empty,
            holds ".", or names an attribute of the module (``"train"``, ``"to"``).
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; expected one of {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module(self, repr(key), module))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 (the KeyError naming the keys present)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> list[str]:
        return list(self._modules)

    def values(self) -> list[Module]:
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping (in its order) or from (key, module) pairs."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        elif isinstance(modules, Iterable):
            pairs = []
            for j, pair in enumerate(modules):
                pair = tuple(pair) if isinstance(pair, Iterable) and not isinstance(pair, (str, Module)) else ()
                if len(pair) != 2:
                    raise TypeError(f"ModuleDict.update: element {j} is not a (key, module) pair; expected an "
                                    "iterable of (key, module) pairs")
                pairs.append(pair)
        else:
            raise TypeError(f"ModuleDict.update: got a {type(modules).__name__}; expected a mapping or an iterable "
                            "of (key, module) pairs")
        for key, module in pairs:
            self[key] = module
