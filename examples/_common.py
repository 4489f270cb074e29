"""Helpers shared by every example script (not part of the tinygrad_rnn package).

Examples run as scripts (``python examples/char_lm.py``), so Python puts ``examples/``
on ``sys.path`` and they simply ``import _common``. Tests load an example the same way
and call its ``main(argv)``.

The API (kept small and stable; other examples import it):

``make_parser(doc, name) -> argparse.ArgumentParser``
    A parser whose ``--help`` shows ``doc`` (the example's module docstring) and which
    already has the flags every example shares: ``--device {cpu,cuda}``, ``--seed``,
    ``--quick``, ``--no-jit`` and ``--out-dir`` (default ``runs/<name>/``, which git ignores: running
    an example never changes a tracked file; README's pictures are regenerated with
    ``--out-dir docs/img``). Add the example's own flags, then ``parse_args(argv)``.
``maybe_jit(step, args, max_cache=8) -> callable``
    ``tr.jit(step)`` (the training step is recorded once per signature and replayed
    without a tape), or ``step`` itself under ``--no-jit`` (the tape, every step). The
    step holds forward, loss and backward (and ``opt.step()`` when nothing happens in
    between) and returns the loss tensor; ``.item()`` and ``clip_grad_norm_`` go outside.
``setup(args) -> str``
    Seeds the library (``tr.manual_seed(args.seed)``), checks that the device exists
    (exits with a clear message when ``cuda`` is asked for without CuPy or a GPU),
    creates ``args.out_dir`` and returns the device string.
``progress(total, desc="", disable=False) -> Progress``
    A progress bar (tqdm when installed; otherwise a plain line every few percent):
    ``bar.update(n)``, ``bar.set_postfix(loss=..., ...)``, ``bar.write(text)``,
    ``bar.close()``; also a context manager.
``pyplot() -> module | None``
    ``matplotlib.pyplot`` on the non-interactive Agg backend, or ``None`` (after
    printing once how to install the ``examples`` extra) when matplotlib is missing.
``save_figure(fig, out_dir, name) -> str``
    Saves a matplotlib figure as ``out_dir/name`` (PNG by default), closes it and
    prints where it went; returns the path.
``check(condition, message)``
    A quick-mode learning check: raises :class:`LearningCheckFailed` (an
    ``AssertionError``) with ``message`` when ``condition`` is false, and prints
    ``"check passed: message"`` otherwise.
``cli(main)``
    ``if __name__ == "__main__": cli(main)``: runs ``main(sys.argv[1:])`` and turns a
    failed learning check into exit status 1 with the message on stderr.
``shard(args) -> slice``
    This process's items of a batch (its sentences, its streams) under ``--distributed``:
    every ``args.world``-th from ``args.rank`` on; all of them in a single process.
``INSTALL_HINT``
    The command that installs the optional libraries the examples use.

Plots (matplotlib) and progress bars (tqdm) come from the ``examples`` extra:
``pip install -e '.[examples]'`` (the ``dev`` extra includes both). The examples run
without them, minus the pictures and the pretty bar, and say so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

# The examples multiply small matrices many times per step. There, BLAS worker threads
# cost more in hand-offs than they save (on a 2-core machine a GRU step can run 5-10x
# slower with them), so the examples use one BLAS thread unless told otherwise. This has
# to happen before NumPy is first imported, i.e. before tinygrad_rnn.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import tinygrad_rnn as tr  # noqa: E402

INSTALL_HINT = "pip install -e '.[examples]'   (or: pip install matplotlib tqdm)"
RUNS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runs")

_warned: set[str] = set()


class LearningCheckFailed(AssertionError):
    """A ``--quick`` run finished but did not learn as much as the example promises."""


def _warn_missing(library: str, what: str) -> None:
    if library not in _warned:
        _warned.add(library)
        print(f"note: {library} is not installed, so {what}. Install it with: {INSTALL_HINT}", file=sys.stderr)


# ------------------------------------------------------------------------- arguments
def make_parser(doc: str | None, name: str, jit: bool = True) -> argparse.ArgumentParser:
    """An argument parser with the flags every example shares.

    Args:
        doc: the example's module docstring; its first line is the summary, the rest
            is printed under ``--help`` as written.
        name: the example's name; its files go to ``runs/<name>/`` of the repository
            (git-ignored) unless ``--out-dir`` says otherwise.
        jit: the example trains through ``tr.jit`` (so it offers ``--no-jit``).
    """
    out_dir = os.path.join(RUNS_DIR, name)
    doc = (doc or "").strip()
    parser = argparse.ArgumentParser(
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"Plots and progress bars need the examples extra: {INSTALL_HINT}",
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where tensors live: cpu (NumPy) or cuda (CuPy on an NVIDIA GPU)")
    parser.add_argument("--seed", type=int, default=0, help="seed for tr.manual_seed (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run for the test-suite that ASSERTS learning happened")
    if jit:
        parser.add_argument("--no-jit", action="store_true",
                            help="train on the tape at every step instead of replaying the step recorded by tr.jit")
    parser.add_argument("--out-dir", default=out_dir, help=f"folder for pictures and other files (default {out_dir}; "
                        "README's pictures: --out-dir docs/img)")
    return parser


def setup(args: argparse.Namespace) -> str:
    """Seed, check the device, create the output folder; returns the device string."""
    tr.manual_seed(args.seed)
    if args.device == "cuda" and not tr.cuda_available():
        try:
            tr.Tensor.zeros(1, device="cuda")
        except RuntimeError as e:
            raise SystemExit(f"--device cuda is not available here: {e}") from None
    os.makedirs(args.out_dir, exist_ok=True)
    return args.device


def maybe_jit(step: Callable[..., Any], args: argparse.Namespace, max_cache: int = 8) -> Callable[..., Any]:
    """``tr.jit(step, max_cache)`` unless ``--no-jit`` (then ``step`` itself, run on the tape).

    A replay gives bit-for-bit the eager step's results, so the flag changes speed only.
    """
    return step if getattr(args, "no_jit", False) else tr.jit(step, max_cache=max_cache)


def pad_time(x: tr.Tensor, multiple: int = 8, value: int = 0) -> tr.Tensor:
    """x (T, B, ...) padded with ``value`` along time up to a multiple of ``multiple`` steps.

    For jitted steps on ragged batches: tr.jit records once per shape, so rounding T up
    lets batches of nearby lengths share one recording. Pass the lengths as a Tensor too:
    a list's values are part of the signature (layers branch on them), a Tensor's are not.
    """
    extra = -x.shape[0] % multiple
    return tr.cat([x, x.new_full((extra, *x.shape[1:]), value)], dim=0) if extra else x


# -------------------------------------------------------------------------- progress
class Progress:
    """A progress bar: tqdm when installed, else a plain line every ~10 %."""

    def __init__(self, total: int, desc: str = "", disable: bool = False) -> None:
        self.total, self.desc, self.disable = total, desc, disable
        self.n, self._postfix, self._next_print = 0, "", 0.0
        self._start = time.perf_counter()
        self._bar = None
        if disable:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            _warn_missing("tqdm", "progress is printed as plain lines")
            return
        self._bar = tqdm(total=total, desc=desc, dynamic_ncols=True, file=sys.stdout)

    def update(self, n: int = 1) -> None:
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif not self.disable and self.n >= self._next_print:
            elapsed = time.perf_counter() - self._start
            print(f"{self.desc} {self.n}/{self.total} [{elapsed:.0f}s] {self._postfix}", flush=True)
            self._next_print = self.n + max(1, self.total // 10)

    def set_postfix(self, **values: Any) -> None:
        text = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        self._postfix = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def progress(total: int, desc: str = "", disable: bool = False) -> Progress:
    """A :class:`Progress` bar of ``total`` steps."""
    return Progress(total, desc, disable)


# ---------------------------------------------------------------------------- plots
def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, or None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _warn_missing("matplotlib", "no pictures are drawn")
        return None
    return plt


def save_figure(fig: Any, out_dir: str, name: str) -> str:
    """Save ``fig`` as ``out_dir/name``, close it, print the path and return it."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"saved {path}")
    return path


def shard(args: argparse.Namespace) -> slice:
    """Process ``args.rank``'s items: every ``world``-th from ``rank`` on (dealt like cards, so a
    batch sorted by length gives every process a similar share of the work)."""
    return slice(getattr(args, "rank", 0), None, getattr(args, "world", 1))


# ---------------------------------------------------------------------------- checks
def held_out_split(make_item: Callable[[Any], tuple], n_train: int, n_test: int, seed: int) -> tuple[list, list]:
    """Training items from ``make_item(rng)``, and held-out items whose words (``item[0]``)
    never occur in training: the test set measures generalisation, not memory."""
    import random

    rng = random.Random(seed)
    train = [make_item(rng) for _ in range(n_train)]
    seen = {" ".join(item[0]) for item in train}
    test: list = []
    while len(test) < n_test:
        item = make_item(rng)
        if " ".join(item[0]) not in seen:
            test.append(item)
    return train, test


def check(condition: bool, message: str) -> None:
    """Raise :class:`LearningCheckFailed` unless ``condition``; print the check otherwise."""
    if not condition:
        raise LearningCheckFailed(f"learning check failed: {message}")
    print(f"check passed: {message}")


def cli(main: Callable[[list[str] | None], Any]) -> None:
    """Run ``main(sys.argv[1:])``; a failed learning check exits with status 1."""
    try:
        main(sys.argv[1:])
    except LearningCheckFailed as e:
        print(str(e), file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
