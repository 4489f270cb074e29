"""Draw the tape: the graph of ops below a tensor, as Graphviz DOT.

Every tensor computed by a recorded op keeps that op in ``tensor._ctx`` (a
:class:`~tinygrad_rnn.autograd.Function`), and the op keeps its input tensors in
``inputs``. Following those links down from a loss gives the computation graph that
``backward`` walks in reverse. For a recurrent layer that graph is the *unrolled*
network of the notes (6.390 notes C.5, Back-propagation through time, step (2)): the
same weight tensors feed one copy of the step's ops per time step.

``to_dot(loss)`` writes that graph in the DOT language: an ellipse per tensor (its
name when given, and its shape), a box per op (the Function class name, e.g.
``MatMul``, ``Tanh``), and edges input -> op -> output. ``render(dot_text, path)``
turns the text into a PNG/SVG/PDF with Graphviz's ``dot`` program when it is
installed, and otherwise writes the ``.dot`` file and says how to render it.

Example:
    >>> import tinygrad_rnn as tr
    >>> w = tr.Tensor([1.0, 2.0], requires_grad=True)
    >>> text = to_dot((w * w).sum(), names={"w": w})
    >>> "Mul" in text and "Sum" in text and 'label="w' in text
    True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from .tensor import Tensor

__all__ = ["to_dot", "render"]


def _quote(text: str) -> str:
    """A DOT string literal: backslashes and quotes escaped, newlines as ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(str(d) for d in t.shape) + ")"


def to_dot(
    tensor: Tensor | Sequence[Tensor],
    names: Mapping[str, Tensor] | None = None,
    rankdir: str = "BT",
    show_constants: bool = True,
    compact: bool = False,
    title: str | None = None,
) -> str:
    """The tape below ``tensor`` as a Graphviz DOT digraph.

    Nodes are tensors (ellipses: name if given, shape; parameters and other leaves
    that require grad are filled blue, constants are grey) and ops (boxes: the Function
    class name). Edges run input tensor -> op -> output tensor, i.e. in the direction
    of the forward pass; ``backward`` follows them in reverse. Ops recorded while a
    recurrent layer labelled them (``autograd.anomaly_context``, active under
    ``tr.detect_anomaly()``) are framed together, one frame per label, e.g. per time step.

    Args:
        tensor: the output(s) to draw from, e.g. a loss, or ``(g, s)``.
        names: ``{name: tensor}`` labels to show, e.g. ``dict(model.named_parameters())``
            plus ``{"x": x, "loss": loss}``.
        rankdir: Graphviz layout direction; ``"BT"`` (default) puts inputs at the
            bottom and the loss on top, like the notes' unrolled diagrams.
        show_constants: draw inputs that need no gradient (data, Python scalars).
        compact: leave out unnamed intermediate tensors: their producing op points
            straight at the ops that use them, the edge labelled with the shape.
        title: a caption for the whole graph.

    Returns:
        The DOT source text (deterministic for a given graph).

    Raises:
        TypeError: ``tensor`` is not a Tensor or a sequence of Tensors.
        ValueError: ``rankdir`` is not one of ``"TB" "BT" "LR" "RL"``.
    """
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError(f"to_dot: expected a Tensor or a sequence of Tensors, got {type(tensor).__name__}")
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"to_dot: rankdir={rankdir!r}; expected one of 'TB', 'BT', 'LR', 'RL'")
    label_of = {id(t): name for name, t in (names or {}).items()}
    root_ids = {id(t) for t in roots}

    # Walk the tape from the roots (iteratively: an unrolled RNN can be deep) and
    # number tensors and ops in the order they are first met, so output is stable.
    tensor_ids: dict[int, str] = {}
    tensors: list[Tensor] = []
    ops: list[tuple[str, Any, Tensor]] = []  # (op id, Function, its output)
    stack = list(reversed(roots))
    while stack:
        t = stack.pop()
        if id(t) in tensor_ids:
            continue
        tensor_ids[id(t)] = f"t{len(tensor_ids)}"
        tensors.append(t)
        if t._ctx is None:
            continue
        ops.append((f"op{len(ops)}", t._ctx, t))
        stack += [inp for inp in reversed(t._ctx.inputs) if show_constants or inp.requires_grad]

    def drawn(t: Tensor) -> bool:
        return not compact or t._ctx is None or id(t) in root_ids or id(t) in label_of

    # In compact mode an undrawn tensor is replaced, as an edge source, by its op.
    source = {id(out): op_id for op_id, _, out in ops if not drawn(out)}

    lines = [
        "digraph tape {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [arrowsize=0.6, fontname="Helvetica", fontsize=8, fontcolor="#666666"];',
    ]
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t; fontsize=14;")
    for t in tensors:
        if not drawn(t):
            continue
        name = label_of.get(id(t))
        text = f"{name}\n{_shape(t)}" if name else _shape(t)
        if t._ctx is None and t.requires_grad:
            style = 'style=filled, fillcolor="#cfe2f3"'  # a leaf that gets a .grad (a weight)
        elif not t.requires_grad:
            style = 'color="#999999", fontcolor="#666666"'  # data or a constant
        else:
            style = 'style=filled, fillcolor="#fce5cd"' if id(t) in root_ids else ""
        attrs = ", ".join(a for a in (f"label={_quote(text)}", "shape=ellipse", style) if a)
        lines.append(f"  {tensor_ids[id(t)]} [{attrs}];")
    for op_id, fn, _ in ops:
        lines.append(f'  {op_id} [label={_quote(type(fn).__name__)}, shape=box, style="rounded,filled", '
                     'fillcolor="#eeeeee"];')

    # One frame per label (e.g. per time step), holding its ops and their drawn outputs.
    groups: dict[str, list[str]] = {}
    for op_id, fn, out in ops:
        label = getattr(fn, "label", None)
        if label is not None:
            keep_out = drawn(out) and id(out) not in root_ids and out._ctx is fn
            groups.setdefault(label, []).extend([op_id, tensor_ids[id(out)]] if keep_out else [op_id])
    for k, (label, members) in enumerate(groups.items()):
        lines.append(f"  subgraph cluster_{k} {{")
        lines.append(f'    label={_quote(label)}; style=dashed; color="#888888";')
        lines.append("    " + " ".join(f"{m};" for m in members))
        lines.append("  }")

    for op_id, fn, out in ops:
        for inp in fn.inputs:
            if id(inp) not in tensor_ids:
                continue
            if id(inp) in source:
                lines.append(f"  {source[id(inp)]} -> {op_id} [label={_quote(_shape(inp))}];")
            else:
                lines.append(f"  {tensor_ids[id(inp)]} -> {op_id};")
        if drawn(out):
            lines.append(f"  {op_id} -> {tensor_ids[id(out)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, path: str | os.PathLike) -> str:
    """Write ``dot_text`` as a picture at ``path`` (format from its suffix), if possible.

    With Graphviz's ``dot`` program on ``PATH``, the DOT source is saved next to the
    picture (same name, ``.dot``) and ``dot -T<format>`` draws ``path``. Without it,
    only the ``.dot`` file is written and a warning says how to render it.

    Args:
        dot_text: DOT source, e.g. from :func:`to_dot`.
        path: where the picture goes: ``.png``, ``.svg`` or ``.pdf`` (or ``.dot`` to
            write only the source).

    Returns:
        The path of the file that was written: the picture, or the ``.dot`` file.

    Raises:
        ValueError: an unsupported suffix.
        RuntimeError: ``dot`` is installed but failed (its error message included).
    """
    path = os.fspath(path)
    stem, suffix = os.path.splitext(path)
    fmt = suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf", "dot"):
        raise ValueError(f"render: path {path!r} has suffix {suffix!r}; expected .png, .svg, .pdf or .dot")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    dot_path = stem + ".dot"
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(dot_text)
    if fmt == "dot":
        return dot_path
    program = shutil.which("dot")
    if program is None:
        warnings.warn(
            f"Graphviz 'dot' is not installed, so {path} was not drawn; wrote the DOT source to {dot_path}. "
            f"Install Graphviz (e.g. apt-get install graphviz, brew install graphviz) and run: "
            f"dot -T{fmt} {dot_path} -o {path}",
            stacklevel=2,
        )
        return dot_path
    result = subprocess.run([program, f"-T{fmt}", dot_path, "-o", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"render: 'dot -T{fmt}' failed with status {result.returncode}: {result.stderr.strip()}")
    return path
