"""Holdout runs of the reference recipe in PyTorch on the CPU, timed.

Each run does what one run of `cscore holdout` does with the built-in
trainer. It draws round(ratio * N / 100) of the first N Fashion-MNIST
training images without replacement and trains a fresh 784-512-256-10 ReLU
network on them: SGD with momentum 0.9, learning rate 0.1, batch 128, 10
epochs, torch.nn.Linear's default initialisation, pixels scaled to [0, 1].
Then it predicts the class of all N images and measures the accuracy on
the test set. The data sits in memory as tensors and batches are sliced from a
shuffled index, so no DataLoader cost is charged to PyTorch.

With --jobs J > 1, J worker processes with one PyTorch thread each share
the runs, as `cscore holdout --jobs J` does with one OpenBLAS thread per
worker; with --jobs 1 one process uses --threads threads.

Run with Debian's interpreter, which finds python3-torch:
    /usr/bin/python3 holdout_torch.py --runs 4 --jobs 2
"""
import argparse
import gzip
import multiprocessing
import os
import time

import numpy as np
import torch

DATA = {}


def read_idx(folder, name):
    """Reads an IDX file, plain or gzip-compressed, into a uint8 array."""
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(folder, first):
    """Returns float32 inputs in [0, 1] and int64 labels of both splits."""
    def split(prefix, count):
        images = read_idx(folder, f"{prefix}-images-idx3-ubyte")
        labels = read_idx(folder, f"{prefix}-labels-idx1-ubyte")
        if count:
            images, labels = images[:count], labels[:count]
        inputs = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
        return inputs, torch.from_numpy(labels.astype(np.int64))
    return split("train", first) + split("t10k", 0)


def start_worker(folder, first, threads):
    torch.set_num_threads(threads)
    DATA["tensors"] = load(folder, first)


def predict(model, inputs):
    with torch.no_grad():
        return torch.cat([model(inputs[k:k + 1024]).argmax(1)
                          for k in range(0, len(inputs), 1024)])


def train_run(task):
    """Trains run `run` and returns (seconds, held-out accuracy, test
    accuracy)."""
    ratio, run, seed = task
    x, y, x_test, y_test = DATA["tensors"]
    start = time.perf_counter()
    n = len(x)
    n_train = (ratio * n + 50) // 100
    rng = np.random.default_rng([seed, ratio, run])
    subset = torch.from_numpy(rng.choice(n, n_train, replace=False))
    torch.manual_seed(seed * 1000003 + ratio * 1009 + run)

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(10):
        order = subset[torch.randperm(n_train)]
        for begin in range(0, n_train, 128):
            batch = order[begin:begin + 128]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[batch]), y[batch]).backward()
            optimizer.step()

    correct = predict(model, x) == y
    test_accuracy = (predict(model, x_test) == y_test).float().mean().item()
    heldout = torch.ones(n, dtype=torch.bool)
    heldout[subset] = False
    heldout_accuracy = correct[heldout].float().mean().item()
    return time.perf_counter() - start, heldout_accuracy, test_accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--first", type=int, default=10000)
    parser.add_argument("--ratio", type=int, default=50, help="whole percent")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="PyTorch threads with --jobs 1")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    threads = args.threads if args.jobs == 1 else 1
    tasks = [(args.ratio, run, args.seed) for run in range(args.runs)]
    context = multiprocessing.get_context("fork")
    with context.Pool(args.jobs, start_worker,
                      (args.data, args.first, threads)) as pool:
        # One untimed run per worker first, with run indices past the timed
        # ones, so that start-up costs stay out of the figures.
        pool.map(train_run, [(args.ratio, args.runs + k, args.seed)
                             for k in range(args.jobs)], chunksize=1)
        start = time.perf_counter()
        results = pool.map(train_run, tasks, chunksize=1)
        wall = time.perf_counter() - start

    seconds = [r[0] for r in results]
    print(f"torch {torch.__version__}: {args.runs} runs of ratio {args.ratio} on "
          f"{args.first} examples, {args.jobs} jobs x {threads} threads")
    print(f"wall {wall:.2f} s, {3600 * args.runs / wall:.0f} runs per hour, "
          f"{sum(seconds) / len(seconds):.2f} s per run, held-out accuracy "
          f"{np.mean([r[1] for r in results]):.4f}, test accuracy "
          f"{np.mean([r[2] for r in results]):.4f}")


if __name__ == "__main__":
    main()
