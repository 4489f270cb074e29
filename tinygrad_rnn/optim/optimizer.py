"""``Optimizer``: the parameter list, ``zero_grad``, ``step`` and checkpointable state.

An optimizer holds the parameters (the leaves of the model) and, per parameter, a few
tensors of state (momentum buffers, moment estimates). ``step()`` reads each ``p.grad``
and updates each parameter with in-place Tensor ops (``p.sub_(...)``) under
``no_grad``: nothing is recorded on the tape, the parameters stay leaves, and each
update takes a new version, so a graph recorded before the step refuses to run its
backward with the new values. Gradients are only read, never written to.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from ..autograd import no_grad
from ..tensor import Tensor


def check_hyper(optimizer: str, name: str, value: Any, low: float = 0.0, high: float | None = None) -> float:
    """A hyperparameter must be a finite number in [low, high) ([low, inf) without high)."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if is_number else math.nan
    if not (math.isfinite(number) and number >= low and (high is None or number < high)):
        expected = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{optimizer}: {name}={value!r}; expected a finite number {expected}")
    return number


class Optimizer:
    """Base class: subclasses set ``hyper_names`` and ``state_names`` and define ``update``.

    Args:
        params: an iterable of parameters, e.g. ``model.parameters()``; a tensor listed
            twice is updated once.

    Attributes:
        params: the list of parameters.
        state: one dict per parameter of its state arrays (filled at its first step);
            ``step`` counters are Python ints.

    Raises:
        TypeError: ``params`` is a single Tensor or a Module, or holds non-Tensors.
        ValueError: ``params`` is empty, or holds a tensor computed by an op (not a leaf)
            or an integer tensor.
    """

    hyper_names: tuple[str, ...] = ()  # saved in state_dict(), e.g. ("lr", "momentum")
    state_names: tuple[str, ...] = ()  # per-parameter arrays, e.g. ("momentum_buffer",)
    counter_names: tuple[str, ...] = ()  # per-parameter int counters, e.g. ("step",)

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = _collect(type(self).__name__, params)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to None (the next backward starts afresh)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (others are skipped), in place.

        Raises:
            ValueError: a ``p.grad`` (set by hand) is not a Tensor of the parameter's shape.
            RuntimeError: a ``p.grad`` is on another device than its parameter.
        """
        with no_grad():
            for i, (p, state) in enumerate(zip(self.params, self.state, strict=True)):
                grad = p.grad
                if grad is None:
                    continue
                if not isinstance(grad, Tensor) or grad.shape != p.shape:
                    given = grad.shape if isinstance(grad, Tensor) else type(grad).__name__
                    raise ValueError(
                        f"{type(self).__name__}.step: params[{i}].grad is {given}; expected a Tensor of the "
                        f"parameter's shape {p.shape}"
                    )
                if grad.backend is not p.backend:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: params[{i}] is on {p.device!r} but its grad is on "
                        f"{grad.device!r}; expected one device"
                    )
                self.update(p, grad, state)

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        """Update ``p`` in place from ``grad`` (never write into ``grad``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define update()")

    def buffer(self, p: Tensor, state: dict[str, Any], name: str) -> Tensor:
        """State tensor ``name`` of ``p``: zeros at first; follows ``p`` across devices and dtypes."""
        buf = state.get(name)
        if buf is None:
            buf = state[name] = p.zeros_like()
        elif buf.device != p.device or buf.dtype != p.dtype:  # the model was moved with .to()
            buf = state[name] = buf.to(p.device, p.dtype)
        return buf

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as flat ``{name: numpy.ndarray}`` (``tr.save`` writes it).

        Keys: each hyperparameter (``"lr"``, ...) and ``"state.{i}.{name}"`` for the
        state of parameter i (in ``params`` order), e.g. ``"state.0.exp_avg"``.
        """
        out = {name: _hyper_array(getattr(self, name)) for name in self.hyper_names}
        for i, state in enumerate(self.state):
            for name, value in state.items():
                if name in self.counter_names:
                    out[f"state.{i}.{name}"] = Tensor(int(value)).numpy()
                else:
                    out[f"state.{i}.{name}"] = value.numpy().copy()
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (hyperparameters included), all or nothing.

        Arrays are copied onto each parameter's device and cast to its dtype.

        Raises:
            KeyError: a hyperparameter is missing, or keys are unexpected (all are named).
            ValueError: an array's shape differs from its parameter's, a parameter's state is
                incomplete, a step count is not one int, or a hyperparameter is out of range.
            TypeError: a state entry holds something other than numbers.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        expected = {f"state.{i}.{n}" for i in range(len(self.params)) for n in self.state_names + self.counter_names}
        missing = [n for n in self.hyper_names if n not in state_dict]
        unexpected = [k for k in state_dict if k not in expected and k not in self.hyper_names]
        if missing or unexpected:
            raise KeyError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected keys {unexpected}; "
                f"expected {list(self.hyper_names)} and 'state.{{i}}.{{name}}' with i < {len(self.params)} "
                f"and name in {list(self.state_names + self.counter_names)}"
            )
        hyper = {n: _host_value(state_dict[n]).tolist() for n in self.hyper_names}  # -> Python numbers
        states = [self._load_state(i, p, state_dict) for i, p in enumerate(self.params)]
        backup = {n: getattr(self, n) for n in self.hyper_names}
        try:
            for name, value in hyper.items():
                setattr(self, name, value)
            self.validate()
        except ValueError:
            for name, value in backup.items():
                setattr(self, name, value)
            raise
        self.state = states

    def _load_state(self, i: int, p: Tensor, state_dict: dict[str, Any]) -> dict[str, Any]:
        names = self.state_names + self.counter_names
        present = [n for n in names if f"state.{i}.{n}" in state_dict]
        if present and len(present) != len(names):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: parameter {i} has state {present}; expected all of {list(names)}"
            )
        state: dict[str, Any] = {}
        for name in present:
            value = _host_value(state_dict[f"state.{i}.{name}"])
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"{type(self).__name__}.load_state_dict: 'state.{i}.{name}' holds {value.dtype} data; "
                    "expected numbers"
                )
            if name in self.counter_names:
                if value.shape != () or value.dtype.kind not in "iu":
                    raise ValueError(
                        f"{type(self).__name__}.load_state_dict: 'state.{i}.{name}' is {value!r}; expected one int"
                    )
                state[name] = int(value)
                continue
            if tuple(value.shape) != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: 'state.{i}.{name}' has shape {tuple(value.shape)} "
                    f"but parameter {i} has shape {p.shape}"
                )
            state[name] = Tensor(value, device=p.device, dtype=p.dtype)
        return state

    def validate(self) -> None:
        """Check the hyperparameters (called by ``__init__`` and ``load_state_dict``)."""

    def __repr__(self) -> str:
        hyper = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.hyper_names)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


def _hyper_array(value: Any) -> Any:
    """A hyperparameter (a number, a bool or a tuple of numbers) as a host array; numbers
    in float64, so a saved learning rate loads back exactly."""
    return Tensor(value, dtype=None if isinstance(value, bool) else "float64").numpy()


def _host_value(value: Any) -> Any:
    """A state-dict entry (host array, Tensor, device array or number) -> host array."""
    return (value if isinstance(value, Tensor) else Tensor(value)).numpy()


def _collect(optimizer: str, params: Any) -> list[Tensor]:
    if isinstance(params, Tensor) or (hasattr(params, "parameters") and callable(params.parameters)):
        raise TypeError(
            f"{optimizer}: params is a {type(params).__name__}; expected an iterable of parameters "
            "such as model.parameters() (or [tensor])"
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{optimizer}: params is a {type(params).__name__}; expected an iterable of Tensors") from None
    if not params:
        raise ValueError(f"{optimizer}: got an empty parameter list; expected at least one parameter")
    out: list[Tensor] = []
    seen: set[int] = set()
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{optimizer}: params[{k}] is a {type(p).__name__}; expected a Tensor")
        if not p.is_leaf:
            raise ValueError(f"{optimizer}: params[{k}] was computed by an op; expected a leaf tensor (a parameter)")
        if not p.backend.is_floating(p.dtype):
            raise ValueError(f"{optimizer}: params[{k}] has dtype {p.dtype}; expected a floating-point tensor")
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out
