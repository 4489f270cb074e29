"""PyTorch names this library does not offer, and what to write instead.

``Tensor.__getattr__`` and the package's ``__getattr__`` read these tables, so
``t.unfold(...)`` or ``tr.einsum(...)`` fail with an error that names the idiom and the
alternative, not with a bare "has no attribute" (for a misspelled name, Python itself
suggests the closest one).
"""

from __future__ import annotations

_SCATTER = "write with t[index] = v (recorded on the tape when t or v requires grad)"
_NO_PRIMITIVE = "there is no backend primitive for it; build it from exp, log, tanh, sqrt, abs and arithmetic"

TENSOR = {
    "data_ptr": "raw addresses are not exposed; t.data is the backend array (NumPy: t.data.ctypes.data, CuPy: "
                "t.data.data.ptr); tr.from_dlpack/__dlpack__ share memory with other libraries",
    "storage": "storages are not exposed; t.data is the backend array (NumPy or CuPy)",
    "untyped_storage": "storages are not exposed; t.data is the backend array (NumPy or CuPy)",
    "storage_offset": "storages are not exposed; t.data is the backend array (NumPy or CuPy)",
    "is_contiguous": "memory layout is the backend's business here; .contiguous() returns the tensor itself",
    "bfloat16": "NumPy and CuPy have no bfloat16; use .float() (or .half())",
    "cfloat": "tensors hold real numbers only",
    "to_sparse": "sparse tensors are not supported",
    "names": "named tensors are not supported",
    "refine_names": "named tensors are not supported",
    "nonzero": "the result's shape depends on the values; index with the mask itself (x[mask]) or use "
               "tr.where(mask, a, b)",
    "argwhere": "the result's shape depends on the values; index with the mask itself (x[mask])",
    "index_copy_": _SCATTER,
    "index_fill_": _SCATTER,
    "index_put_": _SCATTER,
    "put_": _SCATTER,
    "masked_scatter_": _SCATTER,
    "unfold": "slice the windows (x[..., i:i + size]) and join them with tr.stack",
    "sin": _NO_PRIMITIVE, "cos": _NO_PRIMITIVE, "tan": _NO_PRIMITIVE, "atan": _NO_PRIMITIVE,
    "floor": _NO_PRIMITIVE + " (for non-negative values: x.long())",
    "ceil": _NO_PRIMITIVE, "round": _NO_PRIMITIVE, "trunc": _NO_PRIMITIVE + " (x.long() truncates toward 0)",
    "fmod": _NO_PRIMITIVE, "remainder": _NO_PRIMITIVE, "lgamma": _NO_PRIMITIVE, "digamma": _NO_PRIMITIVE,
    "share_memory_": "multiprocessing with shared tensors is not supported; tr.distributed runs data parallel "
                     "over MPI or NCCL",
    "apply_": "it runs a Python function per element; write it with tensor ops",
    "map_": "it runs a Python function per element; write it with tensor ops",
    "index_select_": "use index_select (out of place)",
    "resize_": "use reshape/view (same number of elements) or a new tensor",
    "set_": "assign a new array to .data, or copy_ values in",
    "bernoulli_": "draw with (tr.rand_like(t) < p) and copy_ the result in",
    "exponential_": "draw with -tr.rand_like(t).log() / lambd and copy_ the result in",
    "geometric_": "not supported; draw with tr.rand_like and copy_ the result in",
    "random_": "use tr.randint(low, high, t.shape) and copy_ the result in",
}

PACKAGE = {
    "einsum": "write the contraction with @ (matmul), transpose/permute, unsqueeze and sum",
    "bfloat16": "NumPy and CuPy have no bfloat16; use tr.float32 (or tr.float16)",
    "complex64": "tensors hold real numbers only",
    "cfloat": "tensors hold real numbers only",
    "compile": "use tr.jit(fn): it records a training step once and replays it",
    "set_default_dtype": "pass dtype= where tensors and layers are made (the default is float32)",
    "get_default_dtype": "the default dtype is float32 (tr.float32)",
    "set_default_device": "pass device= where tensors and layers are made",
    "autocast": "mixed precision is not supported; use float32 (or .half() by hand)",
    "nonzero": "the result's shape depends on the values; index with the mask itself (x[mask])",
    "sin": _NO_PRIMITIVE, "cos": _NO_PRIMITIVE, "floor": _NO_PRIMITIVE, "ceil": _NO_PRIMITIVE,
    "round": _NO_PRIMITIVE,
    "use_deterministic_algorithms": "everything here is deterministic given tr.manual_seed",
    "backends": "there are no backend switches (cudnn...) to set",
    "vmap": "write the batched computation with a leading batch axis",
    "func": "use tr.grad(outputs, inputs, create_graph=True) for higher-order gradients",
    "fft": "not supported",
    "sparse": "sparse tensors are not supported",
    "amp": "mixed precision is not supported; use float32",
    "multiprocessing": "not supported; tr.distributed runs data parallel over MPI or NCCL",
    "set_printoptions": "tensors print through NumPy: use numpy.set_printoptions",
}


def missing(owner: str, name: str, table: dict[str, str]) -> AttributeError:
    """The AttributeError for ``owner.name``, with the alternative from ``table`` if it has one."""
    if name in table:
        return AttributeError(f"{owner}.{name} (a PyTorch idiom) is not supported: {table[name]}")
    return AttributeError(f"{owner} has no attribute {name!r}")
