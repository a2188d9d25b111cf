"""Every argument error: Python-side type and shape errors name the
argument; library failures raise cscore.Error with the C message, status
and last-error details."""

import numpy as np
import pytest
import torch

import cscore
from cscore import Status

F32 = np.float32


def logits(n=4, classes=3):
    return np.zeros((n, classes), dtype=F32)


@pytest.fixture
def tracker():
    return cscore.Tracker(10, 3)


# -- cscore.Error itself -----------------------------------------------------


def test_error_carries_record(tracker):
    bad = logits()
    bad[2, 1] = np.nan
    with pytest.raises(cscore.Error) as caught:
        tracker.observe_batch(bad, [0, 1, 2, 0], [0, 1, 7, 3])
    error = caught.value
    assert error.status == Status.E_NONFINITE_PREDICTION
    assert error.status_name == "CS_E_NONFINITE_PREDICTION"
    assert error.function == "cs_observe_batch"
    assert error.argument == "predictions"
    assert error.index == 2
    assert error.example_id == 7
    assert error.value == "nan"
    assert error.path is None
    assert "example id 7" in str(error)
    assert error.description == "a prediction is NaN or infinite"
    assert "CS_E_NONFINITE_PREDICTION" in repr(error)


def test_failed_batch_records_nothing(tracker):
    bad = logits()
    bad[3, 0] = np.inf
    with pytest.raises(cscore.Error):
        tracker.observe_batch(bad, [0, 1, 2, 0], [0, 1, 2, 3])
    tracker.end_epoch()
    np.testing.assert_array_equal(tracker.epochs_observed, 0)


def test_status_enum_has_every_code():
    assert Status.OK == 0
    assert Status.E_IO == 20
    names = [status.name for status in Status]
    assert names[:3] == ["OK", "E_NULL_ARGUMENT", "E_ZERO_SIZE"]
    assert list(Status) == sorted(Status)


# -- Tracker constructor -----------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(n_examples=10.0, n_classes=3), TypeError, "n_examples"),
        (dict(n_examples="10", n_classes=3), TypeError, "n_examples"),
        (dict(n_examples=True, n_classes=3), TypeError, "n_examples"),
        (dict(n_examples=2**63, n_classes=3), ValueError, "n_examples"),
        (dict(n_examples=10, n_classes=2**31), ValueError, "n_classes"),
        (dict(n_examples=10, n_classes=3, feature_dim=1.5), TypeError, "feature_dim"),
        (dict(n_examples=10, n_classes=3, repeats="drop"), ValueError, "repeats"),
        (dict(n_examples=10, n_classes=3, probability_tolerance="x"), TypeError, "probability_tolerance"),
    ],
)
def test_constructor_argument_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        cscore.Tracker(**kwargs)


@pytest.mark.parametrize(
    "kwargs, status",
    [
        (dict(n_examples=0, n_classes=3), Status.E_ZERO_SIZE),
        (dict(n_examples=10, n_classes=1), Status.E_INVALID_ARGUMENT),
        (dict(n_examples=-5, n_classes=3), Status.E_INVALID_ARGUMENT),
        (dict(n_examples=10, n_classes=3, feature_dim=-1), Status.E_INVALID_ARGUMENT),
        (dict(n_examples=10, n_classes=3, probability_tolerance=-1.0), Status.E_INVALID_ARGUMENT),
        (dict(n_examples=10, n_classes=3, probability_tolerance=float("nan")), Status.E_INVALID_ARGUMENT),
    ],
)
def test_constructor_library_errors(kwargs, status):
    with pytest.raises(cscore.Error) as caught:
        cscore.Tracker(**kwargs)
    assert caught.value.status == status


# -- observe_batch / observe_epoch: Python-side checks -----------------------


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ((np.zeros((4, 3), np.int32), [0] * 4, range(4)), TypeError, "predictions has dtype int32"),
        ((np.zeros((4, 3), bool), [0] * 4, range(4)), TypeError, "predictions"),
        ((np.zeros(12, F32), [0] * 4, range(4)), ValueError, "predictions must be 2-dimensional"),
        ((np.zeros((4, 5), F32), [0] * 4, range(4)), ValueError, r"predictions has shape \(4, 5\)"),
        (([["a", "b", "c"]], [0], [0]), TypeError, "predictions"),
        ((object(), [0], [0]), TypeError, "predictions"),
        ((logits(), np.zeros(4, F32), range(4)), TypeError, "labels has dtype float32"),
        ((logits(), [0, 1, 2], range(4)), ValueError, r"labels has shape \(3,\)"),
        ((logits(), [[0, 1, 2, 0]], range(4)), ValueError, "labels must be 1-dimensional"),
        ((logits(), np.array([0, 1, 2, 2**40], np.uint64), range(4)), ValueError, "labels has values"),
        ((logits(), np.array([0, 1, 2, 2**40]), range(4)), cscore.Error, r"labels\[3\] is 1099511627776"),
        ((logits(), [0] * 4, np.zeros(4, F32)), TypeError, "ids has dtype float32"),
        ((logits(), [0] * 4, [0, 1]), ValueError, r"ids has shape \(2,\)"),
        ((logits(), [0] * 4, np.array([0, 1, 2, 2**63], np.uint64)), ValueError, "ids has values"),
    ],
)
def test_observe_batch_argument_errors(tracker, arguments, error, words):
    with pytest.raises(error, match=words):
        tracker.observe_batch(*arguments)


def test_feature_shape_errors():
    tracker = cscore.Tracker(10, 3, feature_dim=2)
    with pytest.raises(ValueError, match=r"features has shape \(4, 3\)"):
        tracker.observe_batch(logits(), [0] * 4, range(4), features=np.zeros((4, 3), F32))
    with pytest.raises(ValueError, match=r"features has shape \(2, 2\)"):
        tracker.observe_batch(logits(), [0] * 4, range(4), features=np.zeros((2, 2), F32))
    with pytest.raises(TypeError, match="features has dtype int64"):
        tracker.observe_batch(logits(), [0] * 4, range(4), features=np.zeros((4, 2), np.int64))


def test_tensor_on_other_device_rejected(tracker):
    on_meta = torch.empty((4, 3), device="meta")
    with pytest.raises(TypeError, match="predictions is a tensor on device meta"):
        tracker.observe_batch(on_meta, [0] * 4, range(4))


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ((torch.zeros(12), torch.zeros(4, dtype=torch.long), torch.arange(4)), ValueError, "predictions must be 2-dimensional"),
        ((torch.zeros(4, 3, dtype=torch.int64), torch.zeros(4, dtype=torch.long), torch.arange(4)), TypeError, "predictions has dtype torch.int64"),
        ((torch.zeros(4, 3, dtype=torch.complex64), torch.zeros(4, dtype=torch.long), torch.arange(4)), TypeError, "predictions has dtype torch.complex64"),
        ((torch.zeros(4, 3), torch.zeros(4), torch.arange(4)), TypeError, "labels has dtype torch.float32"),
        ((torch.zeros(4, 3), torch.zeros(4, dtype=torch.bool), torch.arange(4)), TypeError, "labels has dtype torch.bool"),
        ((torch.zeros(4, 3), torch.tensor([0, 1, 2**40, 0]), torch.arange(4)), cscore.Error, r"labels\[2\] is 1099511627776"),
        ((torch.zeros(4, 3), torch.tensor([0, 9, 1, 9, 2**40, 9, 0, 9])[::2], torch.arange(4)), cscore.Error, r"labels\[2\] is 1099511627776"),
        ((torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.arange(5)), ValueError, r"ids has shape \(5,\)"),
        ((torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), torch.arange(4)), ValueError, r"predictions has shape \(4, 2\)"),
    ],
)
def test_observe_batch_tensor_argument_errors(tracker, arguments, error, words):
    with pytest.raises(error, match=words):
        tracker.observe_batch(*arguments)


def test_observe_epoch_shape_errors(tracker):
    with pytest.raises(ValueError, match=r"predictions has shape \(4, 3\); expected \(10, 3\)"):
        tracker.observe_epoch(logits(), [0] * 4)
    with pytest.raises(ValueError, match=r"labels has shape \(4,\); expected \(10,\)"):
        tracker.observe_epoch(logits(10), [0] * 4)


# -- observe_batch / observe_epoch: library checks ---------------------------


def error_status(call):
    with pytest.raises(cscore.Error) as caught:
        call()
    return caught.value


def test_label_out_of_range(tracker):
    error = error_status(lambda: tracker.observe_batch(logits(), [0, 1, 3, 0], range(4)))
    assert error.status == Status.E_LABEL_OUT_OF_RANGE
    assert error.argument == "labels"
    assert error.index == 2


def test_label_changed(tracker):
    tracker.observe_epoch(logits(10), [0] * 10)
    error = error_status(lambda: tracker.observe_batch(logits(1), [1], [4]))
    assert error.status == Status.E_LABEL_CHANGED
    assert error.example_id == 4


def test_id_out_of_range(tracker):
    error = error_status(lambda: tracker.observe_batch(logits(), [0] * 4, [0, 1, 10, 2]))
    assert error.status == Status.E_ID_OUT_OF_RANGE
    assert error.argument == "ids"


def test_negative_id(tracker):
    assert error_status(lambda: tracker.observe_batch(logits(1), [0], [-1])).status == Status.E_ID_OUT_OF_RANGE


def test_repeated_id(tracker):
    error = error_status(lambda: tracker.observe_batch(logits(), [0] * 4, [0, 1, 1, 2]))
    assert error.status == Status.E_REPEATED_OBSERVATION
    assert 'create the Tracker with repeats="keep_first"' in str(error)


def test_hints_name_python_calls(tracker):
    tracker.observe_batch(logits(), [0] * 4, range(4))
    error = error_status(lambda: tracker.observe_batch(logits(1), [0], [2]))
    assert "end_epoch() between epochs" in str(error)
    assert "cs_end_epoch" not in str(error)
    assert "CS_REPEAT_KEEP_FIRST" not in str(error)
    assert error.function == "cs_observe_batch"

    probabilities = cscore.Tracker(10, 3, probabilities=True)
    error = error_status(lambda: probabilities.observe_batch(np.full((1, 3), 0.5, F32), [0], [0]))
    assert "logits with probabilities=False" in str(error)


def test_message_drops_c_function_name(tracker):
    error = error_status(lambda: tracker.observe_batch(logits(1), [7], [0]))
    assert str(error).startswith("labels[0] is 7")
    assert error.function == "cs_observe_batch"


def test_empty_batch(tracker):
    error = error_status(lambda: tracker.observe_batch(np.zeros((0, 3), F32), np.zeros(0, np.int32), np.zeros(0, np.int64)))
    assert error.status == Status.E_ZERO_SIZE


def test_unexpected_and_missing_features(tracker):
    error = error_status(lambda: tracker.observe_batch(logits(), [0] * 4, range(4), features=np.zeros((4, 2), F32)))
    assert error.status == Status.E_UNEXPECTED_FEATURES
    with_features = cscore.Tracker(10, 3, feature_dim=2)
    error = error_status(lambda: with_features.observe_batch(logits(), [0] * 4, range(4)))
    assert error.status == Status.E_MISSING_FEATURES


def test_nonfinite_feature():
    tracker = cscore.Tracker(10, 3, feature_dim=2)
    features = np.zeros((4, 2), F32)
    features[1, 1] = np.nan
    error = error_status(lambda: tracker.observe_batch(logits(), [0] * 4, range(4), features=features))
    assert error.status == Status.E_NONFINITE_FEATURE


def test_invalid_probabilities():
    tracker = cscore.Tracker(2, 3, probabilities=True)
    error = error_status(lambda: tracker.observe_epoch(np.full((2, 3), 0.5, F32), [0, 1]))
    assert error.status == Status.E_INVALID_PROBABILITY


def test_observe_epoch_with_open_epoch(tracker):
    tracker.observe_batch(logits(1), [0], [0])
    assert error_status(lambda: tracker.observe_epoch(logits(10), [0] * 10)).status == Status.E_EPOCH_OPEN


# -- getters, merge, save and load -------------------------------------------


def test_unknown_proxy(tracker):
    with pytest.raises(ValueError, match="unknown proxy 'cbt'"):
        tracker.proxy("cbt")


def test_features_without_feature_dim(tracker):
    assert error_status(lambda: tracker.features).status == Status.E_MISSING_FEATURES


def test_history_errors(tracker):
    assert error_status(lambda: tracker.history(1)).status == Status.E_NO_HISTORY
    with_history = cscore.Tracker(10, 3, keep_history=True)
    assert error_status(lambda: with_history.history(1)).status == Status.E_INVALID_ARGUMENT
    with pytest.raises(TypeError, match="epoch"):
        with_history.history(1.0)


def test_merge_errors():
    a = cscore.Tracker(10, 3, keep_history=True)
    with pytest.raises(TypeError, match="other must be a cscore.Tracker"):
        a.merge("tracker")
    assert error_status(lambda: a.merge(cscore.Tracker(10, 3))).status == Status.E_NO_HISTORY
    assert error_status(lambda: a.merge(cscore.Tracker(11, 3, keep_history=True))).status == Status.E_INCOMPATIBLE
    assert error_status(lambda: a.merge(a)).status == Status.E_INVALID_ARGUMENT
    b = cscore.Tracker(10, 3, keep_history=True)
    b.observe_batch(logits(1), [0], [0])
    assert error_status(lambda: a.merge(b)).status == Status.E_EPOCH_OPEN
    b.end_epoch()
    a.observe_batch(logits(1), [2], [0])
    a.end_epoch()
    assert error_status(lambda: a.merge(b)).status == Status.E_LABEL_CHANGED


def test_load_errors(tmp_path):
    error = error_status(lambda: cscore.Tracker.load(tmp_path / "missing.bin"))
    assert error.status == Status.E_IO
    assert error.path == str(tmp_path / "missing.bin")

    (tmp_path / "garbage.bin").write_bytes(b"not a tracker" * 10)
    assert error_status(lambda: cscore.Tracker.load(tmp_path / "garbage.bin")).status == Status.E_FORMAT

    tracker = cscore.Tracker(10, 3)
    tracker.observe_epoch(logits(10), [0] * 10)
    state = bytearray(tracker.to_bytes())
    state[len(state) // 2] ^= 0xFF
    assert error_status(lambda: cscore.Tracker.from_bytes(bytes(state))).status == Status.E_CHECKSUM


def test_path_errors(tracker, tmp_path):
    with pytest.raises(TypeError, match="path must be a str"):
        tracker.save(42)
    with pytest.raises(ValueError, match="NUL"):
        tracker.save("a\0b")
    assert error_status(lambda: tracker.save(tmp_path / "no" / "folder" / "x")).status == Status.E_IO
    with pytest.raises(TypeError, match="data must be bytes"):
        cscore.Tracker.from_bytes("text")


def test_extra_column_errors(tracker, tmp_path):
    with pytest.raises(ValueError, match=r"extra\['kde'\] has shape \(3,\)"):
        tracker.to_npz(tmp_path / "x.npz", extra={"kde": np.zeros(3)})
    with pytest.raises(TypeError, match="extra column names must be str"):
        tracker.to_npz(tmp_path / "x.npz", extra={1: np.zeros(10)})
    if cscore.tracker.optional("cs_tracker_export_npz_extra") is not None:
        error = error_status(lambda: tracker.to_npz(tmp_path / "x.npz", extra={"cbtl": np.zeros(10)}))
        assert error.status == Status.E_INVALID_ARGUMENT


# -- statistics --------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: cscore.spearman([1, 2, 3], [1, 2]), ValueError, r"y has shape \(2,\)"),
        (lambda: cscore.spearman([[1, 2]], [[1, 2]]), ValueError, "x must be 1-dimensional"),
        (lambda: cscore.spearman(["a", "b"], [1, 2]), TypeError, "x has dtype"),
        (lambda: cscore.kendall_tau_b([1, 2], [1, 2], mask=[True], indices=[0]), ValueError, "mask or indices"),
        (lambda: cscore.kendall_tau_b([1, 2], [1, 2], mask=[True]), ValueError, r"mask has shape \(1,\)"),
        (lambda: cscore.kendall_tau_b([1, 2], [1, 2], mask=[0.5, 1.0]), TypeError, "mask has dtype float64"),
        (lambda: cscore.auroc([1, 2], [1, 2], indices=[0.0]), TypeError, "indices has dtype float64"),
        (lambda: cscore.auroc([1, 2], ["x", "y"]), TypeError, "labels has dtype"),
        (lambda: cscore.bootstrap_interval("pearson", [1, 2], [1, 2]), ValueError, "unknown statistic 'pearson'"),
        (lambda: cscore.bootstrap_interval("spearman", [1, 2], [1, 2], resamples=2.5), TypeError, "resamples"),
        (lambda: cscore.bootstrap_interval("spearman", [1, 2], [1, 2], seed=-1), ValueError, "seed"),
        (lambda: cscore.ranks(np.zeros((2, 2))), ValueError, "values must be 1-dimensional"),
    ],
)
def test_statistics_argument_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize(
    "call, status",
    [
        (lambda: cscore.spearman([], []), Status.E_ZERO_SIZE),
        (lambda: cscore.ranks([]), Status.E_ZERO_SIZE),
        (lambda: cscore.spearman([1, 2, 3], [1, 2, 3], indices=[0, 3]), Status.E_ID_OUT_OF_RANGE),
        (lambda: cscore.spearman([1, 2, 3], [1, 2, 3], indices=[0, 0]), Status.E_INVALID_ARGUMENT),
        (lambda: cscore.auroc([1, 2, 3], [0, 1, 2]), Status.E_INVALID_ARGUMENT),
        (lambda: cscore.bootstrap_interval("spearman", [1, 2], [1, 2], resamples=0), Status.E_INVALID_ARGUMENT),
        (lambda: cscore.bootstrap_interval("spearman", [1, 2], [1, 2], confidence=1.0), Status.E_INVALID_ARGUMENT),
    ],
)
def test_statistics_library_errors(call, status):
    assert error_status(call).status == status


# -- density proxies ---------------------------------------------------------


def points(n=12, d=3):
    rng = np.random.default_rng(2)
    return rng.normal(size=(n, d)).astype(F32), rng.integers(0, 3, size=n)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda f, l: cscore.kde_scores(f[:, 0], l), ValueError, "features must be 2-dimensional"),
        (lambda f, l: cscore.kde_scores(f.astype(np.int32), l), TypeError, "features has dtype int32"),
        (lambda f, l: cscore.kde_scores(f, l[:5]), ValueError, r"labels has shape \(5,\)"),
        (lambda f, l: cscore.kde_scores(f, None), ValueError, "'kde_pm' needs labels"),
        (lambda f, l: cscore.kde_scores(f, l, outputs=()), ValueError, "outputs is empty"),
        (lambda f, l: cscore.kde_scores(f, l, outputs=["kde"]), ValueError, "unknown output 'kde'"),
        (lambda f, l: cscore.kde_scores(f, l, method="approximate"), ValueError, "method is 'approximate'"),
        (lambda f, l: cscore.kde_scores(f, l, neighbor_index="lsh"), ValueError, "neighbor_index is 'lsh'"),
        (lambda f, l: cscore.kde_scores(f, l, tiles=4), TypeError, "unknown option tiles"),
        (lambda f, l: cscore.kde_scores(f, l, options={"seed": 1}), TypeError, "options must be a cscore.KdeOptions"),
        (lambda f, l: cscore.kde_scores(f, l, bandwidth="wide"), TypeError, "bandwidth must be a number"),
        (lambda f, l: cscore.kde_scores(f, l, tile_size=2**40), ValueError, "tile_size"),
        (lambda f, l: cscore.kde_scores(f, l, n_classes=2.0), TypeError, "n_classes"),
        (lambda f, l: cscore.kde_query(f, l, f[:, :2], l), ValueError, None),
        (lambda f, l: cscore.kde_query(f, l, f, None), ValueError, "'kde_pm' needs labels"),
        (lambda f, l: cscore.kde_query(f, l, f[:3], l), ValueError, r"query_labels has shape \(12,\)"),
    ],
)
def test_kde_argument_errors(call, error, words):
    features, labels = points()
    if words is None:
        # Queries of another width are the library's check.
        with pytest.raises(cscore.Error) as caught:
            call(features, labels)
        assert caught.value.status == Status.E_INVALID_ARGUMENT
        return
    with pytest.raises(error, match=words):
        call(features, labels)


@pytest.mark.parametrize(
    "call, status",
    [
        (lambda f, l: cscore.kde_scores(f[:1], l[:1]), Status.E_INVALID_ARGUMENT),
        (lambda f, l: cscore.kde_scores(f, l, tile_size=0), Status.E_INVALID_ARGUMENT),
        (lambda f, l: cscore.kde_scores(f, l, bandwidth=-1.0), Status.E_INVALID_ARGUMENT),
        (lambda f, l: cscore.kde_scores(f, l, n_classes=2), Status.E_LABEL_OUT_OF_RANGE),
        (lambda f, l: cscore.kde_scores(np.zeros_like(f), l), Status.E_ZERO_BANDWIDTH),
        (lambda f, l: cscore.kde_scores(np.full_like(f, np.nan), l), Status.E_NONFINITE_FEATURE),
        (lambda f, l: cscore.kde_bandwidth(f, bandwidth_pairs=0), Status.E_INVALID_ARGUMENT),
    ],
)
def test_kde_library_errors(call, status):
    features, labels = points()
    with pytest.raises(cscore.Error) as caught:
        call(features, labels)
    assert caught.value.status == status


# -- readers and holdout -------------------------------------------------------


def test_reader_errors(tmp_path):
    assert error_status(lambda: cscore.read_npy(tmp_path / "missing.npy")).status == Status.E_IO
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}")
    assert error_status(lambda: cscore.read_npy(tmp_path / "bad.npy")).status == Status.E_FORMAT
    np.savez(tmp_path / "a.npz", x=np.zeros(2))
    error = error_status(lambda: cscore.read_npz(tmp_path / "a.npz", keys=["y"]))
    assert error.status == Status.E_INVALID_ARGUMENT
    assert "x" in str(error)
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    assert error_status(lambda: cscore.read_csv_columns(tmp_path / "a.csv", ["c"])).status == Status.E_INVALID_ARGUMENT
    (tmp_path / "b.csv").write_text("a,b\n1,x\n")
    error = error_status(lambda: cscore.read_csv_columns(tmp_path / "b.csv", ["b"]))
    assert error.status == Status.E_FORMAT
    assert error.line == 2
    with pytest.raises(TypeError, match="path"):
        cscore.read_npy(None)


def test_dataset_errors(tmp_path):
    assert error_status(lambda: cscore.load_idx_dataset(tmp_path)).status == Status.E_IO
    error = error_status(lambda: cscore.load_idx_dataset(train_count=-1))
    assert error.status == Status.E_INVALID_ARGUMENT
    with pytest.raises(TypeError, match="train_count"):
        cscore.load_idx_dataset(train_count="all")


def test_holdout_errors(tmp_path):
    with pytest.raises(ValueError, match="at least one record file"):
        cscore.merge_holdout_records()
    assert error_status(lambda: cscore.merge_holdout_records(tmp_path / "none.records")).status == Status.E_IO
    (tmp_path / "bad.records").write_bytes(b"\0" * 64)
    assert error_status(lambda: cscore.merge_holdout_records(tmp_path / "bad.records")).status == Status.E_FORMAT
