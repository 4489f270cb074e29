"""Walking a module tree: ``named_modules``, ``children``, ``parameters``, ``buffers``, ``apply``.

:class:`~tinygrad_rnn.nn.module.Module` keeps its parameters, buffers and submodules in
three ordered dicts (its registry); these methods walk them, depth first, in
registration order. They are generators, as in PyTorch, and list a tensor or a module
reachable twice only once (unless ``remove_duplicate=False``), so a parameter tied into
two modules is handed to an optimizer, and trained, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .module import Module, Parameter


class ModuleTraversal:
    """The traversals ``Module`` inherits; they read only the registry (``_modules``,
    ``_parameters``, ``_buffers``)."""

    _modules: dict[str, Module | None]

    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every descendant, depth first."""
        if remove_duplicate:
            memo = set() if memo is None else memo
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner, module in owners:
            for name, t in module.__dict__[registry].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{owner}.{name}" if owner else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two modules is listed once
        (under its first name) unless ``remove_duplicate=False``."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter once, in registration order (a generator, as in PyTorch)."""
        # _named_members, not named_parameters: a wrapper (DDP) may override that with a narrower signature
        for _, p in self._named_members("_parameters", "", recurse, True):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self._named_members("_buffers", "", recurse, True):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first), then on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self
