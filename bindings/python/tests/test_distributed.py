"""Two gloo processes on loopback: the merged tracker equals one tracker
fed every rank's observations."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cscore
import distributed_worker as worker
from cscore.distributed import merge_states
from conftest import PACKAGE_ROOT

WORLD_SIZE = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def single_tracker_reference() -> cscore.Tracker:
    """One tracker fed every rank's batches of each epoch, rank 0 first."""
    tracker = worker.new_tracker()
    for epoch in range(worker.EPOCHS):
        for rank in range(WORLD_SIZE):
            worker.observe_epoch(tracker, rank, WORLD_SIZE, epoch)
        tracker.end_epoch()
    return tracker


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """Run the two ranks; return the folder with their saved trackers."""
    out = tmp_path_factory.mktemp("distributed")
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), environment.get("PYTHONPATH", "")])
    environment["GLOO_SOCKET_IFNAME"] = "lo"  # loopback only
    environment["OMP_NUM_THREADS"] = "1"
    port = free_port()
    script = Path(worker.__file__)
    ranks = [
        subprocess.Popen(
            [sys.executable, str(script), str(rank), str(WORLD_SIZE), str(port), str(out)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(WORLD_SIZE)
    ]
    outputs = []
    for process in ranks:
        try:
            outputs.append(process.communicate(timeout=120)[0])
        except subprocess.TimeoutExpired:
            for other in ranks:
                other.kill()
            pytest.fail("the distributed ranks did not finish within 120 s")
    for rank, process in enumerate(ranks):
        assert process.returncode == 0, f"rank {rank} failed:\n{outputs[rank]}"
    return out


def assert_same_state(actual: cscore.Tracker, expected: cscore.Tracker):
    for name in cscore.PROXIES:
        np.testing.assert_array_equal(actual.proxy(name), expected.proxy(name), err_msg=name)
    np.testing.assert_array_equal(actual.labels, expected.labels)
    np.testing.assert_array_equal(actual.features, expected.features)
    np.testing.assert_array_equal(actual.epochs_observed, expected.epochs_observed)
    assert actual.epochs == expected.epochs
    assert actual.repeats_dropped == expected.repeats_dropped
    for epoch in range(1, expected.epochs + 1):
        for got, want in zip(actual.history(epoch), expected.history(epoch)):
            np.testing.assert_array_equal(got, want, err_msg=f"epoch {epoch}")


def test_sampler_pads_and_moves_examples():
    # The premises of the test: padding repeats examples, and examples
    # change rank between epochs.
    first = [np.concatenate(list(worker.rank_batches(0, WORLD_SIZE, epoch))) for epoch in range(2)]
    second = np.concatenate(list(worker.rank_batches(1, WORLD_SIZE, 0)))
    assert len(first[0]) + len(second) == worker.N_EXAMPLES + 1
    assert set(first[0]) != set(first[1])


def test_gathered_equals_single_tracker(merged):
    reference = single_tracker_reference()
    gathered = cscore.Tracker.load(merged / "gathered.state")
    assert_same_state(gathered, reference)
    # One padded repeat per epoch: 103 examples dealt to 2 ranks of 52.
    assert gathered.repeats_dropped == worker.EPOCHS
    assert (gathered.epochs_observed == worker.EPOCHS).all()


def test_all_gather_gives_every_rank_the_same(merged):
    reference = single_tracker_reference()
    for rank in range(WORLD_SIZE):
        assert_same_state(cscore.Tracker.load(merged / f"all_rank{rank}.state"), reference)


def test_merge_states_rejects_missing_end_epoch():
    a, b = worker.new_tracker(), worker.new_tracker()
    worker.observe_epoch(a, 0, WORLD_SIZE, 0)
    a.end_epoch()
    with pytest.raises(ValueError, match="state 1 has 0 ended epochs but state 0 has 1"):
        merge_states([a.to_bytes(), b.to_bytes()])
    with pytest.raises(ValueError, match="states is empty"):
        merge_states([])
