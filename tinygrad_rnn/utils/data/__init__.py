"""``tr.utils.data``: PyTorch's ``torch.utils.data``, with its semantics.

Datasets (:class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, ...), samplers,
:class:`DataLoader`, :func:`random_split`, and the collate functions, among them
:func:`pad_collate` for batches of sequences of different lengths::

    from tinygrad_rnn.utils.data import DataLoader, pad_collate
    for x, lengths, y in DataLoader(pairs, batch_size=8, shuffle=True, collate_fn=pad_collate):
        output, h_n = gru(x, lengths=lengths)
"""

from ...distributed.sampler import DistributedSampler
from .collate import default_collate, default_convert, pad_collate
from .dataloader import DataLoader
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate",
    "default_convert", "pad_collate", "random_split",
]
