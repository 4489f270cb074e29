"""Draw the unrolled graph of a 3-step ElmanRNN, straight from the tape.

The notes draw an RNN "unrolled" in time (6.390 notes C.5, Back-propagation through
time, step (2)): one copy of the network per time step, all copies sharing the same
weights W^sx, W^ss, W^o and offsets. This script runs an ElmanRNN for 3 steps, adds the
sequence loss L_seq = sum_t ||g_t - y_t||^2 (C.15), and hands the loss to
tinygrad_rnn.viz.to_dot, which follows the tape from the loss down to the weights and
writes it as Graphviz DOT:

  * ellipses are tensors (blue: the weights, which collect .grad; grey: data),
  * boxes are ops (MatMul, Add, Tanh, ...), one per recorded Function,
  * dashed frames group the ops of each time step (the layer labels them while
    tr.detect_anomaly() is on), so the three copies of the step sit side by side,
  * arrows point the way the forward pass runs; backward walks them in reverse.

Each weight is one node with an edge into every time step: that is "parameter
sharing", and why its gradient is a sum over t (C.42-C.45). The input terms
W^sx x_t + W_0^ss for all t are one matrix product before the loop, and the outputs
W^o s_t + W_0^o one after it, as ElmanRNN computes them.

The DOT file is always written; PNG and SVG are drawn when Graphviz's `dot` program is
installed (apt-get install graphviz / brew install graphviz); otherwise the script says
how to draw them.

  python examples/draw_graph.py                      # runs/draw_graph/unrolled_elman.{dot,png,svg}
  python examples/draw_graph.py --model gated --steps 2
"""

from __future__ import annotations

import os
import re
import warnings

import _common

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, viz


def build(model: str, steps: int, device: str) -> tuple[Tensor, dict[str, Tensor]]:
    """Run the RNN on one sequence and return the loss and the names to show."""
    cls = nn.ElmanRNN if model == "elman" else nn.GatedRNN
    rnn = cls(input_size=2, state_size=3, output_size=1, f_s="tanh", f_o="identity", device=device)
    x = Tensor.randn(steps, 1, 2, device=device)  # (T, B=1, l=2)
    y = Tensor.randn(steps, 1, 1, device=device)
    s0 = Tensor.zeros(1, 3, device=device)  # s_0
    with tr.detect_anomaly():  # the layer labels each step's ops "<Layer> time step t"
        g, s = rnn(x, s0=s0)
        loss = ((g - y) ** 2).sum()  # L_seq (C.15)
    names = {name: p for name, p in rnn.named_parameters()}
    names.update({"s_0": s0, "x (all t)": x, "y (all t)": y, "g (all t)": g, "s (all t)": s, "L_seq": loss})
    return loss, names


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = _common.make_parser(__doc__, "draw_graph", jit=False)
    parser.add_argument("--model", choices=["elman", "gated"], default="elman", help="ElmanRNN or GatedRNN")
    parser.add_argument("--steps", type=int, default=3, help="time steps to unroll (default 3, as in the notes)")
    parser.add_argument("--full", action="store_true",
                        help="draw every intermediate tensor too (default: only weights, data and named tensors; "
                        "other tensors become edges labelled with their shape)")
    parser.add_argument("--name", default=None, help="file name stem (default unrolled_<model>)")
    args = parser.parse_args(argv)
    device = _common.setup(args)
    loss, names = build(args.model, args.steps, device)
    title = f"{'ElmanRNN' if args.model == 'elman' else 'GatedRNN'} unrolled for {args.steps} steps, loss L_seq"
    dot_text = viz.to_dot(loss, names=names, title=title, compact=not args.full)

    ops = re.findall(r'^\s*op\d+ \[label="(\w+)"', dot_text, flags=re.M)
    counts = {op: ops.count(op) for op in sorted(set(ops))}
    steps_drawn = len(re.findall(r"time step \d+", dot_text))
    print(f"{len(ops)} ops on the tape: " + ", ".join(f"{n} {op}" for op, n in counts.items()))
    print(f"{steps_drawn} time-step groups; weights: {', '.join(n for n in names if n.startswith('W'))}")

    stem = os.path.join(args.out_dir, args.name or f"unrolled_{args.model}")
    written = [viz.render(dot_text, stem + ".dot")]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for suffix in (".png", ".svg"):
            path = viz.render(dot_text, stem + suffix)
            if path not in written:
                written.append(path)
    if caught:
        print(str(caught[0].message))
    for path in written:
        print(f"wrote {path}")

    if args.quick:
        tanh_ops = counts.get("Tanh", 0)
        expected_tanh = args.steps * (1 if args.model == "elman" else 1)
        _common.check(steps_drawn == args.steps, f"the graph has one group per time step ({steps_drawn})")
        _common.check(tanh_ops == expected_tanh, f"f_s = tanh appears once per step ({tanh_ops} Tanh ops)")
        for name in names:
            if name.startswith("W"):
                _common.check(dot_text.count(f'label="{name}\\n') == 1, f"weight {name} is one shared node")
    return {"dot": dot_text, "files": written, "ops": counts, "steps": steps_drawn}


if __name__ == "__main__":
    _common.cli(main)
