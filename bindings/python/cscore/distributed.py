"""Data-parallel training: combining the trackers of torch.distributed ranks.

Each rank keeps its own Tracker with keep_history=True and
repeats="keep_first", observes only the batches its sampler gives it, and
calls end_epoch() after every epoch, also when it saw no batch. At the end,
or whenever the scores are needed, every rank calls gather_tracker(). Rank
`dst` then gets one tracker with exactly the state of a single tracker fed
every rank's observations, rank 0's first:

    tracker = cscore.Tracker(len(dataset), n_classes, keep_history=True,
                             repeats="keep_first")
    sampler = DistributedSampler(dataset)          # pads to a multiple of
    for epoch in range(epochs):                    # the world size
        sampler.set_epoch(epoch)
        for inputs, labels, ids in DataLoader(dataset, sampler=sampler, ...):
            ...
            tracker.observe_batch(logits, labels, ids)
        tracker.end_epoch()
    merged = cscore.distributed.gather_tracker(tracker)   # None off rank 0

DistributedSampler pads each epoch with repeats of the first indices so
that every rank gets as many. Where two ranks observe the same example in
the same epoch, the merge keeps the observation of the lower rank and
counts the other in repeats_dropped, as repeats="keep_first" does within
one tracker. Ranks may see different examples in each epoch.

Each tracker travels as its saved state (Tracker.to_bytes()) through
torch.distributed.gather_object(), which pickles it. With the NCCL backend
that function needs each rank's CUDA device set first
(torch.cuda.set_device()); gloo needs nothing more.
"""

from typing import List, Optional, Sequence

from .tracker import Tracker


def merge_states(states: Sequence[bytes]) -> Tracker:
    """Merge saved tracker states, in order, into a new tracker.

    The first state's observations win where states overlap. Every state
    must have ended the same number of epochs, because a rank that missed
    an end_epoch() call would shift its observations into other epochs.
    """
    if not states:
        raise ValueError("states is empty; there is nothing to merge")
    merged = Tracker.from_bytes(states[0])
    for rank, state in enumerate(states[1:], start=1):
        other = Tracker.from_bytes(state)
        if other.epochs != merged.epochs:
            raise ValueError(
                f"state {rank} has {other.epochs} ended epochs but state 0 has "
                f"{merged.epochs}; every rank must call end_epoch() after every epoch"
            )
        merged.merge(other)
        other.close()
    return merged


def _distributed():
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("torch.distributed is not initialised; call init_process_group() first")
    return dist


def gather_tracker(tracker: Tracker, dst: int = 0, group=None) -> Optional[Tracker]:
    """Merge every rank's tracker into a new tracker on rank `dst`.

    A collective call: every rank of `group` must call it, with no epoch
    open (end_epoch() called). Returns the merged tracker on rank `dst`
    (a global rank, as in torch.distributed.gather_object()) and None on
    the others. Each rank's own tracker is unchanged.

    Raises on rank `dst`: Error (E_NO_HISTORY, E_EPOCH_OPEN,
    E_INCOMPATIBLE, E_LABEL_CHANGED) when a merge fails, ValueError when
    ranks ended different numbers of epochs.
    """
    dist = _distributed()
    state = tracker.to_bytes()
    gathered: Optional[List[Optional[bytes]]] = None
    if dist.get_rank() == dst:
        gathered = [None] * dist.get_world_size(group)
    dist.gather_object(state, gathered, dst=dst, group=group)
    if gathered is None:
        return None
    return merge_states(gathered)


def all_gather_tracker(tracker: Tracker, group=None) -> Tracker:
    """Merge every rank's tracker and return the result on every rank.

    As gather_tracker(), but each rank receives every state and merges
    them itself, so every rank ends with the same scores.
    """
    dist = _distributed()
    gathered: List[Optional[bytes]] = [None] * dist.get_world_size(group)
    dist.all_gather_object(gathered, tracker.to_bytes(), group=group)
    return merge_states(gathered)
