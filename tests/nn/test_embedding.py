"""nn.Embedding: lookups of any index shape, scatter-add gradients, errors, PyTorch oracle."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import embedding as embedding_module


def test_weight_shape_and_standard_normal_init() -> None:
    emb = nn.Embedding(200, 50)
    assert [(n, p.shape) for n, p in emb.named_parameters()] == [("weight", (200, 50))]
    w = emb.weight.numpy()
    assert w.dtype == np.float32
    assert abs(w.mean()) < 0.05 and abs(w.std() - 1.0) < 0.05


def test_init_reproducible_across_devices(device: str) -> None:
    tr.manual_seed(5)
    a = nn.Embedding(6, 3).weight.numpy()
    tr.manual_seed(5)
    b = nn.Embedding(6, 3, device=device).weight.numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("ids", [3, [4, 0, 4], [[1, 2, 2], [0, 5, 3]], np.zeros((2, 0), dtype=np.int64)])
def test_lookup_of_any_index_shape_returns_the_rows(device: str, ids: object) -> None:
    emb = nn.Embedding(6, 3, device=device)
    ids_np = np.asarray(ids)
    out = emb(Tensor(ids_np, device=device))
    assert out.shape == ids_np.shape + (3,) and out.device == device
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[ids_np])


def test_python_lists_and_int32_ids_are_accepted() -> None:
    emb = nn.Embedding(6, 3)
    np.testing.assert_array_equal(emb([1, 2]).numpy(), emb.weight.numpy()[[1, 2]])
    np.testing.assert_array_equal(emb(Tensor(np.array([5], dtype=np.int32))).numpy(), emb.weight.numpy()[[5]])


def test_repeated_ids_accumulate_their_gradients(device: str) -> None:
    emb = nn.Embedding(5, 2, device=device, dtype="float64")
    ids = Tensor([[1, 3], [1, 1]], device=device)
    upstream = np.arange(8, dtype=np.float64).reshape(2, 2, 2)
    emb(ids).backward(Tensor(upstream, device=device))
    expected = np.zeros((5, 2))
    expected[1] = upstream[0, 0] + upstream[1, 0] + upstream[1, 1]
    expected[3] = upstream[0, 1]
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)


def test_gradcheck_weight(device: str) -> None:
    emb = nn.Embedding(4, 3, device=device, dtype="float64")
    ids = Tensor([[0, 2, 2], [3, 0, 2]], device=device)
    assert tr.gradcheck(lambda w: (emb(ids) * emb(ids)).sum(axis=-1), emb.weight)


def test_float_ids_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="integer tensor of token ids"):
        nn.Embedding(5, 2)(Tensor([1.0, 2.0]))


@pytest.mark.parametrize("bad", [5, 17, -1])
def test_out_of_range_ids_name_the_id_and_the_range(device: str, bad: int) -> None:
    emb = nn.Embedding(5, 2, device=device)
    with pytest.raises(IndexError, match=rf"num_embeddings=5\): id {bad} is out of range; expected ids in \[0, 4\]"):
        emb(Tensor([0, bad, 2], device=device))


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="num_embeddings=0"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="embedding_dim=-2"):
        nn.Embedding(3, -2)


def test_matches_torch_after_loading_its_state_dict() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.Embedding(7, 4).double()
    emb = nn.Embedding(7, 4, dtype="float64")
    emb.load_state_dict(ref.state_dict())
    ids_np = np.array([[1, 6, 1], [0, 1, 3]])
    y_t = ref(torch.tensor(ids_np))
    (y_t**3).sum().backward()
    y = emb(Tensor(ids_np))
    (y**3).sum().backward()
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(emb.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-12)


def test_docstring_example_runs() -> None:
    assert doctest.testmod(embedding_module).failed == 0
