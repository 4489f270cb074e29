"""``tr.device``: PyTorch's device objects, as strings.

A device is a ``str`` (``tr.device("cpu")`` is ``"cpu"``), so it goes wherever the
library takes a device string, and it compares equal to one: ``t.device == "cpu"`` and
``t.device == tr.device("cpu")`` both hold. ``t.device`` returns one, so PyTorch's
``t.device.type == "cuda"`` works too. There is one GPU: ``"cuda"``, ``"cuda:0"`` and
``tr.device("cuda", 0)`` all name it.
"""

from __future__ import annotations

from typing import Any

from .backend import get_backend


class device(str):  # noqa: N801 (PyTorch's name)
    """A device name: ``"cpu"`` or ``"cuda"`` (or a backend a test registered).

    Args:
        type: ``"cpu"``, ``"cuda"``, ``"cuda:0"``, or another ``tr.device``.
        index: the GPU number; only 0 (or None) for ``"cuda"``, None for ``"cpu"``.

    Raises:
        ValueError: an unknown device, or a GPU index other than 0.

    Example:
        >>> import tinygrad_rnn as tr
        >>> d = tr.device("cuda:0")
        >>> d == "cuda", d.type, d.index, tr.device("cpu") == tr.tensor([1.0]).device
        (True, 'cuda', 0, True)
    """

    __slots__ = ()

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002 (PyTorch's name)
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise ValueError(f"tr.device({type!r}): expected a string such as 'cpu', 'cuda' or 'cuda:0'")
        name, _, number = str(type).partition(":")
        if number:
            if index is not None:
                raise ValueError(f"tr.device({type!r}, {index!r}): the index is given twice; expected one of them")
            if not number.isdigit():
                raise ValueError(f"tr.device({type!r}): expected an integer after ':', e.g. 'cuda:0'")
            index = int(number)
        if index is not None:
            if name != "cuda":
                raise ValueError(f"tr.device({type!r}, {index!r}): only 'cuda' takes an index")
            if isinstance(index, bool) or not isinstance(index, int) or index != 0:
                raise ValueError(f"tr.device('cuda', {index!r}): only one GPU is supported; expected index 0")
        if name != "cuda":
            get_backend(name)  # raises, naming the known devices, for an unknown one
        return super().__new__(cls, name)

    @property
    def type(self) -> str:  # noqa: A003 (PyTorch's name)
        """``"cpu"`` or ``"cuda"``."""
        return str(self)

    @property
    def index(self) -> int | None:
        """0 for the GPU, None for the CPU (as PyTorch's ``torch.device("cpu").index``)."""
        return 0 if self == "cuda" else None


_CACHE: dict[str, device] = {}


def device_of(name: str) -> device:
    """The ``device`` for a backend name, made once per name (``Tensor.device`` asks often)."""
    found = _CACHE.get(name)
    if found is None:
        found = _CACHE[name] = device(name)
    return found
