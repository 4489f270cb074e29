"""tr.jit: a replayed training step is bit-for-bit the eager step (loss, parameters, gradients,
optimizer state, RNG), re-records when the recorded Python would differ, refuses what it cannot
replay."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.nested import flatten
from tinygrad_rnn.nn import functional as F

T, B, L, H, C = 6, 3, 4, 5, 3


def _data(seed: int, t: int = T, b: int = B) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((t, b, L)).astype("float32")
    y = (np.arange(t * b) % C).reshape(t, b)  # every class present: the range check stays the same
    rng.shuffle(y.reshape(-1))
    return x, y


def _setup(kind: str, opt_name: str, device: str = "cpu", dropout: float = 0.0):
    tr.manual_seed(7)
    if kind == "elman":
        model, head = tr.nn.ElmanRNN(L, H, C), None
    else:
        layer = {"rnn": tr.nn.RNN, "lstm": tr.nn.LSTM, "gru": tr.nn.GRU}[kind]
        model = layer(L, H, num_layers=2, bidirectional=kind == "gru", dropout=dropout)
        head = tr.nn.Linear(H * (2 if kind == "gru" else 1), C)
    if device != "cpu":
        model.to(device)
        if head is not None:
            head.to(device)
    params = list(model.parameters()) + (list(head.parameters()) if head is not None else [])
    opt = (tr.optim.SGD(params, lr=0.1, momentum=0.9) if opt_name == "sgd" else tr.optim.Adam(params, lr=0.01))

    def step(x, y, lengths=None):
        opt.zero_grad()
        out, _ = model(x, lengths=lengths)
        logits = out if head is None else head(out)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss
    return params, opt, step


def _assert_same(a, b) -> None:
    pa, oa = a[0], a[1]
    pb, ob = b[0], b[1]
    for p, q in zip(pa, pb, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    sa, sb = flatten(oa.state_dict()), flatten(ob.state_dict())  # leaf by leaf, the nesting as text
    assert sa.keys() == sb.keys()
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k])


def _run(kind: str, opt_name: str, steps: int = 6, device: str = "cpu", dropout: float = 0.0, lengths=None):
    eager = _setup(kind, opt_name, device, dropout)
    jitted = _setup(kind, opt_name, device, dropout)
    fn = tr.jit(jitted[2])
    for i in range(steps):
        x, y = _data(i)
        tr.manual_seed(100 + i)  # dropout draws: the same generator state for both
        want = eager[2](tr.Tensor(x, device=device), tr.Tensor(y, device=device), lengths)
        rng_eager = tr.get_rng_state()
        tr.manual_seed(100 + i)
        got = fn(tr.Tensor(x, device=device), tr.Tensor(y, device=device), lengths)
        assert tr.get_rng_state() == rng_eager
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    _assert_same(eager, jitted)
    assert (fn.records, fn.replays) == (1, steps - 1)
    return fn


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "elman"])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_replay_is_bit_identical_to_eager(kind, opt_name):
    _run(kind, opt_name)


@pytest.mark.parametrize("kind", ["lstm", "elman"])
def test_ragged_lengths(kind):
    _run(kind, "adam", lengths=[6, 3, 5])


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_dropout_draws_again_at_each_replay(kind):
    fn = _run(kind, "sgd", dropout=0.5)
    assert fn.records == 1


def test_strict_backend():  # registered by conftest: arrays that refuse to become NumPy arrays
    _run("lstm", "adam", device="strict")


def test_returns_structures_and_leaves_grads_as_eager():
    tr.manual_seed(0)
    w = tr.Tensor(np.ones((3,), "float32"), requires_grad=True)

    @tr.jit
    def f(x, scale):
        y = (w * x * scale).sum()
        y.backward()
        return {"y": y, "pair": (x * 2, scale), "x": x, "w": w}

    for _ in range(3):
        w.grad = None
        x = tr.Tensor([1.0, 2.0, 3.0])
        out = f(x, 2.0)
        assert out["x"] is x and out["w"] is w
        assert out["pair"][1] == 2.0 and out["y"].item() == 12.0
        np.testing.assert_array_equal(out["pair"][0].numpy(), [2.0, 4.0, 6.0])
        np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0, 6.0])
    assert f.replays == 2


def test_cache_keys_reset_and_bound():
    params, opt, step = _setup("elman", "sgd")
    fn = tr.jit(step)
    x, y = _data(0)
    fn(tr.Tensor(x), tr.Tensor(y))
    fn(tr.Tensor(x), tr.Tensor(y))
    assert (fn.records, fn.replays) == (1, 1)
    x2, y2 = _data(1, t=4)
    fn(tr.Tensor(x2), tr.Tensor(y2))  # a new shape
    assert fn.records == 2
    fn(tr.Tensor(x), tr.Tensor(y), [6, 2, 6])  # new lengths values
    fn(tr.Tensor(x), tr.Tensor(y), [6, 2, 5])
    fn(tr.Tensor(x), tr.Tensor(y), [6, 2, 5])
    assert (fn.records, fn.replays) == (4, 2)
    fn.reset()
    assert not fn.cache
    fn(tr.Tensor(x), tr.Tensor(y))
    assert fn.records == 5
    for t in range(2, 2 + fn.max_cache + 2):
        xs, ys = _data(t, t=t)
        fn(tr.Tensor(xs), tr.Tensor(ys))
    assert len(fn.cache) == fn.max_cache


def test_class_indices_are_checked_at_every_replay():
    _, _, step = _setup("elman", "sgd")
    fn = tr.jit(step)
    x, y = _data(0)
    fn(tr.Tensor(x), tr.Tensor(y))
    fn(tr.Tensor(x), tr.Tensor(np.zeros_like(y)))  # other classes, still in range: a replay
    assert fn.records == 1
    with pytest.raises(IndexError):  # out of range: the replay's check fails, the eager step raises
        fn(tr.Tensor(x), tr.Tensor(y + 5))


@pytest.mark.parametrize("read", [lambda t: t.item(), lambda t: t.numpy(), lambda t: bool(t), lambda t: t.tolist(),
                                  lambda t: t.data + 1 > 0 and None])
def test_reading_values_is_refused(read):
    w = tr.Tensor([1.0], requires_grad=True)

    @tr.jit
    def f(x):
        loss = (w * x).sum()
        read(loss)
        return loss

    with pytest.raises(RuntimeError, match="tr.jit: .*reads array values"):
        f(tr.Tensor([2.0]))
    assert w.data is w._data and not f.cache  # put back, nothing cached
    assert (w * 2).item() == 2.0


def test_clip_grad_norm_is_refused():
    params, opt, _ = _setup("elman", "sgd")

    @tr.jit
    def f(x):
        (params[0] * x).sum().backward()
        tr.nn.utils.clip_grad_norm_(params, 1.0)

    with pytest.raises(RuntimeError, match="Python number"):
        f(tr.Tensor(2.0))


def test_replacing_an_array_inside_is_refused():
    w = tr.Tensor([1.0, 2.0])

    @tr.jit
    def f(x):
        w.data = (w + x).data
        return w

    with pytest.raises(RuntimeError, match="replaced the array"):
        f(tr.Tensor([1.0, 1.0]))


def test_load_state_dict_between_calls_records_again():
    eager, jitted = _setup("lstm", "adam"), _setup("lstm", "adam")
    fn = tr.jit(jitted[2])
    x, y = _data(0)
    for i in range(3):
        if i == 2:
            for params, _, _ in (eager, jitted):  # replaces every parameter's array
                tr.manual_seed(3)
                model = tr.nn.LSTM(L, H, num_layers=2)
                for p, q in zip(params, model.parameters(), strict=False):
                    p.data = q.data.copy()
        eager[2](tr.Tensor(x), tr.Tensor(y))
        fn(tr.Tensor(x), tr.Tensor(y))
    assert (fn.records, fn.replays) == (2, 1)
    _assert_same(eager, jitted)
    fn(tr.Tensor(x), tr.Tensor(y))
    assert fn.replays == 2


def test_graph_from_before_a_replay_refuses_backward():
    w = tr.Tensor([1.0, 2.0], requires_grad=True)
    opt = tr.optim.SGD([w], lr=0.1)

    @tr.jit
    def f():
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()

    f()
    old = (w * w).sum()
    f()  # a replay updates w in place
    with pytest.raises(RuntimeError, match="modified in place"):
        old.backward()


def test_train_and_eval_modes_record_separately():
    eager, jitted = _setup("lstm", "sgd", dropout=0.5), _setup("lstm", "sgd", dropout=0.5)
    fn = tr.jit(jitted[2])
    x, y = _data(0)
    for i, training in enumerate([True, True, False, False, True]):
        for _, _, step in (eager, jitted):
            for m in step.__closure__:
                if isinstance(m.cell_contents, tr.nn.Module):
                    m.cell_contents.train(training)
        tr.manual_seed(i)
        want = eager[2](tr.Tensor(x), tr.Tensor(y))
        tr.manual_seed(i)
        np.testing.assert_array_equal(fn(tr.Tensor(x), tr.Tensor(y)).numpy(), want.numpy())
    assert (fn.records, fn.replays) == (3, 2)
    _assert_same(eager, jitted)


def test_bench_jit_runs(monkeypatch):
    import importlib.util
    import os
    import sys

    examples = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
    monkeypatch.syspath_prepend(examples)
    spec = importlib.util.spec_from_file_location("bench_jit_under_test", os.path.join(examples, "bench_jit.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--configs", "elman_tiny", "--warmup", "1", "--repeats", "2", "--rounds", "1", "--pause", "0"])
    assert result["elman_tiny"]["ratio"] > 0
    assert sys.modules.get("bench_jit_under_test") is None


def test_gradients_accumulate_across_calls_without_zero_grad():
    def setup():
        tr.manual_seed(1)
        model = tr.nn.ElmanRNN(L, H, C)
        return model, lambda x, y: F.cross_entropy(model(tr.Tensor(x))[0], tr.Tensor(y)).backward()

    (m1, eager), (m2, step) = setup(), setup()
    fn = tr.jit(step)
    for i in range(4):
        x, y = _data(i)
        eager(x, y)
        fn(x, y)  # NumPy arrays as arguments, made tensors inside
    # the first backward stores the gradients, later ones add to them: recorded once each
    assert (fn.records, fn.replays) == (2, 2)
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_learning_rate_changed_between_calls_is_used():
    eager, jitted = _setup("rnn", "adam"), _setup("rnn", "adam")
    fn = tr.jit(jitted[2])
    for i in range(4):
        x, y = _data(i)
        for _, opt, _ in (eager, jitted):
            opt.lr = 0.01 / (i + 1)  # a schedule: the optimizer step runs eagerly at each replay
        eager[2](tr.Tensor(x), tr.Tensor(y))
        fn(tr.Tensor(x), tr.Tensor(y))
    assert fn.replays == 3
    _assert_same(eager, jitted)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(-1): the NaN anomaly mode reports
def test_anomaly_mode_runs_eagerly():
    w = tr.Tensor([1.0], requires_grad=True)
    fn = tr.jit(lambda x: (w * x).log().sum())
    with tr.detect_anomaly():
        assert fn(tr.Tensor([2.0])).item() == np.log(np.float32(2.0))
        with pytest.raises(FloatingPointError):
            fn(tr.Tensor([-1.0]))
    assert fn.records == 0


def _char_lm(seed: int):
    tr.manual_seed(seed)
    emb, lstm, head = tr.nn.Embedding(7, 4), tr.nn.LSTM(4, H, num_layers=2, dropout=0.3), tr.nn.Linear(H, 7)
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    opt = tr.optim.Adam(params, lr=0.01)

    def step(ids, targets, lengths):
        opt.zero_grad()
        out, _ = lstm(emb(ids), lengths=lengths)
        loss = F.cross_entropy(head(out), targets)
        loss.backward()
        opt.step()
        return loss, out
    return params, opt, step


def test_embedding_lstm_dropout_lengths_and_alternating_signatures():
    eager, jitted = _char_lm(3), _char_lm(3)
    fn = tr.jit(jitted[2])
    rng = np.random.default_rng(0)
    for i in range(8):
        t = 5 if i % 2 else 6  # two signatures, replayed in turn from the cache
        ids = rng.integers(0, 7, (t, 2))
        ids[0] = [0, 6]  # the class range seen by the checks stays (0, 6)
        lengths = [t, t - 2]
        tr.manual_seed(50 + i)
        want = eager[2](tr.Tensor(ids), tr.Tensor(ids), lengths)
        tr.manual_seed(50 + i)
        got = fn(tr.Tensor(ids), tr.Tensor(ids), lengths)
        results = [(g.numpy(), w.numpy()) for g, w in zip(got, want, strict=True)]
        for g, w in results:
            np.testing.assert_array_equal(g, w)
    assert (fn.records, fn.replays) == (2, 6)
    _assert_same(eager, jitted)


def test_gated_rnn_and_bidirectional_gru_with_lengths():
    for make in (lambda: tr.nn.GatedRNN(L, H, C), lambda: tr.nn.GRU(L, H, bidirectional=True)):
        runs = []
        for _ in range(2):
            tr.manual_seed(11)
            model = make()
            opt = tr.optim.SGD(model.parameters(), lr=0.05, momentum=0.5, nesterov=True)

            def step(x, y, model=model, opt=opt):
                opt.zero_grad()
                out, _ = model(x, lengths=[6, 4, 2])
                loss = (out * out).mean() if out.shape[-1] != C else F.cross_entropy(out, y)
                loss.backward()
                opt.step()
                return loss
            runs.append((list(model.parameters()), opt, step))
        fn = tr.jit(runs[1][2])
        for i in range(4):
            x, y = _data(i)
            np.testing.assert_array_equal(fn(tr.Tensor(x), tr.Tensor(y)).numpy(),
                                          runs[0][2](tr.Tensor(x), tr.Tensor(y)).numpy())
        assert fn.replays == 3
        _assert_same(runs[0], runs[1])


def test_every_backend_primitive_is_traced_or_refused():
    """A primitive added to the backend without a word to the recorder would be refused at
    record time as 'reading values'; this names it here instead."""
    from tinygrad_rnn.backend.base import Backend
    from tinygrad_rnn.backend.numpy_backend import NumpyBackend
    from tinygrad_rnn.jit_trace import PRIMITIVES, REFUSED

    methods = {n for n, v in vars(Backend).items() if callable(v) and not n.startswith("_")}
    bound = {n for n, v in vars(NumpyBackend()).items() if callable(v) and not isinstance(v, type)}
    dtype_questions = {"dtype", "is_array", "is_bool", "is_floating", "is_integer", "result_type"}  # no arrays made
    assert (methods | bound) - set(PRIMITIVES) - set(REFUSED) == dtype_questions


# ------------------------------------------- more optimizers, parameter groups, schedules
def _setup_groups(opt_name: str, device: str = "cpu"):
    tr.manual_seed(7)
    model, head = tr.nn.LSTM(L, H, num_layers=2, device=device), tr.nn.Linear(H, C, device=device)
    groups = [{"params": list(model.parameters())}, {"params": list(head.parameters()), "lr": 0.005}]
    opt = {"adamw": lambda: tr.optim.AdamW(groups, lr=0.01, amsgrad=True),
           "rmsprop": lambda: tr.optim.RMSprop(groups, lr=0.01, momentum=0.5, centered=True),
           "adagrad": lambda: tr.optim.Adagrad(groups, lr=0.05, lr_decay=0.01)}[opt_name]()
    sched = tr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3, eta_min=1e-3)

    def step(x, y):
        opt.zero_grad()
        out, _ = model(x)
        loss = F.cross_entropy(head(out), y)
        loss.backward()
        opt.step()
        sched.step()  # Python only: a replay calls it again
        return loss
    return list(model.parameters()) + list(head.parameters()), opt, step, sched


@pytest.mark.parametrize("device", ["cpu", "strict"])
@pytest.mark.parametrize("opt_name", ["adamw", "rmsprop", "adagrad"])
def test_new_optimizers_with_groups_and_a_schedule_replay_bit_identically(opt_name, device):
    eager, jitted = _setup_groups(opt_name, device), _setup_groups(opt_name, device)
    fn = tr.jit(jitted[2])
    for i in range(6):
        x, y = (tr.Tensor(a, device=device) for a in _data(i))
        np.testing.assert_array_equal(fn(x, y).numpy(), eager[2](x, y).numpy())
    assert (fn.records, fn.replays) == (1, 5)
    _assert_same(eager, jitted)
    assert jitted[3].last_epoch == 6 and jitted[3].state_dict() == eager[3].state_dict()
    assert [g["lr"] for g in jitted[1].param_groups] == [g["lr"] for g in eager[1].param_groups] != [0.01, 0.005]


def test_a_schedule_stepped_between_calls_is_used():
    eager, jitted = _setup("rnn", "adam"), _setup("rnn", "adam")
    scheds = [tr.optim.lr_scheduler.StepLR(run[1], step_size=2, gamma=0.5) for run in (eager, jitted)]
    fn = tr.jit(jitted[2])
    for i in range(5):
        x, y = _data(i)
        eager[2](tr.Tensor(x), tr.Tensor(y))
        fn(tr.Tensor(x), tr.Tensor(y))
        for sched in scheds:
            sched.step()
    assert fn.replays == 4 and jitted[1].param_groups[0]["lr"] == 0.01 * 0.5**2
    _assert_same(eager, jitted)


def test_what_a_replay_could_not_repeat_is_refused():
    params, opt, step = _setup("elman", "sgd")
    plateau = tr.optim.lr_scheduler.ReduceLROnPlateau(opt)
    x, y = _data(0)

    def with_metric(x, y):
        loss = step(x, y)
        plateau.step(0.5)
        return loss

    with pytest.raises(RuntimeError, match=r"ReduceLROnPlateau.step\(...\) with an argument"):
        tr.jit(with_metric)(tr.Tensor(x), tr.Tensor(y))

    def with_closure(x, y):
        return opt.step(lambda: step(x, y))

    with pytest.raises(RuntimeError, match=r"opt.step\(closure\) inside a jitted function"):
        tr.jit(with_closure)(tr.Tensor(x), tr.Tensor(y))


def test_zero_grad_to_zeros_inside_the_function_replays():
    def setup():
        tr.manual_seed(7)
        model, head = tr.nn.GRU(L, H), tr.nn.Linear(H, C)
        params = list(model.parameters()) + list(head.parameters())
        opt = tr.optim.SGD(params, lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad(set_to_none=False)  # the old gradients are read (zeroed), not dropped
            loss = F.cross_entropy(head(model(x)[0]), y)
            loss.backward()
            opt.step()
            return loss
        return params, opt, step

    eager, jitted = setup(), setup()
    fn = tr.jit(jitted[2])
    for i in range(5):
        x, y = _data(i)
        np.testing.assert_array_equal(fn(tr.Tensor(x), tr.Tensor(y)).numpy(), eager[2](tr.Tensor(x), tr.Tensor(y)).numpy())
    assert (fn.records, fn.replays) == (2, 3)  # the first call had no gradients to zero
    _assert_same(eager, jitted)


def test_a_transpose_taken_again_of_the_same_array_is_reused():
    """The backward of s @ W.T takes W.T.T at every time step; the program takes it once."""
    from tinygrad_rnn.jit_codegen import _reuse_views
    from tinygrad_rnn.jit_trace import Slot

    steps = [("method", "transpose", (Slot(0), (1, 0)), {}, 1),
             ("call", np.matmul, (Slot(2), Slot(1)), {}, 3),
             ("method", "transpose", (Slot(0), (1, 0)), {}, 4),  # the same view again: dropped
             ("call", np.matmul, (Slot(3), Slot(4)), {}, 5),
             ("method", "transpose", (Slot(0), (0, 1)), {}, 6),  # another axes order: kept
             ("method", "transpose", (Slot(0), (1, 0)), {}, 7)]  # an output of the program: kept
    kept = _reuse_views(steps, keep={7})
    assert [out for *_, out in kept] == [1, 3, 5, 6, 7]
    assert kept[2][2][1].n == 1  # the second matmul reads the first transpose
