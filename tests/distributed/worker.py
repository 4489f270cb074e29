"""The program the distributed tests launch: ``mpiexec -n 2 python worker.py <job> <out>``.

Started without ``mpiexec`` it runs as one process on whole batches: the reference the
two-process runs must match. Every rank writes what it ended with to
``<out>/<job>_<scenario>_rank<r>.npz`` (parameters and, for checkpoints, optimizer state);
the tests compare the files. Not collected by pytest (no ``test_`` prefix).

Jobs:
  train   the scenarios below, 20 steps each, float64, LSTM + Linear, Adam, clipping:
          ``eager`` (each rank on its half of every batch of 8), ``jit`` (the same through
          tr.jit), ``accumulate`` (two micro-batches per step, the first under no_sync),
          ``uneven`` (37 samples in batches of 8: the last batch of each epoch, 5 samples,
          splits 3/2, averaged with sample_count), ``overlap`` (a larger model in small
          buckets: the timeline of the all-reduces); ``eager`` also writes a checkpoint at
          step 10 (rank 0 only) and the state there.
  resume  continue ``eager`` from that checkpoint to step 20.
  raise   rank 1 raises at step 5 (of 50): the launch must end, non-zero, naming rank 1;
  exit    rank 1 calls sys.exit(3) there instead; hang: it sleeps for 10 minutes there;
  early   rank 1 raises before init_process_group.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import tinygrad_rnn as tr  # noqa: E402
from tinygrad_rnn import Tensor, nn, optim  # noqa: E402

F = nn.functional
dist = tr.distributed
STEPS, CHECKPOINT_AT, T, FEATURES, HIDDEN, CLASSES = 20, 10, 6, 3, 8, 4


def data(n: int, seed: int = 1) -> tuple[Tensor, Tensor]:
    """n sequences (T, n, FEATURES) and their labels (T, n), the same on every rank."""
    rng = random.Random(seed)
    x = [[[rng.gauss(0, 1) for _ in range(FEATURES)] for _ in range(n)] for _ in range(T)]
    y = [[rng.randrange(CLASSES) for _ in range(n)] for _ in range(T)]
    return Tensor(x, dtype="float64"), Tensor(y)


def shard(indices: list[int]) -> list[int]:
    """This rank's contiguous part of a batch (the first ranks get one more when it does not split)."""
    r, n = dist.get_rank(), dist.get_world_size()
    per, extra = divmod(len(indices), n)
    start = r * per + min(r, extra)
    return indices[start:start + per + (r < extra)]


class Net(nn.Module):
    def __init__(self, hidden: int = HIDDEN, layers: int = 1) -> None:
        super().__init__()
        self.rnn = nn.LSTM(FEATURES, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.rnn(x)[0])


def setup(seed: int = 0, **ddp_args: object) -> tuple[nn.Module, nn.Module, object]:
    tr.manual_seed(seed + dist.get_rank())  # different starts: the broadcast must make them equal
    net = Net().to(dtype="float64")
    model = nn.parallel.DistributedDataParallel(net, **ddp_args)
    return net, model, optim.Adam(model.parameters(), lr=0.02)


def loss_of(model: nn.Module, x: Tensor, y: Tensor, rows: list[int]) -> Tensor:
    return F.cross_entropy(model(x[:, rows]), y[:, rows])  # the mean over this rank's samples


def update(model: nn.Module, opt: object) -> None:
    nn.utils.clip_grad_norm_(model.parameters(), 0.1)  # small: every step is clipped
    opt.step()


def batches(n: int, size: int, epoch: int) -> list[list[int]]:
    order = list(range(n))
    random.Random(epoch).shuffle(order)
    return [order[i:i + size] for i in range(0, n, size)]


def save(out: str, name: str, model: nn.Module, opt: object = None, extra: dict | None = None) -> None:
    state = {"model/" + k: v for k, v in model.state_dict().items()}
    if opt is not None:
        state.update({"optim/" + k: v for k, v in opt.state_dict().items() if hasattr(v, "shape")})
    tr.save(state, os.path.join(out, f"{name}_rank{dist.get_rank()}.npz"))
    if extra is not None and dist.get_rank() == 0:
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(extra, f)


# ---------------------------------------------------------------------------- scenarios
def eager(out: str, start: int = 0, checkpoint: str | None = None) -> None:
    net, model, opt = setup()
    x, y = data(8)
    if checkpoint is not None:
        start = tr.load_checkpoint(checkpoint, model, opt)["step"]
        save(out, "loaded", model, opt)
    for step in range(start, STEPS):
        opt.zero_grad()
        loss_of(model, x, y, shard(list(range(8)))).backward()
        update(model, opt)
        if step + 1 == CHECKPOINT_AT and checkpoint is None:
            dist.save_checkpoint(os.path.join(out, "step10.npz"), model, opt, step=step + 1)
            save(out, "at10", model, opt)
    save(out, "eager" if checkpoint is None else "resumed", model, opt)


def jit(out: str) -> None:
    net, model, opt = setup()
    x, y = data(8)
    rows = shard(list(range(8)))
    xs, ys = x[:, rows], y[:, rows]

    @tr.jit
    def gradients(xb: Tensor, yb: Tensor) -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        return loss

    for _ in range(STEPS):
        gradients(xs, ys)
        update(model, opt)
    save(out, "jit", model, extra={"records": gradients.records, "replays": gradients.replays})


def accumulate(out: str) -> None:
    net, model, opt = setup()
    x, y = data(16)
    for _ in range(STEPS):
        opt.zero_grad()
        with model.no_sync():  # the first micro-batch: gradients stay local
            (loss_of(model, x, y, shard(list(range(8)))) / 2).backward()
        (loss_of(model, x, y, shard(list(range(8, 16)))) / 2).backward()  # averages the sum of both
        update(model, opt)
    save(out, "accumulate", model)


def uneven(out: str) -> None:
    net, model, opt = setup()
    x, y = data(37)
    step, epoch = 0, 0
    while step < STEPS:
        for batch in batches(37, 8, epoch):
            rows = shard(batch)
            model.sample_count = len(rows)  # 3 and 2 in the last batch: weights of the average
            opt.zero_grad()
            loss_of(model, x, y, rows).backward()
            update(model, opt)
            step += 1
        epoch += 1
    save(out, "uneven", model, extra={"steps": step})


def overlap(out: str) -> None:
    """A model with several buckets: when did each all-reduce start, against the backward pass?"""
    tr.manual_seed(0)
    net = Net(hidden=48, layers=2).to(dtype="float64")
    model = nn.parallel.DistributedDataParallel(net, bucket_cap_mb=0.02)
    x, y = data(16)
    x = tr.cat([x] * 6, axis=0)  # T = 36: a long backward pass
    y = tr.cat([y] * 6, axis=0)
    rows = shard(list(range(16)))
    steps = []
    for _ in range(5):
        model.zero_grad()
        loss = F.cross_entropy(model(x[:, rows]), y[:, rows])
        begin = time.perf_counter()
        loss.backward()
        steps.append({"backward_begin": begin, "backward_end": time.perf_counter(),
                      "events": model.reducer.timeline, "buckets": len(model.reducer.buckets)})
    save(out, "overlap", model, extra=steps)


def fault(out: str, how: str) -> None:
    net, model, opt = setup()
    x, y = data(8)
    for step in range(50):
        if step == 5 and dist.get_rank() == 1:
            if how == "raise":
                raise ValueError("deliberate failure at step 5")
            if how == "exit":
                sys.exit(3)
            time.sleep(600)
        opt.zero_grad()
        loss_of(model, x, y, shard(list(range(8)))).backward()
        update(model, opt)


def main() -> None:
    job, out = sys.argv[1], sys.argv[2]
    if job == "early" and os.environ.get("PMI_RANK") == "1":
        raise ValueError("deliberate failure before init_process_group")
    dist.init_process_group("mpi")
    if job == "train":
        for scenario in (eager, jit, accumulate, uneven, overlap):
            scenario(out)
    elif job == "resume":
        eager(out, checkpoint=os.path.join(out, "step10.npz"))
    elif job in ("raise", "exit", "hang"):
        fault(out, job)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
