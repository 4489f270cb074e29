"""Backends: the only package that imports NumPy or CuPy.

``get_backend(device)`` returns the backend object for a device string. Every other
module reaches arrays through it.
"""

from __future__ import annotations

from typing import Any

from .base import Backend, is_basic_index
from .numpy_backend import NumpyBackend

__all__ = ["Backend", "get_backend", "register_backend", "backend_of", "backend_for_dlpack", "is_basic_index"]

_BACKENDS: dict[str, Backend] = {"cpu": NumpyBackend()}

CUDA_INSTALL_HINT = "pip install 'tinygrad_rnn[cuda]' (it pulls the cupy-cuda12x wheel)"


def _load_cuda() -> Backend:
    try:
        import cupy  # noqa: F401
    except ImportError as e:
        raise RuntimeError(
            f"device='cuda' needs CuPy, and CuPy is not installed ({e}). Install it with: "
            f"{CUDA_INSTALL_HINT}, or use device='cpu'."
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise RuntimeError(
            f"device='cuda' needs an NVIDIA GPU: CuPy is installed but found no usable GPU ({e}). "
            "Use device='cpu' on this machine."
        ) from None
    if count < 1:
        raise RuntimeError(
            "device='cuda' needs an NVIDIA GPU: CuPy is installed but reports 0 GPUs. "
            "Use device='cpu' on this machine."
        )
    from .cupy_backend import CupyBackend

    return CupyBackend()


def get_backend(device: Any = "cpu") -> Backend:
    """The backend for ``device`` ("cpu", "cuda", or one registered by a test).

    Raises:
        ValueError: ``device`` is not a known device string.
        RuntimeError: ``"cuda"`` was asked for without CuPy or without a GPU.
    """
    if isinstance(device, Backend):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device={device!r} is a {type(device).__name__}; expected a string such as 'cpu' or 'cuda'")
    backend = _BACKENDS.get(device)
    if backend is not None:
        return backend
    if device == "cuda":
        backend = _BACKENDS["cuda"] = _load_cuda()
        return backend
    if device.startswith("cuda:"):
        if device == "cuda:0":  # PyTorch's name for the first GPU: the one GPU used here
            return get_backend("cuda")
        raise ValueError(f"device={device!r}: only one GPU is supported; expected 'cuda' or 'cuda:0'")
    raise ValueError(f"unknown device {device!r}; expected one of {sorted(set(_BACKENDS) | {'cuda'})}")


def cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        get_backend("cuda")
    except RuntimeError:
        return False
    return True


def register_backend(backend: Backend) -> None:
    """Make ``backend`` reachable as ``device=backend.name`` (tests register stand-ins)."""
    _BACKENDS[backend.name] = backend


def unregister_backend(name: str) -> None:
    if name != "cpu":
        _BACKENDS.pop(name, None)


def backend_of(obj: Any) -> Backend | None:
    """The backend whose array ``obj`` is, or None for Python data and host scalars."""
    for backend in _BACKENDS.values():
        if backend.is_array(obj):
            return backend
    if type(obj).__module__.split(".")[0] == "cupy":
        return get_backend("cuda")
    return None


# DLPack device types (dlpack.h): where the memory of an exchanged array lives.
_DLPACK_DEVICES = {1: "cpu", 3: "cpu", 2: "cuda", 13: "cuda"}  # CPU, CUDA pinned host, CUDA, CUDA managed


def backend_for_dlpack(obj: Any) -> Backend:
    """The backend that can import ``obj`` through DLPack without a copy.

    Raises:
        TypeError: ``obj`` has no ``__dlpack__``/``__dlpack_device__`` (not a DLPack exporter).
        ValueError: its memory is on a device no backend serves (a TPU, ROCm...).
    """
    if not (hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__")):
        raise TypeError(f"from_dlpack: got a {type(obj).__module__}.{type(obj).__qualname__}; expected an array "
                        "with __dlpack__ and __dlpack_device__ (a torch.Tensor, numpy.ndarray, jax.Array, "
                        "cupy.ndarray...), not a DLPack capsule: pass the array itself")
    kind, index = obj.__dlpack_device__()
    name = _DLPACK_DEVICES.get(int(kind))
    if name is None:
        raise ValueError(f"from_dlpack: the array lives on DLPack device type {int(kind)}; expected the CPU (1) "
                         "or a CUDA GPU (2). Copy it to the CPU first.")
    if name == "cuda" and int(index) != 0:
        raise ValueError(f"from_dlpack: the array is on GPU {int(index)}; only GPU 0 is supported")
    return get_backend(name)
