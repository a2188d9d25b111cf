"""Train an MLP on Fashion-MNIST in PyTorch with a cscore tracker.

The recipe is the one of the built-in trainer (`cscore train`): a
784-512-256-10 multilayer perceptron with ReLU and torch.nn.Linear's
default initialisation, trained by SGD with momentum 0.9 and a constant
learning rate of 0.1. Batches have 128 examples, training lasts 10 epochs,
and pixels are scaled to [0, 1] without augmentation. The Dataset returns
each example's index with it, and the tracker uses these indices as the
example ids of the batch rows.

By default the tracker observes an evaluation pass over the training set
after each epoch, as `cscore train` does. With --observe training it
observes the logits of the training pass itself, each batch before its
update, which needs no extra pass.

Writes to --out the files `cscore train` writes: proxies.npz, proxies.csv,
features.npy (float32, N x 256, last-hidden-layer activations of the last
observed epoch) and labels.npy (int32), plus summary.json with the final
accuracies and times. As in `cscore train`, the exports include the kernel
density scores of the last hidden layer after the epochs of --kde-epochs
(the last one by default) as kde_pm_eE, kde_l_eE and kde_free_eE.

Run from the repository root after building libcscore.so:

    PYTHONPATH=bindings/python /usr/bin/python3 examples/pytorch_fashion_mnist.py \\
        --out build/examples/pytorch_fashion_mnist
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import cscore


class IndexedDataset(Dataset):
    """Yields (image, label, index) triples; the index is the example id."""

    def __init__(self, inputs: np.ndarray, labels: np.ndarray):
        self.inputs = torch.from_numpy(inputs)
        self.labels = torch.from_numpy(labels).long()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.inputs[index], self.labels[index], index


class MultilayerPerceptron(nn.Module):
    """Fully connected ReLU layers; forward() also returns the last hidden
    layer's activations, the features of the density proxies."""

    def __init__(self, n_inputs: int, hidden: tuple, n_classes: int):
        super().__init__()
        layers = []
        width = n_inputs
        for units in hidden:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_classes)

    def forward(self, inputs: torch.Tensor):
        features = self.body(inputs)
        return self.head(features), features


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=cscore.FASHION_MNIST_DIR, help="folder with the four IDX files")
    parser.add_argument("--first", type=int, default=0, help="use the first N training examples (default: all)")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs (default 10)")
    parser.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    parser.add_argument("--seed", type=int, default=0, help="seeds initialisation (seed) and shuffling (seed + 1)")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch CPU threads; 0 keeps its default")

    parser.add_argument(
        "--observe",
        choices=("evaluation", "training"),
        default="evaluation",
        help="what the tracker sees: an evaluation pass after each epoch (default) or the training pass",
    )

    parser.add_argument(
        "--kde-epochs",
        type=lambda text: sorted({int(epoch) for epoch in text.split(",")}),
        default=None,
        help="comma-separated epochs after which to compute the density scores (default: the last)",
    )
    parser.add_argument(
        "--kde-method",
        choices=("sampled", "exact"),
        default="sampled",
        help="sampled (default: a 5,000-example reference set, exact for N <= 5,000) or exact",
    )
    parser.add_argument("--out", required=True, help="output folder, created if missing")

    args = parser.parse_args(argv)
    if args.kde_epochs is None:
        args.kde_epochs = [args.epochs]
    if not all(1 <= epoch <= args.epochs for epoch in args.kde_epochs):
        parser.error(f"--kde-epochs must list epochs from 1 to {args.epochs}")
    return args


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, tracker=None):
    """Return (mean loss, accuracy, seconds in the tracker) over `loader`;
    feed `tracker` if given."""
    model.eval()
    loss_sum, correct, count, hook_seconds = 0.0, 0, 0, 0.0
    for inputs, labels, ids in loader:
        logits, features = model(inputs)
        if tracker is not None:
            start = time.perf_counter()
            tracker.observe_batch(logits, labels, ids, features=features)
            hook_seconds += time.perf_counter() - start
        loss_sum += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(dim=1) == labels).sum().item()
        count += len(labels)
    return loss_sum / count, correct / count, hook_seconds


def train_epoch(model, loader, optimizer, tracker=None) -> float:
    """Run one epoch of SGD; feed `tracker` the training logits if given.
    Returns the seconds spent in the tracker."""
    model.train()
    hook_seconds = 0.0
    for inputs, labels, ids in loader:
        logits, features = model(inputs)
        loss = nn.functional.cross_entropy(logits, labels)
        if tracker is not None:
            start = time.perf_counter()
            tracker.observe_batch(logits, labels, ids, features=features)
            hook_seconds += time.perf_counter() - start
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return hook_seconds


def density_scores(tracker: cscore.Tracker, epoch: int, method: str) -> dict:
    """Return the density columns of `epoch` from the tracker's latest
    feature rows, all NaN (with a warning) when the scores fail."""
    names = [f"kde_pm_e{epoch}", f"kde_l_e{epoch}", f"kde_free_e{epoch}"]
    try:
        result = cscore.kde_scores(tracker.features, tracker.labels, n_classes=tracker.n_classes, method=method)
    except cscore.Error as error:
        print(f"warning: the density scores of epoch {epoch} are left empty: {error}")
        return {name: np.full(tracker.n_examples, np.nan, dtype=np.float32) for name in names}
    return dict(zip(names, (result[score] for score in cscore.SCORES)))


def write_outputs(tracker: cscore.Tracker, folder: str, density: dict) -> None:
    tracker.to_npz(os.path.join(folder, "proxies.npz"), extra=density)
    tracker.to_csv(os.path.join(folder, "proxies.csv"), extra=density)
    np.save(os.path.join(folder, "features.npy"), tracker.features)
    np.save(os.path.join(folder, "labels.npy"), tracker.labels)


def print_least_regular(tracker: cscore.Tracker, per_class: int = 5) -> None:
    """Print the least regular examples of each class: lowest CBTL, then
    lowest mean p_L."""
    labels, cbtl, p_l_mean = tracker.labels, tracker.cbtl, tracker.p_l_mean
    for label in range(tracker.n_classes):
        ids = np.flatnonzero(labels == label)
        order = np.lexsort((p_l_mean[ids], cbtl[ids]))[:per_class]
        listed = ", ".join(f"{i} (cbtl {cbtl[i]})" for i in ids[order])
        print(f"  class {label}: {listed}")


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    data = cscore.load_idx_dataset(args.data, train_count=args.first)
    train_set = IndexedDataset(data.train_inputs, data.train_labels)
    test_set = IndexedDataset(data.test_inputs, data.test_labels)
    n_inputs = data.train_inputs.shape[1]
    model = MultilayerPerceptron(n_inputs, (512, 256), data.n_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    shuffler = torch.Generator().manual_seed(args.seed + 1)
    train_loader = DataLoader(train_set, batch_size=args.batch, shuffle=True, generator=shuffler)
    train_eval_loader = DataLoader(train_set, batch_size=1024)
    test_loader = DataLoader(test_set, batch_size=1024)

    # The tracker: one per run, with the feature width of the last hidden
    # layer and history on, as `cscore train` creates it.
    tracker = cscore.Tracker(
        len(train_set), data.n_classes, feature_dim=model.head.in_features, keep_history=True
    )
    observe_training = args.observe == "training"
    threads = torch.get_num_threads()
    print(f"Training on {len(train_set)} examples, testing on {len(test_set)}: "
          f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}, {threads} thread{'s' if threads != 1 else ''}. "
          f"The tracker observes the {args.observe} pass.")

    seconds = {"train": 0.0, "evaluation": 0.0, "tracker": 0.0, "density": 0.0}
    density = {}
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        seconds["tracker"] += train_epoch(model, train_loader, optimizer, tracker if observe_training else None)
        seconds["train"] += time.perf_counter() - start

        start = time.perf_counter()
        train_loss, train_accuracy, hook_seconds = evaluate(
            model, train_eval_loader, None if observe_training else tracker
        )
        seconds["tracker"] += hook_seconds
        tracker.end_epoch()
        _, test_accuracy, _ = evaluate(model, test_loader)
        seconds["evaluation"] += time.perf_counter() - start
        print(f"epoch {epoch:2d}: loss {train_loss:.4f}, train accuracy {train_accuracy:.4f}, "
              f"test accuracy {test_accuracy:.4f}")

        if epoch in args.kde_epochs:
            start = time.perf_counter()
            density.update(density_scores(tracker, epoch, args.kde_method))
            seconds["density"] += time.perf_counter() - start

    write_outputs(tracker, args.out, density)
    summary = {
        "examples": len(train_set),
        "epochs": args.epochs,
        "seed": args.seed,
        "observe": args.observe,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "seconds": seconds,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as file:
        json.dump(summary, file, indent=2)

    print(f"Time: training {seconds['train']:.1f} s, evaluation {seconds['evaluation']:.1f} s, "
          f"of which the tracker {seconds['tracker']:.3f} s; density scores {seconds['density']:.1f} s")
    print("Least regular examples by CBTL:")
    print_least_regular(tracker)
    print(f"Wrote {args.out}/proxies.npz, proxies.csv, features.npy, labels.npy and summary.json")
    return summary


if __name__ == "__main__":
    main()
