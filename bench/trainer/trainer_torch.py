"""The built-in trainer's network and recipe in PyTorch, timed the same way.

784-512-256-10 MLP with ReLU, softmax cross-entropy, SGD with momentum 0.9,
learning rate 0.1, batch 128, pixels scaled to [0, 1]; torch.nn.Linear's
default initialisation, which is the one the C trainer copies. The data
sits in memory as tensors and batches are sliced from a shuffled index, so
no DataLoader overhead is charged to PyTorch. Prints seconds per epoch of
the training pass and, separately, of an evaluation pass over every
training example.

Run with Debian's interpreter: /usr/bin/python3 trainer_torch.py --threads 2
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch


def read_idx(path):
    """Read an IDX file (plain or .gz) into a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def find(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found in {folder}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--first", type=int, default=0, help="first N training examples (0: all)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx(find(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    if args.first:
        images, labels = images[: args.first], labels[: args.first]
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(labels.astype(np.int64))

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    print(f"{len(x)} examples, {args.epochs} epochs, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}")

    train_times, eval_times = [], []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x))
        for begin in range(0, len(x), 128):
            batch = order[begin:begin + 128]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
        train_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad():
            for begin in range(0, len(x), 1024):
                logits = model(x[begin:begin + 1024])
                correct += int((logits.argmax(1) == y[begin:begin + 1024]).sum())
        eval_times.append(time.perf_counter() - start)
        print(f"epoch {epoch:2d}  train {train_times[-1]:6.3f} s  eval {eval_times[-1]:6.3f} s  "
              f"loss {float(loss):.4f}  train accuracy {correct / len(x):.4f}", flush=True)

    print(f"mean per epoch: training pass {np.mean(train_times):.3f} s, "
          f"evaluation pass {np.mean(eval_times):.3f} s")


if __name__ == "__main__":
    main()
