"""tinygrad_rnn.viz: the tape as Graphviz DOT, and examples/draw_graph.py which draws an unrolled RNN."""

from __future__ import annotations

import doctest
import importlib
import re
import shutil
import stat
from pathlib import Path

import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, viz

ROOT = Path(__file__).resolve().parents[1]


def parse(dot: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node labels {id: label} and edges [(src, dst)] of a DOT text written by to_dot."""
    labels = dict(re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', dot, flags=re.M))
    edges = re.findall(r"^\s*(\w+) -> (\w+)", dot, flags=re.M)
    return labels, edges


def test_nodes_and_edges_follow_the_tape() -> None:
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = Tensor([[1.0], [-1.0]])
    loss = (w @ x).tanh().sum()
    labels, edges = parse(viz.to_dot(loss, names={"W": w, "x": x, "loss": loss}))
    ops = {k: v for k, v in labels.items() if k.startswith("op")}
    assert sorted(ops.values()) == ["MatMul", "Sum", "Tanh"]
    by_label = {v: k for k, v in labels.items()}
    assert {"W\\n(2, 2)", "x\\n(2, 1)", "loss\\n()", "(2, 1)"} <= set(by_label)
    # every edge joins a tensor and an op: input -> op -> output
    for src, dst in edges:
        assert src.startswith("t") != dst.startswith("t")
    # each op has exactly one output edge and as many input edges as Function inputs
    for op_id, name in ops.items():
        assert sum(1 for s, _ in edges if s == op_id) == 1
        assert sum(1 for _, d in edges if d == op_id) == (2 if name == "MatMul" else 1)
    assert (by_label["loss\\n()"], ) == tuple(d for s, d in edges if labels[s] == "Sum")


def test_shared_weight_is_one_node_with_one_edge_per_use() -> None:
    W = Tensor.randn(3, 3, requires_grad=True)
    s = Tensor.zeros(3)
    for _ in range(4):  # s_t = tanh(W s_{t-1} + 1): W used at every step
        s = (W @ s + 1.0).tanh()
    labels, edges = parse(viz.to_dot(s.sum(), names={"W": W}))
    (w_id,) = [k for k, v in labels.items() if v.startswith("W\\n")]
    assert sum(1 for src, _ in edges if src == w_id) == 4
    assert list(labels.values()).count("Tanh") == 4


def test_output_is_deterministic_and_escaped() -> None:
    w = Tensor([1.0], requires_grad=True)
    loss = (w * w).sum()
    names = {'say "hi"\\': w}
    assert viz.to_dot(loss, names=names) == viz.to_dot(loss, names=names)
    assert 'label="say \\"hi\\"\\\\\\n(1)"' in viz.to_dot(loss, names=names)


def test_constants_and_compact_mode() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    loss = ((w * c).exp() * 2.0).sum()
    full = viz.to_dot(loss, names={"c": c})
    assert "c\\n(2)" in full and "#999999" in full  # the constant, drawn grey
    assert "c\\n(2)" not in viz.to_dot(loss, names={"c": c}, show_constants=False)
    labels, edges = parse(viz.to_dot(loss, compact=True))
    tensors = [v for k, v in labels.items() if k.startswith("t")]
    assert sorted(tensors) == ["()", "()", "(2)", "(2)"]  # loss, 2.0, w, c: the intermediates are gone
    assert any(s.startswith("op") and d.startswith("op") for s, d in edges)
    assert '[label="(2)"]' in viz.to_dot(loss, compact=True)  # op -> op edges carry the shape


def test_time_steps_of_a_recurrent_layer_are_framed() -> None:
    rnn = nn.ElmanRNN(2, 3, 1)
    with tr.detect_anomaly():
        g, _ = rnn(Tensor.randn(3, 1, 2))
    dot = viz.to_dot(g.sum(), names=dict(rnn.named_parameters()))
    assert sorted(int(t) for t in re.findall(r'label="ElmanRNN time step (\d+)"', dot)) == [1, 2, 3]
    assert dot.count("subgraph cluster_") == 3
    assert viz.to_dot(g.sum()).count("W_ss") == 0  # names only when given


def test_a_tensor_without_tape_is_one_node_and_errors_are_clear() -> None:
    dot = viz.to_dot(Tensor([1.0, 2.0]))
    assert dot.count("->") == 0 and dot.count("label=") == 1
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot([1.0])
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(Tensor([1.0]), rankdir="UP")


def test_render_without_graphviz_writes_the_dot_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="Graphviz 'dot' is not installed"):
        written = viz.render("digraph { a -> b }\n", tmp_path / "g.png")
    assert written == str(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == "digraph { a -> b }\n"
    assert not (tmp_path / "g.png").exists()
    assert viz.render("digraph {}\n", tmp_path / "only.dot") == str(tmp_path / "only.dot")
    with pytest.raises(ValueError, match="suffix"):
        viz.render("digraph {}\n", tmp_path / "g.jpg")


def test_render_reports_a_failing_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(viz.shutil, "which", lambda name: str(fake))
    with pytest.raises(RuntimeError, match="status 3: syntax error"):
        viz.render("digraph {", tmp_path / "g.svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")
def test_render_with_graphviz(tmp_path: Path) -> None:
    w = Tensor([1.0], requires_grad=True)
    path = viz.render(viz.to_dot((w * w).sum()), tmp_path / "g.png")
    assert path == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_docstring_example_runs() -> None:
    assert doctest.testmod(viz).failed == 0


@pytest.mark.parametrize("model", ["elman", "gated"])
def test_draw_graph_example(tmp_path: Path, model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/draw_graph.py --quick: three framed steps, one tanh each, each weight one node."""
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    draw_graph = importlib.import_module("draw_graph")
    out = draw_graph.main(["--quick", "--model", model, "--out-dir", str(tmp_path)])
    assert out["steps"] == 3 and out["ops"]["Tanh"] == 3
    assert (tmp_path / f"unrolled_{model}.dot").exists()
    if shutil.which("dot"):
        assert (tmp_path / f"unrolled_{model}.png").exists() and (tmp_path / f"unrolled_{model}.svg").exists()
