"""Dtypes by name, as PyTorch spells them: ``tr.float32``, ``tr.long``, ``tr.bool``...

A tensor's ``.dtype`` is its backend's dtype object (NumPy's or CuPy's). The names here
are what a user writes: each is a ``str`` (``tr.float32`` is ``"float32"``), so every
``dtype=`` argument of the library accepts it, and ``t.dtype == tr.float32`` holds (an
array module's dtype compares equal to its name).

PyTorch dtypes that NumPy has no counterpart for (``bfloat16``, the quantized and
complex ones) are not offered; asking for them raises an error saying so.
"""

from __future__ import annotations

from typing import Any


class DType(str):
    """The name of a dtype (a ``str``), with a few of PyTorch's dtype attributes.

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.long, tr.tensor([1, 2]).dtype == tr.int64, tr.float.is_floating_point
        (tr.int64, True, True)
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"tr.{str(self)}"

    @property
    def is_floating_point(self) -> bool:
        return self.startswith("float")

    @property
    def is_signed(self) -> bool:
        return not (self.startswith("uint") or self == "bool")

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return 1 if self == "bool" else int("".join(c for c in self if c.isdigit())) // 8


float16 = DType("float16")
float32 = DType("float32")
float64 = DType("float64")
int8 = DType("int8")
int16 = DType("int16")
int32 = DType("int32")
int64 = DType("int64")
uint8 = DType("uint8")
bool_ = DType("bool")

# PyTorch's other names for the same dtypes.
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32, "long": int64,
           "bool": bool_}

BY_NAME = {str(d): d for d in (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)}

# PyTorch dtypes with no NumPy counterpart, and what to use instead.
UNSUPPORTED = {
    "bfloat16": "NumPy and CuPy have no bfloat16; use tr.float32 (or tr.float16)",
    "complex64": "tensors hold real numbers only (bool, int or float)",
    "complex128": "tensors hold real numbers only (bool, int or float)",
    "cfloat": "tensors hold real numbers only (bool, int or float)",
    "cdouble": "tensors hold real numbers only (bool, int or float)",
    "float8_e4m3fn": "NumPy and CuPy have no 8-bit floats; use tr.float16 or tr.float32",
    "float8_e5m2": "NumPy and CuPy have no 8-bit floats; use tr.float16 or tr.float32",
    "qint8": "quantized tensors are not supported; use tr.int8 values and a scale of your own",
    "quint8": "quantized tensors are not supported; use tr.uint8 values and a scale of your own",
}


def name_of(dtype: Any) -> DType:
    """The ``DType`` of a backend dtype, a ``DType`` or a name (``"float32"``, ``"long"``).

    Raises:
        TypeError: not a dtype this library supports.
    """
    text = str(getattr(dtype, "name", dtype))  # a NumPy/CuPy dtype object has .name
    if text.startswith("torch."):
        text = text[len("torch."):]
    found = BY_NAME.get(text) or ALIASES.get(text)
    if found is None:
        hint = UNSUPPORTED.get(text, "expected one of " + ", ".join(f"tr.{n}" for n in BY_NAME))
        raise TypeError(f"dtype {dtype!r} is not supported: {hint}")
    return found
