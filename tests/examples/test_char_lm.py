"""examples/char_lm.py: the notes' START/END language model (6.390 notes C.4, C.16-C.19).

The quick run must learn (validation loss at least 40 % below log V); the pieces it
is built from (char_lm.py, corpus.py, char_model.py, sentence_trainer.py,
stream_trainer.py) are checked against the notes: the (x, y) pairs, the objective J, sampling from <start> to <end>,
resuming a library checkpoint (tr.load_checkpoint), and the detached state of --stream.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from example_runner import load, run_example

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

START, END = 0, 1  # the notes' <start> and <end> tokens (C.18-C.19)

@pytest.mark.slow
def test_quick_mode_learns(tmp_path: Path) -> None:
    result = run_example(["examples/char_lm.py", "--quick", "--no-bar", "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "check passed: validation loss" in result.stdout
    assert "samples at step 0" in result.stdout and "held-out validation loss" in result.stdout
    assert (tmp_path / "char_lm_loss.png").stat().st_size > 1000


def test_help_explains_the_example() -> None:
    result = run_example(["examples/char_lm.py", "--help"], timeout=60)
    assert result.returncode == 0
    for words in ("<start>", "<end>", "standard library", "--stream", "--resume", "--temperature", "cuda"):
        assert words in result.stdout


def test_pairs_follow_the_notes() -> None:
    """x = (<start>, c_1..c_k), y = (c_1..c_k, <end>) (C.18-C.19), padded and masked."""
    lm = load("sentence_trainer")
    x, y, lengths = lm.make_batch([[5, 6, 7], [8]], "cpu")
    assert lengths == [4, 2]
    assert x.numpy().T.tolist() == [[START, 5, 6, 7], [START, 8, END, END]]
    assert y.numpy().T.tolist() == [[5, 6, 7, END], [8, END, lm.IGNORE, lm.IGNORE]]


@pytest.mark.parametrize("model", ["gated", "lstm"])
def test_objective_is_the_notes_J(model: str) -> None:
    """J of a padded batch = (1/q) sum_i L_seq of each sentence run alone (C.15-C.16)."""
    lm = load("sentence_trainer")
    tr.manual_seed(1)
    net = load("char_model").CharLM(vocab_size=12, model=model, hidden=6, layers=2, embed=4, device="cpu").to(dtype="float64")
    sentences = [[2, 3, 4, 5, 6], [7, 8], [9, 10, 11]]
    J, n_chars = lm.sentence_loss(net, lm.make_batch(sentences, "cpu"))
    assert n_chars == sum(len(s) + 1 for s in sentences)
    L_seqs = []
    for s in sentences:
        x, y, _ = lm.make_batch([s], "cpu")
        logits, _ = net(x)
        log_g = logits.log_softmax(axis=-1).numpy()[:, 0]
        L_seqs.append(-sum(log_g[t, target] for t, target in enumerate(y.numpy()[:, 0])))
    assert J.item() == pytest.approx(sum(L_seqs) / len(sentences), rel=1e-10)


def test_sampling_starts_at_start_and_stops_at_end() -> None:
    lm = load("char_model")
    vocab = load("corpus").Vocab(list("ab"))
    tr.manual_seed(0)
    net = lm.CharLM(len(vocab), "rnn", hidden=4, layers=1, embed=3, device="cpu")
    with tr.no_grad():  # make <end> certain after one character: the head's bias decides
        net.head.bias.data[...] = 0.0
        net.head.weight.data[...] = 0.0
        net.head.bias.data[END] = 50.0
    assert lm.sample(net, vocab, n=3, temperature=1.0, max_len=20, device="cpu") == ["", "", ""]
    with tr.no_grad():  # now "a" is certain and <end> impossible: runs to max_len
        net.head.bias.data[END] = -50.0
        net.head.bias.data[vocab.index["a"]] = 50.0
        net.head.bias.data[START] = 60.0  # <start> is never drawn, however likely
    assert lm.sample(net, vocab, n=2, temperature=0.0, max_len=7, device="cpu") == ["aaaaaaa"] * 2


def test_vocab_round_trip() -> None:
    vocab = load("corpus").Vocab(list("hello world"))
    assert len(vocab) == len(set("hello world")) + 2
    assert vocab.decode(vocab.encode("low herd")) == "low herd"
    assert min(vocab.encode("hello")) >= 2  # 0 and 1 are <start> and <end>


def test_corpus_is_gathered_from_the_standard_library() -> None:
    sentences = load("corpus").stdlib_sentences()
    assert len(sentences) > 500
    assert all(25 <= len(s) <= 100 and s.isascii() for s in sentences)


TINY = ["--hidden", "8", "--embed", "4", "--limit", "120", "--batch", "8", "--eval-every", "2", "--sample", "1",
        "--no-bar"]


def test_resume_continues_where_it_stopped(tmp_path: Path) -> None:
    """4 steps in one go == 2 steps, save, resume to 4: same model, optimizer and data order."""
    lm = load("char_lm")
    straight = lm.main([*TINY, "--steps", "4", "--out-dir", str(tmp_path / "a")])
    ckpt = str(tmp_path / "lm.npz")
    lm.main([*TINY, "--steps", "2", "--save", ckpt, "--out-dir", str(tmp_path / "b")])
    saved = tr.load_checkpoint(ckpt)  # a library checkpoint: step, optimizer state, vocabulary and config
    assert saved["step"] == 2 and saved["optimizer_state"] and saved["extra"]["config"]["hidden"] == 8
    assert set(saved["extra"]["vocab"]) <= set("".join(load("corpus").stdlib_sentences()))
    resumed = lm.main([*TINY, "--steps", "4", "--resume", ckpt, "--out-dir", str(tmp_path / "b")])
    assert resumed["steps"] == 4
    assert resumed["val"] == pytest.approx(straight["val"], rel=1e-6)
    assert resumed["history"]["step"] == straight["history"]["step"] == [0, 2, 4]


def test_stream_mode_carries_a_detached_state(tmp_path: Path) -> None:
    lm = load("char_lm")
    h = Tensor.ones(2, 3, requires_grad=True) * 2.0
    state = load("stream_trainer").detach_state((h, [h, h]))
    assert not state[0].requires_grad and not state[1][1].requires_grad
    assert state[0].tolist() == h.tolist()
    metrics = lm.main([*TINY, "--stream", "--limit", "400", "--batch", "4", "--bptt", "16", "--steps", "4", "--model", "elman",
                       "--out-dir", str(tmp_path)])
    assert metrics["steps"] == 4 and math.isfinite(metrics["val"])
    assert (tmp_path / "char_lm_stream_loss.png").exists()


@pytest.mark.slow
def test_stream_quick_mode_learns_on_the_tape_too(tmp_path: Path) -> None:
    """--no-jit trains --stream on the tape; it learns as the default tr.jit run does."""
    result = run_example(["examples/char_lm.py", "--quick", "--stream", "--no-jit", "--no-bar",
                          "--out-dir", str(tmp_path)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "check passed: validation loss" in result.stdout
    assert "chars/s through the tape" in result.stdout


def _final_validation(stdout: str) -> float:
    return float(stdout.split("held-out validation loss: ")[1].split()[0])


@pytest.mark.slow
def test_distributed_stream_takes_the_single_process_steps(tmp_path: Path) -> None:
    """mpiexec -n 2 ... --stream --distributed (tr.jit steps): each rank reads half the streams; the
    run ends where one process ends (float32: to rounding), and only rank 0 prints. (Sentence
    mode: the --quick run below.)"""
    args = ["examples/char_lm.py", *TINY, "--steps", "6", "--stream", "--bptt", "16", "--batch", "4", "--limit", "400",
            "--out-dir", str(tmp_path)]
    two = run_example([*args, "--distributed"], processes=2)
    assert two.returncode == 0, two.stdout[-3000:] + two.stderr[-3000:]
    one = run_example(args)
    assert one.returncode == 0, one.stdout[-3000:] + one.stderr[-3000:]
    assert two.stdout.count("held-out validation loss") == 1
    assert "distributed: 2 process(es) over MPI" in two.stdout
    assert _final_validation(two.stdout) == pytest.approx(_final_validation(one.stdout), abs=2e-3)


@pytest.mark.slow
def test_distributed_quick_mode_learns_under_mpiexec(tmp_path: Path) -> None:
    result = run_example(["examples/char_lm.py", "--quick", "--distributed", "--no-bar", "--out-dir", str(tmp_path)],
                         processes=2, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("check passed: validation loss") == 1  # rank 0 only
