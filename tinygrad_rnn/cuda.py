"""``tr.cuda``: the few ``torch.cuda`` functions training scripts call.

There is at most one GPU (the CuPy backend's), and one random generator for every
device (draws are made on the host, see :mod:`tinygrad_rnn.random`), so seeding "the
GPU" reseeds that one generator.
"""

from __future__ import annotations

from .backend import cuda_available, get_backend
from .random import manual_seed as _manual_seed


def is_available() -> bool:
    """True when CuPy is installed and sees a GPU (``device="cuda"`` then works)."""
    return cuda_available()


def device_count() -> int:
    """1 with a usable GPU, else 0 (only one GPU is used)."""
    return 1 if cuda_available() else 0


def current_device() -> int:
    """0, the one GPU.

    Raises:
        RuntimeError: there is no usable GPU (the message says why).
    """
    get_backend("cuda")
    return 0


def manual_seed(seed: int) -> None:
    """Reseed the library's one generator (it draws for the GPU too); as ``tr.manual_seed``."""
    _manual_seed(seed)


manual_seed_all = manual_seed


def synchronize() -> None:
    """Wait until the GPU has finished its queued work (for timing); nothing to wait for without one."""
    if cuda_available():
        get_backend("cuda").synchronize()
