"""Per-batch cost of Tracker.observe_batch() from Python against PyTorch.

Cases, each at batch sizes 128 and 1024:

- C = 10: training steps of the example's MLP (784-512-256-10, SGD with
  momentum: forward, cross-entropy, backward, update) and the hook on each
  step's logits, labels and ids as the DataLoader gives them (logits
  requiring grad, labels and ids int64 tensors). A second row adds the 256
  last-hidden-layer features, as examples/pytorch_fashion_mnist.py passes
  them.
- C = 1000: synthetic float32 logits. The hook against torch.softmax() over
  the same logits, and against a training step of the same MLP with a
  1000-class head.

In training steps the hook runs where the example calls it, after the
forward pass and the loss and before backward(), in even iterations. In
odd iterations it runs after the optimizer step instead ("late hook"),
which costs more because backward() and the update evict the logits and
the tracker's state from the CPU caches. The step time excludes the hook.

The hook's time includes the argument checks and end_epoch(), called
after every 10 batches, so that its cost is spread over the batches as in
training. "C call" is the library call alone, on arguments converted
beforehand, timed in a loop of such calls with nothing in between.

Each figure is the median over the timed batches after `--warmup` batches
that are not timed. The share is hook / (step + hook).

Run: bench/python/run.sh [BUILD_DIR] [options]
"""

import argparse
import time

import numpy as np
import torch
from torch import nn

import cscore
from cscore import _library
from cscore._convert import address

TARGET_SHARE = 0.02


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=200, help="timed batches per case (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches first (default 20)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the model, inputs and id order (default 0)")
    return parser.parse_args()


def mlp(classes: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, classes)
    )


class Timer:
    """Collects per-call seconds and reports the median."""

    def __init__(self):
        self.samples = []

    def time(self, function, *args):
        start = time.perf_counter()
        result = function(*args)
        self.samples.append(time.perf_counter() - start)
        return result

    def median(self, skip: int) -> float:
        return float(np.median(self.samples[skip:]))


def epoch_ids(batch: int, batches_per_epoch: int, generator: torch.Generator):
    """Yield (ids, end_of_epoch): a shuffled permutation cut into batches."""
    while True:
        order = torch.randperm(batch * batches_per_epoch, generator=generator)
        for start in range(0, len(order), batch):
            yield order[start : start + batch], start + batch == len(order)


def hook(tracker, logits, labels, ids, features, end_of_epoch):
    tracker.observe_batch(logits, labels, ids, features=features)
    if end_of_epoch:
        tracker.end_epoch()


def raw_call(tracker, logits, labels, ids, features):
    """Call cs_observe_batch() alone, on arrays that already fit."""
    return _library.lib.cs_observe_batch(
        tracker._handle, address(logits), address(labels), address(ids), address(features), len(ids)
    )


def time_raw_call(classes: int, batch: int, count: int, with_features: bool, rng) -> float:
    logits = rng.normal(size=(batch, classes)).astype(np.float32)
    labels = rng.integers(0, classes, size=batch).astype(np.int32)
    features = rng.random(size=(batch, 256)).astype(np.float32) if with_features else None
    tracker = cscore.Tracker(batch * count, classes, feature_dim=256 if with_features else 0)
    timer = Timer()
    for index in range(count):
        ids = np.arange(index * batch, (index + 1) * batch, dtype=np.int64)
        status = timer.time(raw_call, tracker, logits, labels, ids, features)
        assert status == 0
    return timer.median(count // 10)


def training_case(classes, batch, args, with_features, rng):
    """Time training steps of the MLP and the hook on their outputs.

    Even iterations call the hook where examples/pytorch_fashion_mnist.py
    does, after the forward pass and the loss. Odd iterations call it after
    the optimizer step. Returns the median step (without the hook) and the
    median hook time at each place.
    """
    torch.manual_seed(args.seed)
    model = mlp(classes)
    body, head = model[:4], model[4]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batches_per_epoch = 10
    tracker = cscore.Tracker(
        batch * batches_per_epoch, classes, feature_dim=256 if with_features else 0
    )
    inputs = torch.rand(batch, 784, generator=torch.Generator().manual_seed(args.seed))
    # An example's label is fixed, so labels are looked up by id.
    label_of_id = torch.randint(0, classes, (batch * batches_per_epoch,),
                                generator=torch.Generator().manual_seed(args.seed + 1))
    batches = epoch_ids(batch, batches_per_epoch, torch.Generator().manual_seed(args.seed + 2))

    def forward(labels):
        features = body(inputs)
        logits = head(features)
        return logits, features, nn.functional.cross_entropy(logits, labels)

    def update(loss):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    steps, after_forward, after_step = [], Timer(), Timer()
    for iteration in range(2 * (args.warmup + args.batches)):
        ids, end = next(batches)
        labels = label_of_id[ids]
        start = time.perf_counter()
        logits, features, loss = forward(labels)
        forward_seconds = time.perf_counter() - start
        hook_arguments = (tracker, logits, labels, ids, features if with_features else None, end)
        if iteration % 2 == 0:
            after_forward.time(hook, *hook_arguments)
        start = time.perf_counter()
        update(loss)
        steps.append(forward_seconds + time.perf_counter() - start)
        if iteration % 2 == 1:
            after_step.time(hook, *hook_arguments)
    step = float(np.median(steps[2 * args.warmup:]))
    return step, after_forward.median(args.warmup), after_step.median(args.warmup)


def softmax_case(classes, batch, args):
    """Time torch.softmax() and the hook on the same synthetic logits."""
    generator = torch.Generator().manual_seed(args.seed)
    batches_per_epoch = 10
    tracker = cscore.Tracker(batch * batches_per_epoch, classes)
    batches = epoch_ids(batch, batches_per_epoch, torch.Generator().manual_seed(args.seed + 2))
    label_of_id = torch.randint(0, classes, (batch * batches_per_epoch,), generator=generator)
    softmax_timer, hook_timer = Timer(), Timer()
    for _ in range(args.warmup + args.batches):
        logits = torch.randn(batch, classes, generator=generator)
        ids, end = next(batches)
        softmax_timer.time(torch.softmax, logits, 1)
        hook_timer.time(hook, tracker, logits, label_of_id[ids], ids, None, end)
    return softmax_timer.median(args.warmup), hook_timer.median(args.warmup)


def microseconds(seconds: float) -> str:
    return f"{seconds * 1e6:9.1f}"


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    print(f"cscore {cscore.library_version()} ({cscore.library_path()}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); medians over {args.batches} batches, in microseconds")
    print()
    header = (f"{'case':<34} {'batch':>5} {'reference':>9} {'hook':>9} {'C call':>9} {'share':>7}  "
              f"{'late hook':>9} {'share':>7}  verdict")
    print(header)
    print("-" * len(header))

    rows = []
    for batch in (128, 1024):
        for with_features in (False, True):
            step, cost, late = training_case(10, batch, args, with_features, rng)
            raw = time_raw_call(10, batch, args.batches, with_features, rng)
            rows.append(("C=10 training step" + (" + features" if with_features else ""), batch, step, cost, late, raw))
    for batch in (128, 1024):
        step, cost, late = training_case(1000, batch, args, False, rng)
        raw = time_raw_call(1000, batch, args.batches, False, rng)
        rows.append(("C=1000 training step", batch, step, cost, late, raw))
        softmax, cost = softmax_case(1000, batch, args)
        rows.append(("C=1000 torch.softmax only", batch, softmax, cost, None, raw))

    within_target = True
    for name, batch, reference, cost, late, raw in rows:
        if late is None:
            # Not a share of a step: how many softmaxes the hook costs.
            relation, late_relation, verdict = f"{cost / reference:6.2f}x", "", "(ratio)"
        else:
            share = cost / (reference + cost)
            relation = f"{100 * share:6.2f}%"
            late_relation = f"{100 * late / (reference + late):6.2f}%"
            verdict = "ok" if share < TARGET_SHARE else "OVER"
            within_target &= share < TARGET_SHARE
        late_text = microseconds(late) if late is not None else " " * 9
        print(f"{name:<34} {batch:>5} {microseconds(reference)} {microseconds(cost)} {microseconds(raw)} "
              f"{relation:>7}  {late_text} {late_relation:>7}  {verdict}")

    print()
    print(f"share = hook / (step + hook), target below {100 * TARGET_SHARE:.0f}%, with the hook after the "
          "forward pass as in the example; late hook: called after the optimizer step instead.")
    print("For the softmax rows: hook / torch.softmax over the same logits.")
    raise SystemExit(0 if within_target else 1)


if __name__ == "__main__":
    main()
