"""Checkpoints lose nothing: atomic saves survive a SIGKILL mid-write, a checkpoint holds
model + optimizer + RNG, a run resumed in a fresh process is bit-identical to one that
never stopped, and loading never unpickles and refuses files that are not checkpoints."""

from __future__ import annotations

import doctest
import os
import pathlib
import pickle
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, checkpoint, nn, optim
from tinygrad_rnn.nested import flatten

REPO = pathlib.Path(__file__).resolve().parents[2]


def python(script: str, *args: str, **popen: object) -> subprocess.Popen:
    """Start a fresh interpreter running ``script`` with the repository importable."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], env=env, **popen)


def run(script: str, *args: str) -> None:
    proc = python(script, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out


# ------------------------------------------------------------------- atomic saves
SAVER = """
    import sys
    import numpy as np
    import tinygrad_rnn as tr

    path = sys.argv[1]
    weights = np.empty(2_000_000, np.float32)  # 8 MB: a save takes long enough to be interrupted
    version = 0
    while True:
        version += 1
        weights.fill(version)
        tr.save({"version": np.array(version), "weights": weights, "tail": np.full(3, version)}, path)
        if version == 1:
            print("saved", flush=True)  # from now on every moment is inside a save or close to one
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_a_save_killed_midway_leaves_a_complete_checkpoint(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ckpt.npz"
    rng = random.Random(0)
    interrupted = 0
    for _ in range(6):
        child = python(SAVER, str(path), stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "saved"
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(child.pid, signal.SIGKILL)  # a real kill: no cleanup, no finally blocks
        child.wait(timeout=30)
        child.stdout.close()
        state = tr.load(path)  # never half a file
        version = int(state["version"])
        assert version >= 1
        assert (state["weights"] == version).all() and state["tail"].tolist() == [version] * 3
        leftovers = [p for p in tmp_path.iterdir() if p != path]
        assert all(p.name.startswith(".tmp-") for p in leftovers), leftovers
        interrupted += bool(leftovers)  # the kill landed inside a save: its temporary file stayed
        for p in leftovers:
            p.unlink()
    assert interrupted >= 1, "no kill landed in the middle of a save: the test proved nothing"


# ---------------------------------------------------------------- what it holds
class Tagger(nn.Module):
    def __init__(self, device: str = "cpu") -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, dropout=0.25, device=device)
        self.head = nn.Linear(5, 4, device=device)

    def forward(self, x: Tensor) -> Tensor:
        output, _ = self.lstm(x)
        return self.head(nn.functional.dropout(output, 0.2, self.training))


def train_steps(model: Tagger, opt: optim.Optimizer, steps: int, device: str = "cpu") -> None:
    for _ in range(steps):
        x = Tensor.randn(6, 2, 3, device=device)  # random batches: the generator's state matters
        target = (Tensor.rand(6, 2, device=device) * 4).long()
        loss = nn.functional.cross_entropy(model(x), target)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()


def test_checkpoint_holds_model_optimizer_rng_step_and_extras(device: str, tmp_path: pathlib.Path) -> None:
    model = Tagger(device)
    opt = optim.Adam(model.parameters(), lr=0.01)
    train_steps(model, opt, 2, device)
    path = tmp_path / "run.npz"
    extra = {"epoch": 3, "vocab": "abc\u00e9", "history": [1.5, 2.25], "config": {"T": 6, "lr": None},
             "best": np.arange(3.0), "ema": Tensor([1.0, 2.0], device=device)}
    tr.save_checkpoint(path, model, opt, step=17, extra=extra)
    expected_rng = tr.get_rng_state()
    expected_params = model.state_dict()
    expected_opt = opt.state_dict()

    raw = tr.load(path)  # an ordinary tr.save file: flat names, arrays only
    assert int(raw[checkpoint.MARKER]) == checkpoint.FORMAT_VERSION
    assert {k.split("/")[0] for k in raw} == {checkpoint.MARKER, "model", "optim", "rng", "meta", "extra"}
    assert "optim/state.0.exp_avg" in raw and int(raw["optim/state.0.step"]) == 2

    tr.manual_seed(99)  # scramble everything
    fresh = Tagger(device)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    info = tr.load_checkpoint(path, fresh, fresh_opt)
    assert info["step"] == 17
    assert {k: v for k, v in info["extra"].items() if k not in ("best", "ema")} == {
        "epoch": 3, "vocab": "abc\u00e9", "history": [1.5, 2.25], "config": {"T": 6, "lr": None}}
    assert info["extra"]["best"].tolist() == [0.0, 1.0, 2.0] and info["extra"]["ema"].tolist() == [1.0, 2.0]
    for name, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, expected_params[name], err_msg=name)
    got_opt, expected_opt = flatten(fresh_opt.state_dict()), flatten(expected_opt)  # leaf by leaf
    assert got_opt.keys() == expected_opt.keys() and fresh_opt.lr == 0.01
    for key, value in expected_opt.items():
        np.testing.assert_array_equal(got_opt[key], value, err_msg=key)
    assert tr.get_rng_state() == expected_rng
    assert next(fresh.parameters()).device == device


def test_load_checkpoint_options_and_partial_checkpoints(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "model_only.npz"
    model = nn.Linear(2, 3)
    tr.save_checkpoint(path, model)  # no optimizer, no step, no extras
    saved = tr.get_rng_state()
    info = tr.load_checkpoint(path, nn.Linear(2, 3))
    assert info["step"] is None and info["extra"] == {} and info["optimizer_state"] == {}
    assert set(info["model_state"]) == {"weight", "bias"}
    tr.manual_seed(5)
    state = tr.get_rng_state()
    tr.load_checkpoint(path, restore_rng=False)
    assert tr.get_rng_state() == state  # restore_rng=False leaves the generator alone
    tr.load_checkpoint(path)
    assert tr.get_rng_state() == saved != state
    with pytest.raises(ValueError, match="holds no optimizer state"):
        tr.load_checkpoint(path, model, optim.SGD(model.parameters(), lr=0.1))


def test_a_mismatched_model_or_optimizer_changes_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ckpt.npz"
    small = nn.Linear(2, 3)
    opt = optim.SGD(small.parameters(), lr=0.1, momentum=0.9)
    for p in small.parameters():
        p.grad = Tensor.ones(*p.shape)
    opt.step()
    tr.save_checkpoint(path, small, opt, step=1)

    other = nn.Sequential(nn.Linear(2, 3))  # keys "0.weight" ...: not the saved model's
    with pytest.raises(KeyError, match="missing keys"):
        tr.load_checkpoint(path, other)

    target = nn.Linear(2, 3)
    before = target.state_dict()
    mismatched = optim.Adam(target.parameters())  # Adam's keys, not SGD's
    with pytest.raises(KeyError, match=r"Adam.load_state_dict: param_groups\[0\] has missing keys"):
        tr.load_checkpoint(path, target, mismatched)
    for name, value in target.state_dict().items():  # the model was put back as it was
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_save_checkpoint_refuses_bad_arguments(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match="model is a dict; expected an object with state_dict"):
        tr.save_checkpoint(path, model={"w": 1})
    with pytest.raises(TypeError, match="step=1.5"):
        tr.save_checkpoint(path, step=1.5)
    with pytest.raises(ValueError, match="step=-1"):
        tr.save_checkpoint(path, step=-1)
    with pytest.raises(TypeError, match="neither an array nor plain Python data"):
        tr.save_checkpoint(path, extra={"f": lambda: 0})
    assert not path.exists()  # nothing half-written by a refused call


# ------------------------------------------------------------ schedulers, groups
def build_run(seed: int = 5) -> tuple:
    tr.manual_seed(seed)
    model = Tagger()
    opt = optim.AdamW([{"params": model.lstm.parameters()}, {"params": model.head.parameters(), "lr": 0.02}], lr=0.01)
    return model, opt, optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=1e-3)


def run_epochs(model: Tagger, opt: optim.Optimizer, sched: object, epochs: int) -> None:
    for _ in range(epochs):
        train_steps(model, opt, 2)
        sched.step()  # type: ignore[attr-defined]


def test_a_scheduler_and_parameter_groups_resume_bit_identically(tmp_path: pathlib.Path) -> None:
    straight = build_run()
    run_epochs(*straight, 7)

    first = build_run()
    run_epochs(*first, 4)
    tr.save_checkpoint(tmp_path / "ckpt.npz", first[0], first[1], step=4, scheduler=first[2])
    assert "scheduler/last_epoch" in tr.load(tmp_path / "ckpt.npz")
    resumed = build_run(seed=77)  # built afresh (its scheduler set epoch 0's lr), then loaded
    tr.manual_seed(99)
    info = tr.load_checkpoint(tmp_path / "ckpt.npz", resumed[0], resumed[1], scheduler=resumed[2])
    assert info["scheduler_state"]["last_epoch"] == 4 and resumed[1].param_groups[1]["initial_lr"] == 0.02
    run_epochs(*resumed, 3)

    for name, value in straight[0].state_dict().items():
        assert np.array_equal(resumed[0].state_dict()[name], value), name  # bit for bit
    a, b = flatten(straight[1].state_dict()), flatten(resumed[1].state_dict())
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert straight[2].state_dict() == resumed[2].state_dict()
    assert straight[2].get_last_lr() == resumed[2].get_last_lr()


def test_plateau_scheduler_state_and_refusals(tmp_path: pathlib.Path) -> None:
    model = nn.Linear(2, 3)
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(2.0)
    path = tmp_path / "ckpt.npz"
    tr.save_checkpoint(path, model, opt, scheduler=sched)
    other = optim.lr_scheduler.ReduceLROnPlateau(optim.SGD(model.parameters(), lr=1.0))
    tr.load_checkpoint(path, scheduler=other)
    assert other.state_dict() == sched.state_dict() and other.best == 2.0 and other.mode_worse == float("inf")

    target = nn.Linear(2, 3)
    target_opt = optim.SGD(target.parameters(), lr=0.5)
    before = target.state_dict()
    wrong = optim.lr_scheduler.StepLR(target_opt, step_size=2)
    with pytest.raises(KeyError, match="StepLR.load_state_dict: missing keys"):
        tr.load_checkpoint(path, target, target_opt, scheduler=wrong)
    for name, value in target.state_dict().items():  # the model and the optimizer were put back
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    assert target_opt.param_groups[0]["lr"] == 0.5 and wrong.last_epoch == 0
    tr.save_checkpoint(path, model, opt)
    with pytest.raises(ValueError, match="holds no scheduler state"):
        tr.load_checkpoint(path, scheduler=other)

    class Schedule:  # a callable object: LambdaLR saves its attributes, here one a file cannot hold
        def __init__(self) -> None:
            self.shape = abs

        def __call__(self, epoch: int) -> float:
            return 1.0

    with pytest.raises(TypeError, match="the entry 'lr_lambdas.0.shape' is a builtin_function_or_method"):
        tr.save_checkpoint(path, scheduler=optim.lr_scheduler.LambdaLR(opt, Schedule()))


def test_version_1_checkpoints_still_load(tmp_path: pathlib.Path) -> None:
    """Version 1 stored the optimizer's earlier flat state dict: {"optim/lr": ..., "optim/state.0.exp_avg": ...}."""
    model = nn.Linear(2, 1)
    weight, bias = model.state_dict()["weight"], model.state_dict()["bias"]
    old = {checkpoint.MARKER: np.array(1), "model/weight": weight, "model/bias": bias, "meta/step": np.array(9),
           "optim/lr": np.array(0.03), "optim/betas": np.array([0.9, 0.999]), "optim/eps": np.array(1e-8),
           "optim/weight_decay": np.array(0.0), "optim/state.0.step": np.array(2),
           "optim/state.0.exp_avg": np.full((1, 2), 0.5, np.float32),
           "optim/state.0.exp_avg_sq": np.full((1, 2), 0.25, np.float32)}
    tr.save(old, tmp_path / "v1.npz")
    fresh = nn.Linear(2, 1)
    opt = optim.Adam(fresh.parameters())
    assert tr.load_checkpoint(tmp_path / "v1.npz", fresh, opt)["step"] == 9
    assert opt.param_groups[0]["lr"] == 0.03 and opt.state[0]["step"] == 2 and opt.state[1] == {}
    assert opt.state[0]["exp_avg"].tolist() == [[0.5, 0.5]]


# -------------------------------------------------------------- exact resume
RESUME = """
    import sys
    import tinygrad_rnn as tr
    from tinygrad_rnn import optim
    sys.path.insert(0, sys.argv[5])
    from test_checkpoint import Tagger, train_steps

    mode, path, steps, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    tr.manual_seed(1234)
    model = Tagger()
    opt = optim.Adam(model.parameters(), lr=0.01)
    if mode.startswith("resume"):
        if mode == "resume-without-optimizer":
            info = tr.load_checkpoint(path, model)
        else:
            info = tr.load_checkpoint(path, model, opt, restore_rng=mode != "resume-without-rng")
        assert info["step"] == 4 and info["extra"] == {"note": "after 4 steps"}
    train_steps(model, opt, steps)
    if mode == "first":
        tr.save_checkpoint(path, model, opt, step=steps, extra={"note": "after 4 steps"})
    tr.save(model.state_dict(), out)
"""


def test_resuming_in_a_fresh_process_is_bit_identical(tmp_path: pathlib.Path) -> None:
    here = str(pathlib.Path(__file__).parent)
    ckpt, paths = str(tmp_path / "ckpt.npz"), {}

    def start(mode: str, steps: int) -> subprocess.Popen:
        paths[mode] = str(tmp_path / f"{mode}.npz")
        return python(RESUME, mode, ckpt, str(steps), paths[mode], here,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def finish(*procs: subprocess.Popen) -> None:
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out

    finish(start("straight", 4 + 3), start("first", 4))  # N + M steps vs. N steps then a checkpoint
    finish(start("resume", 3), start("resume-without-rng", 3), start("resume-without-optimizer", 3))
    straight = tr.load(paths["straight"])
    resumed = tr.load(paths["resume"])
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert np.array_equal(straight[name], resumed[name]), name  # bit for bit
    # The checks have teeth: without the generator's or the optimizer's state, the run differs.
    for broken in ("resume-without-rng", "resume-without-optimizer"):
        other = tr.load(paths[broken])
        assert any(not np.array_equal(straight[k], other[k]) for k in straight), broken


# ----------------------------------------------------------- refusing files
def spring(marker: str) -> None:
    pathlib.Path(marker).write_text("unpickled")


class Trap:
    """Unpickling this runs ``spring``: evidence that something unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (spring, (self.marker,))


def test_loading_never_unpickles_and_refuses_non_checkpoints(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "sprung"
    crafted = tmp_path / "crafted.npz"
    np.savez(crafted, weight=np.ones(2), payload=np.array([Trap(str(marker))], dtype=object))
    for load in (tr.load, tr.load_checkpoint):
        with pytest.raises(ValueError, match="'payload' is an object array.*never unpickles"):
            load(crafted)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"w": Trap(str(marker))}))
    for load in (tr.load, tr.load_checkpoint):
        with pytest.raises(ValueError, match="is not a tinygrad_rnn checkpoint"):
            load(pickled)
    assert not marker.exists()

    plain = tmp_path / "weights.npz"
    tr.save(nn.Linear(2, 2).state_dict(), plain)
    assert set(tr.load(plain)) == {"weight", "bias"}  # plain tr.load takes any npz of arrays
    with pytest.raises(ValueError, match=r"is not a tinygrad_rnn checkpoint: it has no 'tinygrad_rnn_checkpoint' "
                                         r"entry.*tr\.load\(path\) and model\.load_state_dict"):
        tr.load_checkpoint(plain)
    newer = tmp_path / "newer.npz"
    tr.save({checkpoint.MARKER: np.array(checkpoint.FORMAT_VERSION + 1)}, newer)
    with pytest.raises(ValueError, match="format version .* is not supported"):
        tr.load_checkpoint(newer)
    with pytest.raises(FileNotFoundError):
        tr.load_checkpoint(tmp_path / "missing.npz")


def test_module_doctest() -> None:
    assert doctest.testmod(checkpoint).failed == 0
