"""nn.Sequential, nn.ModuleList, nn.ModuleDict: every list and dict operation is run on
ours and on PyTorch's side by side, and the registered (key, module) pairs compared;
parameter names, forward, repr and errors."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn


def tags(container: Any) -> list[tuple[str, int]]:
    """(key, in_features) of every registered module: Linear(k, 1) is module k."""
    return [(key, m.in_features) for key, m in container._modules.items()]


def run_both(scenario: Any) -> None:
    """Run scenario(nn_namespace) with ours and PyTorch's; their results and tags must agree."""
    torch = pytest.importorskip("torch")
    ours, theirs = scenario(nn), scenario(torch.nn)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(a, (nn.Module, torch.nn.Module)):
            assert type(a).__name__ == type(b).__name__
            if hasattr(a, "_modules") and not hasattr(a, "in_features"):
                assert tags(a) == tags(b)
            else:
                assert a.in_features == b.in_features
        elif isinstance(a, list):
            assert [m.in_features if hasattr(m, "in_features") else m for m in a] == \
                   [m.in_features if hasattr(m, "in_features") else m for m in b]
        else:
            assert a == b


def lin(lib: Any, k: int) -> Any:
    return lib.Linear(k, 1)


# ------------------------------------------------------------------ ModuleList
def test_module_list_append_extend_insert_like_torch() -> None:
    def scenario(lib: Any) -> list:
        ml = lib.ModuleList([lin(lib, 1), lin(lib, 2)])
        assert ml.append(lin(lib, 3)) is ml
        assert ml.extend([lin(lib, 4), lin(lib, 5)]) is ml
        ml.insert(0, lin(lib, 6))
        ml.insert(3, lin(lib, 7))
        ml.insert(len(ml), lin(lib, 8))
        return [ml, len(ml), list(ml)]
    run_both(scenario)


def test_module_list_indexing_slicing_setting_deleting_like_torch() -> None:
    def scenario(lib: Any) -> list:
        ml = lib.ModuleList(lin(lib, k) for k in range(1, 7))
        first, last, middle = ml[0], ml[-1], ml[1:5:2]
        ml[2] = lin(lib, 9)
        ml[-1] = lin(lib, 8)
        del ml[0]
        popped = ml.pop(1)
        deleted_slice = lib.ModuleList(lin(lib, k) for k in range(1, 7))
        del deleted_slice[1:4]
        return [first, last, middle, ml, popped, deleted_slice]
    run_both(scenario)


def test_module_list_add_and_iadd_like_torch() -> None:
    def scenario(lib: Any) -> list:
        a = lib.ModuleList([lin(lib, 1)])
        b = lib.ModuleList([lin(lib, 2), lin(lib, 3)])
        c = a + b
        a += b
        return [c, a, b]
    run_both(scenario)


def test_module_list_parameters_are_numbered_and_shared_ones_listed_once() -> None:
    shared = nn.Linear(2, 2)
    ml = nn.ModuleList([shared, nn.Linear(2, 3, bias=False), shared])
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "1.weight"]
    assert list(ml.state_dict()) == ["0.weight", "0.bias", "1.weight", "2.weight", "2.bias"]
    assert len(list(ml.children())) == 2 and len(ml) == 3


def test_module_list_errors() -> None:
    ml = nn.ModuleList([nn.Linear(1, 1)])
    with pytest.raises(IndexError, match=r"index 1 is out of range for 1 modules"):
        ml[1]  # noqa: B018
    with pytest.raises(IndexError, match=r"index -2 is out of range"):
        ml[-2] = nn.Linear(1, 1)
    with pytest.raises(TypeError, match=r"indices must be integers or slices, not str"):
        ml["0"]  # noqa: B018
    with pytest.raises(TypeError, match=r"module 1 is a function; expected an nn.Module"):
        ml.append(lambda x: x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"extend: got a Linear; expected an iterable of modules \(use append"):
        ml.extend(nn.Linear(1, 1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"extend: got a int; expected an iterable"):
        ml.extend(3)  # type: ignore[arg-type]
    with pytest.raises(IndexError, match=r"insert: index 5 is out of range for 1 modules"):
        ml.insert(5, nn.Linear(1, 1))
    assert len(ml) == 1  # nothing changed


def test_module_list_repr_groups_repeats_like_torch() -> None:
    torch = pytest.importorskip("torch")
    def build(lib: Any) -> Any:
        return lib.ModuleList([lib.Linear(2, 2), lib.Linear(2, 2), lib.Tanh(), lib.Linear(2, 2)])
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


# ------------------------------------------------------------------ Sequential
def test_sequential_from_modules_and_from_ordered_dict_like_torch() -> None:
    def scenario(lib: Any) -> list:
        a = lib.Sequential(lin(lib, 1), lin(lib, 2))
        b = lib.Sequential(OrderedDict([("enc", lin(lib, 3)), ("dec", lin(lib, 4))]))
        return [a, b, b[0], b[-1], b[1:], a[::-1]]
    run_both(scenario)


def test_sequential_edits_like_torch() -> None:
    def scenario(lib: Any) -> list:
        s = lib.Sequential(OrderedDict([("a", lin(lib, 1)), ("b", lin(lib, 2)), ("c", lin(lib, 3))]))
        s[1] = lin(lib, 9)
        named = lib.Sequential(OrderedDict([("a", lin(lib, 1)), ("b", lin(lib, 2)), ("c", lin(lib, 3))]))
        del named[0]  # PyTorch renumbers every key after a deletion
        s.append(lin(lib, 4))
        t = lib.Sequential(lin(lib, 1), lin(lib, 2))
        t.insert(1, lin(lib, 5))
        t.insert(-1, lin(lib, 6))
        t.extend(lib.Sequential(lin(lib, 7)))
        popped = t.pop(0)
        both = lib.Sequential(lin(lib, 1)) + lib.Sequential(lin(lib, 2))
        grown = lib.Sequential(lin(lib, 1))
        grown += lib.Sequential(lin(lib, 2), lin(lib, 3))
        return [s, named, t, popped, both, grown, len(t)]
    run_both(scenario)


def test_sequential_forward_and_parameter_names_match_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(OrderedDict([("hidden", nn.Linear(3, 4)), ("act", nn.Tanh()), ("out", nn.Linear(4, 2))]))
    theirs = torch.nn.Sequential(OrderedDict([("hidden", torch.nn.Linear(3, 4)), ("act", torch.nn.Tanh()),
                                              ("out", torch.nn.Linear(4, 2))])).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(ours.double()(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_sequential_errors() -> None:
    with pytest.raises(TypeError, match=r"module 'x' is a int; expected an nn.Module"):
        nn.Sequential(OrderedDict(x=3))
    with pytest.raises(IndexError, match=r"insert: index 3 is out of range for 1 modules"):
        nn.Sequential(nn.Tanh()).insert(3, nn.Tanh())
    with pytest.raises(TypeError, match=r"Sequential \+ ModuleList: expected another Sequential"):
        nn.Sequential(nn.Tanh()) + nn.ModuleList()  # noqa: B018
    with pytest.raises(KeyError, match=r"module name 'a.b' is empty or contains '.'"):
        nn.Sequential(OrderedDict([("a.b", nn.Tanh())]))


# ------------------------------------------------------------------ ModuleDict
def test_module_dict_operations_like_torch() -> None:
    def scenario(lib: Any) -> list:
        md = lib.ModuleDict({"b": lin(lib, 1), "a": lin(lib, 2)})
        md["c"] = lin(lib, 3)
        md["b"] = lin(lib, 4)  # replaced in place: keeps its position
        popped = md.pop("a")
        md.update([("d", lin(lib, 5)), ("e", lin(lib, 6))])
        md.update(OrderedDict(f=lin(lib, 7)))
        del md["d"]
        other = lib.ModuleDict(md)
        return [md, popped, list(md), list(md.keys()), list(md.values()), [k for k, _ in md.items()],
                "c" in md, "a" in md, len(md), other]
    run_both(scenario)


def test_module_dict_parameters_clear_and_repr() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "dec": torch.nn.Linear(3, 2)})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    ours.clear()
    assert len(ours) == 0 and list(ours.parameters()) == []


def test_module_dict_errors_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (nn, torch.nn):
        with pytest.raises(KeyError, match="already exists"):
            lib.ModuleDict({"train": lib.Tanh()})
        with pytest.raises(KeyError):
            lib.ModuleDict({"a.b": lib.Tanh()})
        with pytest.raises(TypeError):
            lib.ModuleDict({1: lib.Tanh()})
        with pytest.raises(KeyError):
            lib.ModuleDict()["missing"]
    with pytest.raises(KeyError, match=r"no key 'x'; expected one of \['a'\]"):
        nn.ModuleDict({"a": nn.Tanh()})["x"]
    with pytest.raises(TypeError, match=r"module 'a' is a int; expected an nn.Module"):
        nn.ModuleDict({"a": 1})
    with pytest.raises(TypeError, match=r"element 0 is not a \(key, module\) pair"):
        nn.ModuleDict(["ab"])
    with pytest.raises(TypeError, match=r"got a int; expected a mapping or an iterable"):
        nn.ModuleDict(3)  # type: ignore[arg-type]


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import container

    result = doctest.testmod(container)
    assert result.failed == 0 and result.attempted > 0
