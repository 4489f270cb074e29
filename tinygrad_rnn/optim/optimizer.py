"""``Optimizer``: parameter groups, ``zero_grad``, ``step`` and checkpointable state.

An optimizer holds the parameters (the leaves of the model) in ``param_groups``, a list
of dicts with PyTorch's layout: each group has its ``"params"`` and its own options
(``"lr"``, ``"weight_decay"``, ...), so ``for g in opt.param_groups: g["lr"] = ...``
changes the step size, as a learning-rate scheduler does. Per parameter it keeps a few
tensors of state (momentum buffers, moment estimates) and counters.

``step()`` reads each ``p.grad`` and updates each parameter with in-place Tensor ops
(``p.add_(...)``) under ``no_grad``: nothing is recorded on the tape, the parameters
stay leaves, and each update takes a new version, so a graph recorded before the step
refuses to run its backward with the new values. Gradients are only read, never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..config import enable_grad, no_grad
from ..tensor import Tensor
from .checks import as_groups, check_flag, check_hyper, collect
from .state import read_state_dict, to_tensors

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


def lerp_(start: Tensor, end: Tensor, weight: float) -> Tensor:
    """start <- start + weight * (end - start), in place, rounded as PyTorch's ``lerp_``
    (which computes end - (1 - weight) * (end - start) when weight >= 0.5)."""
    if abs(weight) < 0.5:
        return start.add_(end - start, alpha=weight)
    return start.copy_(end - (end - start).mul_(1.0 - weight))


def square_average_(average: Tensor, d: Tensor, decay: float) -> Tensor:
    """average <- decay * average + (1 - decay) * d^2, in place, rounded as PyTorch's
    ``mul_(decay).addcmul_(d, d, value=1 - decay)``: Adam's second moment, RMSprop's mean square."""
    return average.mul_(decay).add_(d.clone().mul_(1.0 - decay).mul_(d))


class Optimizer:
    """Base class: subclasses set ``option_names``, ``state_names`` and define ``check`` and ``update``.

    Args:
        params: an iterable of parameters, e.g. ``model.parameters()`` (a tensor listed
            twice is updated once), or of dicts ``{"params": [...], "lr": 0.1, ...}``,
            one per parameter group, whose options override ``defaults``.
        defaults: every option with its value for groups that do not set it.

    Attributes:
        param_groups: the groups, each a dict with ``"params"`` (a list of tensors) and
            every option; read and write them (``group["lr"] = ...``).
        defaults: the constructor's options.
        params: all parameters, group after group.
        state: one dict per parameter (in ``params`` order) of its state tensors
            (filled at its first step) and ``step`` counters (Python ints).

    Raises:
        TypeError: ``params`` is a single Tensor or a Module, or holds non-Tensors, or
            mixes tensors and dicts.
        ValueError: ``params`` is empty, or holds a tensor computed by an op (not a leaf)
            or an integer tensor, or a tensor is in two groups; an option is out of range.
    """

    option_names: tuple[str, ...] = ("lr",)  # PyTorch's order: what state_dict() lists
    late_options: dict[str, Any] = {}  # options older state dicts may lack, and their value then
    state_names: tuple[str, ...] = ()  # per-parameter tensors, e.g. ("momentum_buffer",)
    counter_names: tuple[str, ...] = ()  # per-parameter int counters, e.g. ("step",)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.check(self.defaults, "")
        self.param_groups: list[dict[str, Any]] = []
        self.params: list[Tensor] = []
        self.state: list[dict[str, Any]] = []
        groups, plain = as_groups(name, params)
        for k, group in enumerate(groups):
            self._add_group(group, "" if plain else f"param_groups[{k}]")

    # ----------------------------------------------------------- options as attributes
    def __getattr__(self, name: str) -> Any:
        """``opt.lr`` (any option): the value all groups share (kept from the one-group API)."""
        defaults, groups = self.__dict__.get("defaults", {}), self.__dict__.get("param_groups")
        if name not in defaults or groups is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        values = [group[name] for group in groups]
        if any(v != values[0] for v in values):
            raise AttributeError(f"{type(self).__name__}.{name}: the parameter groups differ ({values}); "
                                 f"expected opt.param_groups[k][{name!r}]")
        return values[0]

    def __setattr__(self, name: str, value: Any) -> None:
        """``opt.lr = x`` sets the option in every group (checked first)."""
        if name in self.__dict__.get("defaults", {}) and "param_groups" in self.__dict__:
            for k, group in enumerate(self.param_groups):
                self.check({**group, name: value}, f"param_groups[{k}]")
            for group in self.param_groups:
                group[name] = value
            return
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the others from ``defaults``).

        Raises:
            TypeError: ``param_group`` is not a dict with ``"params"``, or holds non-Tensors.
            ValueError: a tensor is already in a group, or an option is out of range.
        """
        self._add_group(param_group, f"param_groups[{len(self.param_groups)}]")

    def _add_group(self, param_group: Any, where: str) -> None:
        """Add one group; ``where`` names it in errors ("" for the only group of a plain list)."""
        name = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{name}: a parameter group is a {type(param_group).__name__}; expected a dict with "
                            "'params' and options, e.g. {'params': model.parameters(), 'lr': 0.1}")
        params = collect(name, param_group["params"], f"{where}['params']" if where else "params")
        seen = {id(p) for p in self.params}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group ({where}); "
                             "expected each tensor in one group")
        group = {"params": params, **{k: v for k, v in param_group.items() if k != "params"}}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check(group, where)
        self.param_groups.append(group)
        self.params += params
        self.state += [{} for _ in params]

    def _check_groups(self) -> None:
        """The groups still hold the parameters they were given, with valid options."""
        flat = [p for group in self.param_groups for p in group["params"]]
        if len(flat) != len(self.params) or any(a is not b for a, b in zip(flat, self.params, strict=False)):
            raise RuntimeError(f"{type(self).__name__}: the tensors in param_groups[k]['params'] were changed; "
                               "expected them as given (add new parameters with add_param_group)")
        for k, group in enumerate(self.param_groups):
            self.check(group, f"param_groups[{k}]")

    # --------------------------------------------------------------- subclass hooks
    def check(self, group: dict[str, Any], where: str) -> None:
        """Check (and normalize to floats and bools, in place) a group's options."""
        group["lr"] = check_hyper(self._who(where), "lr", group["lr"])

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The state a parameter of this group has after its first step."""
        return self.state_names + self.counter_names

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update ``p`` in place from ``grad`` with ``group``'s options (never write into ``grad``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define update()")

    # Updates take Python numbers only through in-place ops (``t.mul_(beta)``,
    # ``t.add_(x, alpha=a)``), never as ``t * beta``: a binary op would turn the number
    # into a cached constant tensor, which inside a ``tr.jit`` recording is a traced
    # array that the eager optimizer region must not meet (CuPy refuses the mix).

    def _who(self, where: str) -> str:
        return f"{type(self).__name__}" + (f" {where}" if where else "")

    # ------------------------------------------------------------------ training
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's gradient to None (or to zeros with ``set_to_none=False``)."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = p.grad.zeros_like()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (others are skipped), in place.

        Args:
            closure: optional; called first (with grad mode on) to compute the loss and
                the gradients, as in PyTorch.

        Returns:
            What ``closure`` returned (the loss), or None.

        Raises:
            ValueError: a ``p.grad`` (set by hand) is not a Tensor of the parameter's shape,
                or a group's option is out of range.
            RuntimeError: a ``p.grad`` is on another device than its parameter.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_groups()
        with no_grad():
            i = 0
            for group in self.param_groups:
                for p in group["params"]:
                    state, grad = self.state[i], p.grad
                    i += 1
                    if grad is None:
                        continue
                    if not isinstance(grad, Tensor) or grad.shape != p.shape:
                        given = grad.shape if isinstance(grad, Tensor) else type(grad).__name__
                        raise ValueError(f"{type(self).__name__}.step: params[{i - 1}].grad is {given}; expected a "
                                         f"Tensor of the parameter's shape {p.shape}")
                    if grad.backend is not p.backend:
                        raise RuntimeError(f"{type(self).__name__}.step: params[{i - 1}] is on {p.device!r} but its "
                                           f"grad is on {grad.device!r}; expected one device")
                    self.update(p, grad, state, group)
        return loss

    def buffer(self, p: Tensor, state: dict[str, Any], name: str, fill: float = 0.0) -> Tensor:
        """State tensor ``name`` of ``p``: ``fill`` at first; follows ``p`` across devices and dtypes."""
        buf = state.get(name)
        if buf is None:
            buf = state[name] = p.zeros_like() if fill == 0.0 else p.zeros_like().fill_(fill)
        elif buf.device != p.device or buf.dtype != p.dtype:  # the model was moved with .to()
            buf = state[name] = buf.to(p.device, p.dtype)
        return buf

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, as host copies.

        ``{"state": {i: {name: numpy.ndarray or int}}, "param_groups": [{option: value,
        ..., "params": [i, ...]}]}``, where i numbers the parameters group after group
        (their place in ``params``); a parameter that has not stepped has no entry.
        ``tr.save`` writes it and ``tr.load`` reads it back as it was.
        """
        groups, i = [], 0
        for group in self.param_groups:
            options = {k: v for k, v in group.items() if k != "params"}
            groups.append({**options, "params": list(range(i, i + len(group["params"])))})
            i += len(group["params"])
        state = {
            i: {name: int(v) if name in self.counter_names else v.numpy().copy() for name, v in s.items()}
            for i, s in enumerate(self.state) if s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (group options included), all or nothing.

        Also takes a PyTorch optimizer's ``state_dict()`` for the same parameters (its
        speed switches ``foreach``/``fused`` are dropped) and the flat dict that earlier
        versions saved (``{"lr": ..., "state.0.exp_avg": ...}``). Arrays are copied onto
        each parameter's device and cast to its dtype.

        Raises:
            TypeError: ``state_dict`` is not a dict, or a state entry holds no numbers.
            KeyError: a group misses options, or a state has unexpected keys (all named).
            ValueError: the groups or their sizes differ from this optimizer's, an array's
                shape differs from its parameter's, a state is incomplete, a step count is
                not an int, or an option is out of range.
        """
        groups, loaded = read_state_dict(self, state_dict)  # checks everything, changes nothing
        for group, values in zip(self.param_groups, groups, strict=True):  # every check passed: change things
            group.clear()
            group.update(values)
        self.state = [to_tensors(loaded.get(id(p), {}), p) for p in self.params]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for k, group in enumerate(self.param_groups):
            options = ", ".join(f"{n}={v!r}" for n, v in group.items() if n != "params")
            lines.append(f"  group {k}: {len(group['params'])} parameters, {options}")
        return "\n".join([*lines, ")"])


__all__ = ["Optimizer", "ParamsT", "check_flag", "check_hyper", "lerp_", "square_average_"]
