"""Collate functions: a list of samples -> one batch.

:func:`default_collate` is PyTorch's rule (stack Tensors and arrays, numbers become
tensors, tuples, lists and dicts are collated field by field). :func:`pad_collate`
is the one-line answer to ragged batches: it pads sequences of different lengths into
one (T, B, ...) tensor and returns their lengths, which every recurrent layer takes as
``lengths=`` (the notes' sequences of different lengths n^(i), 6.390 notes C.3).
"""

from __future__ import annotations

import collections.abc
from collections.abc import Sequence
from typing import Any

from ...backend import backend_of, host
from ...nn.utils import pad_sequence
from ...ops import stack
from ...tensor import Tensor

_RAGGED_HINT = "for sequences of different lengths pass collate_fn=tr.utils.data.pad_collate"


def _is_array(x: Any) -> bool:
    """A NumPy array or scalar, or another backend's array (what ``Tensor(x)`` copies as is)."""
    return host.is_host_array(x) or backend_of(x) is not None


def _unsupported(fn: str, elem: Any) -> TypeError:
    return TypeError(f"{fn}: a sample holds a {type(elem).__name__}; expected Tensors, arrays of numbers, "
                     "numbers, str, or tuples, lists and dicts of those")


def _stack_tensors(batch: list[Any]) -> Tensor:
    for k, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: sample 0 holds a Tensor but sample {k} a {type(t).__name__} there; "
                            "expected the same kind of value in every sample")
        if t.shape != batch[0].shape:
            raise ValueError(f"default_collate: sample 0 has a Tensor of shape {batch[0].shape} and sample {k} "
                             f"one of shape {t.shape}; expected equal shapes to stack ({_RAGGED_HINT})")
    return stack(batch, axis=0)


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, field by field (PyTorch's ``default_collate``).

    ======================================  ==================================================
    each sample's value                     in the batch
    ======================================  ==================================================
    Tensor of shape S                       Tensor (B, *S), stacked (gradients flow through)
    array (NumPy, CuPy) or NumPy scalar     Tensor (B, *S) of the array's dtype
    float / int / bool                      Tensor (B,) of float64 / int64 / bool (PyTorch's)
    str or bytes                            the samples' values, unchanged
    dict                                    dict of the collated values, key by key
    tuple or list (equal lengths)           a list of collated fields (a namedtuple stays one)
    ======================================  ==================================================

    Raises:
        ValueError: Tensors or arrays of different shapes (use :func:`pad_collate` for
            sequences of different lengths), tuples or lists of different lengths, or
            dicts with different keys.
        TypeError: a value of another type (None, an object), or one kind of value in
            one sample and another in the next.

    Example:
        >>> import tinygrad_rnn as tr
        >>> x, y = tr.utils.data.default_collate([(tr.Tensor([1.0, 2.0]), 0), (tr.Tensor([3.0, 4.0]), 1)])
        >>> x.shape, y.tolist(), y.dtype
        ((2, 2), [0, 1], dtype('int64'))
    """
    if isinstance(batch, Tensor) or not isinstance(batch, Sequence) or not batch:
        raise TypeError(f"default_collate: got {type(batch).__name__} {batch!r:.60}; expected a non-empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(list(batch))
    if _is_array(elem):
        if elem.dtype.kind not in "biuf":
            raise _unsupported("default_collate", elem)
        return _stack_tensors([Tensor(x) if _is_array(x) else x for x in batch])
    if isinstance(elem, (bool, int, float)):
        if not all(isinstance(x, (bool, int, float)) for x in batch):
            kinds = sorted({type(x).__name__ for x in batch})
            raise TypeError(f"default_collate: sample 0 holds a number but the samples hold {kinds} there; "
                            "expected numbers in every sample")
        if isinstance(elem, float):
            dtype = "float64"  # PyTorch's rule for Python floats
        elif any(isinstance(x, float) for x in batch):
            dtype = "float32"  # ints first, then a float: torch.tensor's default dtype
        else:
            dtype = "bool" if all(isinstance(x, bool) for x in batch) else "int64"
        return Tensor(list(batch), dtype=dtype)
    if isinstance(elem, (str, bytes)):
        return batch  # as given: a list at the top, a tuple inside a tuple field (PyTorch's result)
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem)
        for k, sample in enumerate(batch):
            if not isinstance(sample, collections.abc.Mapping) or set(sample) != set(keys):
                got = list(sample) if isinstance(sample, collections.abc.Mapping) else type(sample).__name__
                raise ValueError(f"default_collate: sample 0 has keys {keys} and sample {k} has {got}; "
                                 "expected the same keys in every sample")
        out = {key: default_collate([sample[key] for sample in batch]) for key in keys}
        try:
            return type(elem)(out)  # keep an OrderedDict or a dict subclass
        except TypeError:
            return out
    if isinstance(elem, (tuple, list)):
        for k, sample in enumerate(batch):
            if not isinstance(sample, (tuple, list)) or len(sample) != len(elem):
                got = len(sample) if isinstance(sample, (tuple, list)) else type(sample).__name__
                raise ValueError(f"default_collate: sample 0 has {len(elem)} fields and sample {k} has {got}; "
                                 "expected every sample to have the same number of fields")
        fields = [default_collate(column) for column in zip(*batch, strict=True)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
            return type(elem)(*fields)
        return fields  # tuples become lists, as in PyTorch
    raise _unsupported("default_collate", elem)


def default_convert(sample: Any) -> Any:
    """One sample without batching (``DataLoader(batch_size=None)``): arrays -> Tensors, rest kept.

    NumPy arrays become Tensors that share their memory (``tr.from_numpy``), other arrays
    Tensors; dicts, lists and tuples are converted element by element (a tuple becomes a
    list, a namedtuple stays one); anything else is returned unchanged (PyTorch's
    ``default_convert``).
    """
    if isinstance(sample, Tensor):
        return sample
    if _is_array(sample):
        if sample.dtype.kind not in "biuf":
            return sample
        return Tensor.from_numpy(sample) if host.is_host_array(sample) and sample.ndim else Tensor(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(x) for x in sample))
    if isinstance(sample, tuple):
        return [default_convert(x) for x in sample]  # a list, as PyTorch gives
    if isinstance(sample, list):
        return type(sample)(default_convert(x) for x in sample)
    return sample


def _as_sequence(k: int, field: int, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if _is_array(value) or isinstance(value, (list, tuple)):
        try:
            return Tensor(value)
        except TypeError as e:
            raise TypeError(f"pad_collate: sample {k}, field {field} cannot be a sequence ({e})") from None
    raise TypeError(f"pad_collate: sample {k}, field {field} is a {type(value).__name__}; expected a sequence "
                    "(a Tensor of shape (T_b, ...), an array or a list of numbers)")


def pad_collate(batch: Sequence[Any], padding_value: float | Sequence[float | None] = 0,
                batch_first: bool = False) -> tuple[Any, ...]:
    """Collate samples that hold sequences of different lengths: pad them and return their lengths.

    Each sample is a sequence x^(b) of shape (T_b, ...), or a tuple ``(x^(b), *others)``
    (a label, a target, ...). The sequences are padded into one tensor with
    ``nn.utils.pad_sequence`` (gradients flow back to each), their lengths T_b are
    returned as a list of ints, and the other fields are collated with
    :func:`default_collate`. The lengths go straight to a recurrent layer, which then
    ignores the padding (outputs past T_b are 0, ``h_n`` is each sequence's state at
    its own last step).

    To pad another field too (per-step targets of a tagger), give ``padding_value`` one
    entry per field: a number pads that field, None collates it as usual. Field 0 is
    always padded; the lengths are field 0's.

    Shapes:
        sample: x^(b) (T_b, *rest), or (x^(b), *others).
        padded: (T_max, B, *rest), or (B, T_max, *rest) with ``batch_first``.

    Args:
        batch: the samples, as a DataLoader passes them to ``collate_fn``.
        padding_value: the value of the padding (a number), or one per field.
        batch_first: put the batch axis first.

    Returns:
        ``(padded, lengths)`` for bare sequences, else ``(padded, lengths, *others)``.

    Raises:
        TypeError: a sequence field is not a Tensor, an array or a list of numbers.
        ValueError: samples with different numbers of fields, ``padding_value`` with the
            wrong number of entries or None for field 0, or trailing shapes that differ.

    Example:
        >>> import tinygrad_rnn as tr
        >>> data = [(tr.Tensor([[1.0], [2.0], [3.0]]), 0), (tr.Tensor([[4.0]]), 1)]
        >>> loader = tr.utils.data.DataLoader(data, batch_size=2, collate_fn=tr.utils.data.pad_collate)
        >>> x, lengths, labels = next(iter(loader))
        >>> x.shape, lengths, labels.tolist()
        ((3, 2, 1), [3, 1], [0, 1])
        >>> output, h_n = tr.nn.GRU(1, 4)(x, lengths=lengths)
    """
    if isinstance(batch, Tensor) or not isinstance(batch, Sequence) or not batch:
        raise TypeError(f"pad_collate: got {type(batch).__name__} {batch!r:.60}; expected a non-empty list of samples")
    bare = not isinstance(batch[0], (tuple, list))
    samples = [(s,) if bare else s for s in batch]
    n_fields = len(samples[0])
    for k, s in enumerate(samples):
        if bare == isinstance(batch[k], (tuple, list)) or len(s) != n_fields or not n_fields:
            raise ValueError(f"pad_collate: sample 0 has {'a bare sequence' if bare else f'{n_fields} fields'} and "
                             f"sample {k} is a {type(batch[k]).__name__} of {len(s)} fields; expected every sample "
                             "to be a sequence, or a tuple (sequence, *others) of the same length")
    pads = [padding_value] + [None] * (n_fields - 1) if isinstance(padding_value, (int, float)) else padding_value
    if not isinstance(pads, (list, tuple)) or len(pads) != n_fields or pads[0] is None:
        raise ValueError(f"pad_collate: padding_value={padding_value!r} for samples of {n_fields} fields; expected "
                         f"a number, or {n_fields} entries (a number for each padded field, None for the others) "
                         "with a number first")
    out: list[Any] = []
    for field, pad in enumerate(pads):
        column = [s[field] for s in samples]
        if pad is None:
            out.append(default_collate(column))
            continue
        seqs = [_as_sequence(k, field, x) for k, x in enumerate(column)]
        out.append(pad_sequence(seqs, padding_value=pad, batch_first=batch_first))
        if field == 0:
            out.append([s.shape[0] if s.ndim else 0 for s in seqs])
    return tuple(out)
