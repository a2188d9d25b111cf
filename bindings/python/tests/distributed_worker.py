"""One rank of the two-process data-parallel test.

Usage: distributed_worker.py RANK WORLD_SIZE PORT OUT_DIR

Joins a gloo process group on 127.0.0.1:PORT, observes this rank's share
of every epoch as DistributedSampler deals it, and then merges the ranks'
trackers: rank 0 saves gather_tracker()'s result to OUT_DIR/gathered.state
and every rank saves all_gather_tracker()'s to OUT_DIR/all_rank<R>.state.
test_distributed.py imports observe_epoch() to build the single-tracker
reference from the same batches.
"""

import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

N_EXAMPLES = 103  # odd, so DistributedSampler pads each epoch for 2 ranks
N_CLASSES = 5
FEATURE_DIM = 4
EPOCHS = 3
BATCH = 8
SAMPLER_SEED = 11


class Ids(Dataset):
    def __len__(self):
        return N_EXAMPLES

    def __getitem__(self, index):
        return index


def predictions(ids: np.ndarray, epoch: int):
    """Return (logits, features) that depend only on (id, epoch), so that
    every rank computes the same rows for the same example."""
    ids = np.asarray(ids, dtype=np.int64)
    phase = ids[:, None] * 0.37 + np.arange(N_CLASSES)[None, :] * 1.3 + epoch * 0.71
    logits = (2.0 * np.sin(phase)).astype(np.float32)
    # The true class gains over the epochs, so correctness changes.
    logits[np.arange(len(ids)), ids % N_CLASSES] += np.float32(0.6 * epoch)
    features = np.cos(ids[:, None] * 0.11 + np.arange(FEATURE_DIM)[None, :] + epoch).astype(np.float32)
    return logits, features


def labels_of(ids: np.ndarray) -> np.ndarray:
    return np.asarray(ids) % N_CLASSES


def rank_batches(rank: int, world_size: int, epoch: int):
    """Yield the id batches that `rank` gets in `epoch`."""
    sampler = DistributedSampler(Ids(), num_replicas=world_size, rank=rank, shuffle=True, seed=SAMPLER_SEED)
    sampler.set_epoch(epoch)
    for ids in DataLoader(Ids(), batch_size=BATCH, sampler=sampler):
        yield ids


def observe_epoch(tracker, rank: int, world_size: int, epoch: int) -> None:
    """Observe rank's batches of one epoch as tensors, as a training loop would."""
    for ids in rank_batches(rank, world_size, epoch):
        logits, features = predictions(ids.numpy(), epoch)
        tracker.observe_batch(torch.from_numpy(logits), torch.from_numpy(labels_of(ids.numpy())), ids,
                              features=torch.from_numpy(features))


def new_tracker():
    import cscore

    return cscore.Tracker(N_EXAMPLES, N_CLASSES, feature_dim=FEATURE_DIM, keep_history=True, repeats="keep_first")


def main(rank: int, world_size: int, port: int, out: Path) -> None:
    import torch.distributed as dist

    from cscore.distributed import all_gather_tracker, gather_tracker

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    tracker = new_tracker()
    for epoch in range(EPOCHS):
        observe_epoch(tracker, rank, world_size, epoch)
        tracker.end_epoch()

    gathered = gather_tracker(tracker, dst=0)
    if rank == 0:
        gathered.save(out / "gathered.state")
    else:
        assert gathered is None
    all_gather_tracker(tracker).save(out / f"all_rank{rank}.state")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
