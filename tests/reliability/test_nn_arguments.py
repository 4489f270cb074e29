"""Arguments of the nn layers: NumPy integers are ints, mistakes get our own message.

Sizes and lengths often come out of NumPy arrays (``np.int64``); they are accepted
wherever a Python int is, and stored as Python ints. An empty batch with ``lengths=[]``
and ``Sequential([...])`` (a list instead of the modules) are refused with a message that
names the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

N = np.int64

CONSTRUCTORS = {
    "Linear": (lambda a, b: nn.Linear(a, b), ("in_features", "out_features")),
    "Embedding": (lambda a, b: nn.Embedding(a, b), ("num_embeddings", "embedding_dim")),
    "RNNCell": (lambda a, b: nn.RNNCell(a, b), ("input_size", "hidden_size")),
    "LSTMCell": (lambda a, b: nn.LSTMCell(a, b), ("input_size", "hidden_size")),
    "GRUCell": (lambda a, b: nn.GRUCell(a, b), ("input_size", "hidden_size")),
    "RNN": (lambda a, b: nn.RNN(a, b, num_layers=N(2)), ("input_size", "hidden_size", "num_layers")),
    "LSTM": (lambda a, b: nn.LSTM(a, b, num_layers=np.int32(2)), ("input_size", "hidden_size", "num_layers")),
    "GRU": (lambda a, b: nn.GRU(a, b, num_layers=np.uint8(2)), ("input_size", "hidden_size", "num_layers")),
    "ElmanRNN": (lambda a, b: nn.ElmanRNN(a, b, N(2)), ("input_size", "state_size", "output_size")),
    "GatedRNN": (lambda a, b: nn.GatedRNN(a, b, np.int16(2)), ("input_size", "state_size", "output_size")),
}


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_numpy_integer_sizes_are_accepted_and_stored_as_ints(name: str) -> None:
    make, attributes = CONSTRUCTORS[name]
    tr.manual_seed(0)
    with_numpy = make(N(3), np.int32(4))
    tr.manual_seed(0)
    with_python = make(3, 4)
    for attribute in attributes:
        value = getattr(with_numpy, attribute)
        assert type(value) is int and value == getattr(with_python, attribute)
    assert repr(with_numpy) == repr(with_python)
    for (key, p), (_, q) in zip(with_numpy.named_parameters(), with_python.named_parameters(), strict=True):
        assert p.shape == q.shape and (p.numpy() == q.numpy()).all(), key


@pytest.mark.parametrize("bad", [True, 3.0, "3", np.float64(3), 0, N(-1)])
def test_sizes_that_are_not_positive_ints_are_refused(bad) -> None:
    with pytest.raises(ValueError, match=r"LSTM: hidden_size=.*; expected a positive int"):
        nn.LSTM(3, bad)


@pytest.mark.parametrize("lengths", [[N(4), N(2)], np.array([4, 2], dtype="int32"), [np.uint8(4), 2],
                                     Tensor([4, 2])])
def test_numpy_integer_lengths_are_accepted(lengths) -> None:
    tr.manual_seed(1)
    gru = nn.GRU(2, 3, dtype="float64")
    x = Tensor.randn(4, 2, 2, dtype="float64")
    out, h_n = gru(x, lengths=lengths)
    expected_out, expected_h = gru(x, lengths=[4, 2])
    assert (out.numpy() == expected_out.numpy()).all() and (h_n.numpy() == expected_h.numpy()).all()


def test_a_numpy_integer_length_for_one_sequence() -> None:
    rnn = nn.ElmanRNN(2, 3, 1)
    g, _ = rnn(Tensor.randn(4, 1, 2), lengths=N(2))
    assert (g.numpy()[2:] == 0).all()


@pytest.mark.parametrize("bad", [[4, 2.0], [4, True], [4, "2"]])
def test_lengths_that_are_not_ints_are_refused(bad) -> None:
    with pytest.raises(TypeError, match=r"RNN: lengths holds .*; expected ints, one per sequence"):
        nn.RNN(2, 3)(Tensor.randn(4, 2, 2), lengths=bad)


@pytest.mark.parametrize("make", [lambda: nn.LSTM(2, 3), lambda: nn.GatedRNN(2, 3, 1),
                                  lambda: nn.GRU(2, 3, batch_first=True)])
def test_an_empty_batch_with_empty_lengths_gets_a_clear_error(make) -> None:
    layer = make()
    x = Tensor.zeros(0, 4, 2) if getattr(layer, "batch_first", False) else Tensor.zeros(4, 0, 2)
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}: lengths=\[\] for a batch of 0 sequences.*"
                                         "expected at least one sequence"):
        layer(x, lengths=[])


@pytest.mark.parametrize("container", [list, tuple])
def test_sequential_of_a_list_says_to_unpack_it(container) -> None:
    modules = container([nn.Linear(2, 3), nn.Linear(3, 1)])
    kind = container.__name__
    with pytest.raises(TypeError, match=rf"Sequential: got one {kind} of 2 modules as its argument; .*"
                                        r"write nn\.Sequential\(\*modules\)"):
        nn.Sequential(modules)
    model = nn.Sequential(*modules)
    assert [k for k, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert model(Tensor.ones(5, 2)).shape == (5, 1)


def test_sequential_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match="Sequential: argument 1 is a function; expected a Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)
