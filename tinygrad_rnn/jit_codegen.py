"""The recorded steps of :mod:`.jit_trace` as one Python function: the program a replay runs.

Each step becomes one line, ``v7 = callee(v3, v5)``, its slots local variables of the
function; a slot is deleted after its last use, so a replay holds no more than it must
(its peak memory is about half the eager step's). Before the lines are written, a
transpose taken again of the same array is dropped and its uses read the first one.
"""

from __future__ import annotations

from typing import Any

from .jit_trace import TRANSPOSE, Slot


def compile_program(steps: list[tuple], params: list[int], outputs: list[int]) -> Any:
    """One Python function ``program(*params) -> outputs``: a line per recorded step, slots as locals."""
    ns: dict[str, Any] = {}

    def render(x: Any) -> str:
        if type(x) is Slot:
            return f"v{x.n}"
        if type(x) is tuple:
            return "(" + "".join(render(v) + ", " for v in x) + ")"
        if type(x) is list:
            return "[" + ", ".join(render(v) for v in x) + "]"
        if x is None or type(x) in (bool, int, str):
            return repr(x)
        name = f"k{len(ns)}"
        ns[name] = x
        return name

    steps = _reuse_views(steps, set(outputs))
    lines = ["def program(" + "".join(f"v{s}, " for s in params) + "):"]
    last = {s: len(steps) for s in outputs}  # free each slot after its last use (peak memory)
    for i in range(len(steps) - 1, -1, -1):
        _, _, targs, tkw, out = steps[i]
        for s in [*_slots((targs, tkw)), *(out if type(out) is tuple else (out,))]:
            if s is not None:
                last.setdefault(s, i)
    dead: dict[int, list[int]] = {}
    for s, i in last.items():
        dead.setdefault(i, []).append(s)
    for i, (kind, what, targs, tkw, out) in enumerate(steps):
        if kind == "method":
            callee, targs = f"{render(targs[0])}.{what}", targs[1:]
        else:
            callee = render(what)
        call = callee + "(" + ", ".join([render(a) for a in targs] + [f"{k}={render(v)}" for k, v in tkw.items()]) + ")"
        if out is None:
            lines.append("    " + call)
        elif type(out) is tuple:
            lines.append("    " + "".join(f"v{o}, " if o is not None else "_, " for o in out) + "= " + call)
        else:
            lines.append(f"    v{out} = {call}")
        if i in dead:
            lines.append("    del " + ", ".join(f"v{s}" for s in dead[i]))
    lines.append("    return (" + "".join(f"v{s}, " for s in outputs) + ")")
    exec(compile("\n".join(lines), "<tr.jit program>", "exec"), ns)  # noqa: S102 (our own generated code)
    return ns["program"]


def _reuse_views(steps: list[tuple], keep: set[int]) -> list[tuple]:
    """The steps, with a transpose taken again of the same array dropped and its uses
    pointed at the first one (the backward of ``s @ W.T`` takes ``W.T.T`` at every time
    step). A transpose is a view: the first one sees the same memory, so reusing it
    gives what recomputing gives, even after in-place writes. Slots in ``keep`` (the
    program's outputs) are never dropped."""
    first: dict[tuple, int] = {}
    renamed: dict[int, int] = {}
    kept = []
    for kind, what, targs, tkw, out in steps:
        if renamed:
            targs, tkw = _renamed(targs, renamed), _renamed(tkw, renamed)
        if (type(out) is int and out not in keep and not tkw and targs and type(targs[0]) is Slot
                and ((kind == "method" and what == "transpose") or what is TRANSPOSE)):
            key = (what, targs[0].n, repr(targs[1:]))
            if key in first:
                renamed[out] = first[key]
                continue
            first[key] = out
        kept.append((kind, what, targs, tkw, out))
    return kept


def _renamed(x: Any, renamed: dict[int, int]) -> Any:
    if type(x) is Slot:
        return Slot(renamed[x.n]) if x.n in renamed else x
    if type(x) in (tuple, list):
        return type(x)(_renamed(v, renamed) for v in x)
    if type(x) is dict:
        return {k: _renamed(v, renamed) for k, v in x.items()}
    return x


def _slots(x: Any) -> Any:
    if type(x) is Slot:
        yield x.n
    elif type(x) in (tuple, list, dict):
        for v in x.values() if type(x) is dict else x:
            yield from _slots(v)
