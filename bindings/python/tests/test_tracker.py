"""Tracker: results against the C program on the same data, and the
Python-side features (batches, history, save/load, merge, exports)."""

import csv
import pickle
import threading

import numpy as np
import pytest

import cscore
from conftest import run_cli, synthetic_epochs


def feed_epochs(tracker, logits, labels):
    for epoch_logits in logits:
        tracker.observe_epoch(epoch_logits, labels)


def feed_batches(tracker, logits, labels, batch=37, seed=5):
    """Feed each epoch in shuffled batches of `batch` rows."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    for epoch_logits in logits:
        order = rng.permutation(n)
        for start in range(0, n, batch):
            ids = order[start : start + batch]
            tracker.observe_batch(epoch_logits[ids], labels[ids], ids)
        tracker.end_epoch()


def assert_same_proxies(a: cscore.Tracker, b: cscore.Tracker):
    for name in cscore.PROXIES:
        np.testing.assert_array_equal(a.proxy(name), b.proxy(name), err_msg=name)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.epochs_observed, b.epochs_observed)
    assert a.epochs == b.epochs
    assert a.repeats_dropped == b.repeats_dropped


@pytest.fixture
def cli_outputs(cli, tmp_path, epochs_data):
    """Run `cscore proxies` on the synthetic epochs; return its folder."""
    logits, labels = epochs_data
    for epoch, epoch_logits in enumerate(logits, start=1):
        np.save(tmp_path / f"epoch_{epoch:03d}.npy", epoch_logits)
    np.save(tmp_path / "labels.npy", labels)
    out = tmp_path / "cli"
    run_cli(cli, "proxies", "--logits", str(tmp_path / "epoch_*.npy"), "--labels", tmp_path / "labels.npy", "--out", out)
    return out


def test_proxies_equal_cli_results(cli_outputs, epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1], keep_history=True)
    feed_epochs(tracker, logits, labels)

    expected = np.load(cli_outputs / "proxies.npz")
    for name in cscore.PROXIES:
        assert tracker.proxy(name).dtype == expected[name].dtype, name
        np.testing.assert_array_equal(tracker.proxy(name), expected[name], err_msg=name)
    np.testing.assert_array_equal(tracker.labels, np.load(cli_outputs / "labels.npy"))


def test_batches_equal_cli_results(cli_outputs, epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_batches(tracker, logits, labels)
    expected = np.load(cli_outputs / "proxies.npz")
    for name in cscore.PROXIES:
        np.testing.assert_array_equal(tracker.proxy(name), expected[name], err_msg=name)


def test_to_npz_matches_cli_file(cli_outputs, epochs_data, tmp_path):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1], keep_history=True)
    feed_epochs(tracker, logits, labels)
    tracker.to_npz(tmp_path / "mine.npz")

    mine = np.load(tmp_path / "mine.npz")
    expected = np.load(cli_outputs / "proxies.npz")
    assert sorted(mine.files) == sorted(expected.files)
    for key in expected.files:
        np.testing.assert_array_equal(mine[key], expected[key], err_msg=key)


def test_to_csv_matches_cli_file(cli_outputs, epochs_data, tmp_path):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(tracker, logits, labels)
    tracker.to_csv(tmp_path / "mine.csv")
    assert (tmp_path / "mine.csv").read_bytes() == (cli_outputs / "proxies.csv").read_bytes()


def test_float64_and_int64_inputs_give_same_result(epochs_data):
    logits, labels = epochs_data
    reference = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(reference, logits, labels)
    converted = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(converted, [z.astype(np.float64) for z in logits], labels.astype(np.int64))
    assert_same_proxies(reference, converted)


def test_lists_and_fortran_order_accepted(epochs_data):
    logits, labels = epochs_data
    reference = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(reference, logits, labels)
    other = cscore.Tracker(len(labels), logits[0].shape[1])
    for z in logits:
        other.observe_epoch(np.asfortranarray(z), labels.tolist())
    assert_same_proxies(reference, other)


def test_torch_tensors_accepted(epochs_data):
    torch = pytest.importorskip("torch")
    logits, labels = epochs_data
    reference = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_batches(reference, logits, labels)
    tensors = cscore.Tracker(len(labels), logits[0].shape[1])
    rng = np.random.default_rng(5)
    for z in logits:
        order = rng.permutation(len(labels))
        for start in range(0, len(labels), 37):
            ids = order[start : start + 37]
            tensors.observe_batch(
                torch.from_numpy(z[ids]).requires_grad_(True),
                torch.from_numpy(labels[ids]).long(),
                torch.from_numpy(ids),
            )
        tensors.end_epoch()
    assert_same_proxies(reference, tensors)


def test_bfloat16_tensor_converted():
    torch = pytest.importorskip("torch")
    tracker = cscore.Tracker(4, 3)
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [2.0, 0.0, 0.0]])
    tracker.observe_batch(logits.to(torch.bfloat16), torch.tensor([0, 1, 2, 1]), torch.arange(4))
    tracker.end_epoch()
    np.testing.assert_array_equal(tracker.cbtl, [1, 1, 1, 0])


def test_probability_inputs():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    tracker = cscore.Tracker(2, 3, probabilities=True)
    assert tracker.probabilities
    tracker.observe_epoch(probabilities, [0, 0])
    np.testing.assert_allclose(tracker.p_l_last, [0.7, 0.1], rtol=1e-6)
    np.testing.assert_allclose(tracker.p_max_last, [0.7, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(tracker.cbtl, [1, 0])


def test_options_read_back():
    tracker = cscore.Tracker(
        10, 4, feature_dim=3, keep_history=True, repeats="keep_first", probability_tolerance=0.05
    )
    assert (tracker.n_examples, tracker.n_classes, tracker.feature_dim) == (10, 4, 3)
    assert tracker.keep_history
    assert tracker.repeats == "keep_first"
    assert tracker.probability_tolerance == 0.05
    assert not tracker.probabilities
    assert "n_examples=10" in repr(tracker)


def test_features_keep_latest_row():
    tracker = cscore.Tracker(3, 2, feature_dim=2)
    logits = np.zeros((2, 2), dtype=np.float32)
    tracker.observe_batch(logits, [0, 1], [0, 2], features=[[1.0, 2.0], [3.0, 4.0]])
    tracker.end_epoch()
    tracker.observe_batch(logits[:1], [0], [0], features=[[5.0, 6.0]])
    tracker.end_epoch()
    features = tracker.features
    assert features.shape == (3, 2)
    np.testing.assert_array_equal(features[0], [5.0, 6.0])
    np.testing.assert_array_equal(features[2], [3.0, 4.0])
    assert np.isnan(features[1]).all()
    np.testing.assert_array_equal(tracker.labels, [0, -1, 1])
    np.testing.assert_array_equal(tracker.epochs_observed, [2, 0, 1])


def test_history_per_epoch(epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1], keep_history=True)
    feed_epochs(tracker, logits, labels)
    correct_sum = np.zeros(len(labels), dtype=np.int32)
    for epoch in range(1, tracker.epochs + 1):
        history = tracker.history(epoch)
        assert history.observed.dtype == np.bool_
        assert history.observed.all()
        expected_correct = logits[epoch - 1].argmax(axis=1) == labels
        np.testing.assert_array_equal(history.correct, expected_correct)
        correct_sum += history.correct
    np.testing.assert_array_equal(correct_sum, tracker.cbtl)
    np.testing.assert_array_equal(tracker.history(tracker.epochs).p_l, tracker.p_l_last)


def test_keep_first_drops_repeats():
    tracker = cscore.Tracker(3, 2, repeats="keep_first")
    tracker.observe_batch([[2.0, 0.0], [0.0, 2.0]], [0, 0], [0, 0])
    tracker.observe_batch([[0.0, 2.0]], [0], [0])
    tracker.end_epoch()
    assert tracker.repeats_dropped == 2
    np.testing.assert_array_equal(tracker.cbtl, [1, 0, 0])


def test_save_load_round_trip(tmp_path, epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1], keep_history=True)
    feed_epochs(tracker, logits, labels)
    tracker.save(tmp_path / "state.bin")
    loaded = cscore.Tracker.load(str(tmp_path / "state.bin"))
    assert_same_proxies(tracker, loaded)
    assert loaded.keep_history


def test_bytes_pickle_and_copy(epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1], keep_history=True)
    feed_epochs(tracker, logits[:2], labels)
    assert_same_proxies(tracker, cscore.Tracker.from_bytes(tracker.to_bytes()))
    assert_same_proxies(tracker, pickle.loads(pickle.dumps(tracker)))
    copy = tracker.copy()
    copy.observe_epoch(logits[2], labels)
    assert copy.epochs == 3
    assert tracker.epochs == 2


def test_merge_of_halves_equals_whole(epochs_data):
    logits, labels = epochs_data
    n, classes = len(labels), logits[0].shape[1]
    whole = cscore.Tracker(n, classes, keep_history=True)
    feed_epochs(whole, logits, labels)

    halves = [cscore.Tracker(n, classes, keep_history=True) for _ in range(2)]
    rng = np.random.default_rng(3)
    for z in logits:
        order = rng.permutation(n)
        for half, ids in zip(halves, np.array_split(order, 2)):
            half.observe_batch(z[ids], labels[ids], ids)
            half.end_epoch()
    halves[0].merge(halves[1])
    assert_same_proxies(whole, halves[0])


def test_to_dict_orders_by_id(epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(tracker, logits, labels)
    table = tracker.to_dict()
    assert list(table) == ["id", "label", *cscore.PROXIES]
    np.testing.assert_array_equal(table["id"], np.arange(len(labels)))
    np.testing.assert_array_equal(table["label"], labels)
    np.testing.assert_array_equal(table["cbtl"], tracker.cbtl)
    assert all(column.shape == (len(labels),) for column in table.values())


def test_to_dict_makes_pandas_frame(epochs_data):
    pandas = pytest.importorskip("pandas")
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(tracker, logits, labels)
    frame = pandas.DataFrame(tracker.to_dict())
    assert frame.shape == (len(labels), 2 + len(cscore.PROXIES))


def test_proxy_properties_match_proxy(epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(tracker, logits, labels)
    for name in cscore.PROXIES:
        np.testing.assert_array_equal(getattr(tracker, name), tracker.proxy(name), err_msg=name)
    assert cscore.PROXY_DIRECTION["cbtl"] == 1
    assert cscore.PROXY_DIRECTION["forgetting"] == -1


@pytest.mark.skipif(
    cscore.tracker.optional("cs_tracker_export_npz_extra") is None,
    reason="this libcscore has no cs_tracker_export_npz_extra()",
)
def test_exports_with_extra_columns(tmp_path, epochs_data):
    logits, labels = epochs_data
    tracker = cscore.Tracker(len(labels), logits[0].shape[1])
    feed_epochs(tracker, logits, labels)
    density = np.linspace(0.0, 1.0, len(labels))
    tracker.to_npz(tmp_path / "extra.npz", extra={"kde_pm": density})
    np.testing.assert_array_equal(np.load(tmp_path / "extra.npz")["kde_pm"], density.astype(np.float32))

    tracker.to_csv(tmp_path / "extra.csv", extra={"kde_pm": density})
    with open(tmp_path / "extra.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert float(rows[-1]["kde_pm"]) == 1.0


def test_closed_tracker_raises():
    with cscore.Tracker(2, 2) as tracker:
        pass
    with pytest.raises(ValueError, match="closed"):
        tracker.end_epoch()
    assert "closed" in repr(tracker)


def test_synthetic_data_varies():
    # Guards the fixtures above: the data must exercise wrong and right
    # predictions, or the comparisons would test little.
    logits, labels = synthetic_epochs(300, 7, 5, seed=1)
    correct = np.mean([z.argmax(axis=1) == labels for z in logits])
    assert 0.2 < correct < 0.8


def test_threads_share_one_tracker(epochs_data):
    logits, labels = epochs_data
    n, classes = len(labels), logits[0].shape[1]
    sequential = cscore.Tracker(n, classes)
    feed_epochs(sequential, logits, labels)

    shared = cscore.Tracker(n, classes)
    for z in logits:
        parts = np.array_split(np.arange(n), 4)
        threads = [threading.Thread(target=shared.observe_batch, args=(z[ids], labels[ids], ids)) for ids in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shared.end_epoch()
    assert_same_proxies(sequential, shared)
