"""``Embedding``: a lookup table from token ids to learned vectors."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .checks import check_size, first_out_of_range, is_integer
from .module import Module, Parameter


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors; ``embedding(ids)`` = ``weight[ids]``.

    Looking up row c is the same as multiplying ``weight^T`` by the one-hot vector of
    token c, without building the one-hot vectors: the usual way to feed the tokens
    c_1, ..., c_k of the notes' language model (6.390 notes C.17-C.19, RNN as a
    language model) into the RNN as x_t. The lookup is
    indexing, so the gradient is a scatter-add: every row gets the sum of the
    gradients of all positions that read it (repeated ids accumulate).

    ``weight`` starts as N(0, 1) draws from the library's generator, as in PyTorch.

    Shapes:
        ids: any shape (...), integer dtype, values in [0, num_embeddings - 1].
        output: (..., embedding_dim).

    Args:
        num_embeddings: size of the vocabulary (number of rows).
        embedding_dim: length of each vector.
        device: where ``weight`` lives ("cpu", "cuda").
        dtype: ``weight``'s dtype; default float32.

    Attributes:
        weight: (num_embeddings, embedding_dim).

    Raises:
        ValueError: a size is not a positive int.
        TypeError: ``forward`` gets float (or bool) ids.
        IndexError: ``forward`` gets an id outside [0, num_embeddings - 1].

    Example:
        >>> import tinygrad_rnn as tr
        >>> tr.manual_seed(0)
        >>> emb = tr.nn.Embedding(10, 4)
        >>> emb(tr.Tensor([[1, 2, 2], [0, 9, 3]])).shape
        (2, 3, 4)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, device: Any = "cpu", dtype: Any = None) -> None:
        super().__init__()
        self.num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_size("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(Tensor.randn(self.num_embeddings, self.embedding_dim, device=device, dtype=dtype))

    def forward(self, ids: Any) -> Tensor:
        """The rows of ``weight`` named by ``ids``: output[..., :] = weight[ids[...], :]."""
        ids = ids if isinstance(ids, Tensor) else Tensor(ids, device=self.weight.device)
        if not is_integer(ids):
            raise TypeError(
                f"Embedding: ids have dtype {ids.dtype}; expected an integer tensor of token ids "
                f"(e.g. Tensor([[1, 2]]) or tensor.long())"
            )
        bad = first_out_of_range(ids, self.num_embeddings)  # in 64 bits: an int8 -128 stays -128
        if bad is not None:
            raise IndexError(
                f"Embedding(num_embeddings={self.num_embeddings}): id {bad} is out of range; "
                f"expected ids in [0, {self.num_embeddings - 1}]"
            )
        return self.weight[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
