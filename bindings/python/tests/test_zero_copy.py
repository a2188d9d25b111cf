"""Arrays that already fit go to C without a copy; others are copied once.

Each test wraps a library function so that it records the addresses it
receives, then compares them with the caller's buffers.
"""

import numpy as np
import pytest
import torch

import cscore
from cscore import _library


@pytest.fixture
def recorded(monkeypatch):
    """Return a function that makes lib.<name> record its arguments."""
    calls = {}

    def record(name):
        original = getattr(_library.lib, name)
        calls[name] = []

        def wrapper(*args):
            calls[name].append(args)
            return original(*args)

        monkeypatch.setattr(_library.lib, name, wrapper)
        return calls[name]

    return record


@pytest.fixture
def conversions(monkeypatch):
    """Count the copies that the argument conversion makes, in numpy and
    in torch."""
    count = [0]

    def counting(original):
        def wrapper(*args, **kwargs):
            count[0] += 1
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(cscore._convert, "_copy", counting(cscore._convert._copy))
    monkeypatch.setattr(cscore._convert, "_copy_tensor", counting(cscore._convert._copy_tensor))
    return count


def batch(n=16, classes=5, d=3):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    labels = rng.integers(0, classes, size=n).astype(np.int32)
    ids = rng.permutation(n).astype(np.int64)
    features = rng.normal(size=(n, d)).astype(np.float32)
    return logits, labels, ids, features


def test_observe_batch_reads_numpy_in_place(recorded, conversions):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, features = batch()
    tracker = cscore.Tracker(16, 5, feature_dim=3)
    tracker.observe_batch(logits, labels, ids, features=features)
    _, logits_at, labels_at, ids_at, features_at, n = calls[0]
    assert logits_at == logits.ctypes.data
    assert labels_at == labels.ctypes.data
    assert ids_at == ids.ctypes.data
    assert features_at == features.ctypes.data
    assert n == 16
    assert conversions[0] == 0


def test_observe_batch_reads_torch_in_place(recorded, conversions):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, features = (torch.from_numpy(a) for a in batch())
    logits.requires_grad_(True)
    tracker = cscore.Tracker(16, 5, feature_dim=3)
    tracker.observe_batch(logits, labels, ids, features=features)
    _, logits_at, labels_at, ids_at, features_at, _ = calls[0]
    assert logits_at == logits.data_ptr()
    assert labels_at == labels.data_ptr()
    assert ids_at == ids.data_ptr()
    assert features_at == features.data_ptr()
    assert conversions[0] == 0


def test_observe_epoch_reads_numpy_in_place(recorded, conversions):
    calls = recorded("cs_observe_epoch")
    logits, labels, _, _ = batch()
    cscore.Tracker(16, 5).observe_epoch(logits, labels)
    assert calls[0][1] == logits.ctypes.data
    assert calls[0][2] == labels.ctypes.data
    assert conversions[0] == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda a: a.astype(np.float64), id="float64"),
        pytest.param(lambda a: np.asfortranarray(a), id="fortran-order"),
        pytest.param(lambda a: np.repeat(a, 2, axis=0)[::2], id="strided"),
        pytest.param(lambda a: a.astype(">f4"), id="big-endian"),
    ],
)
def test_unfit_predictions_copied_once(recorded, conversions, change):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, _ = batch()
    unfit = change(logits)
    tracker = cscore.Tracker(16, 5)
    tracker.observe_batch(unfit, labels, ids)
    assert calls[0][1] != unfit.ctypes.data
    assert conversions[0] == 1
    assert tracker.p_l_last[ids[0]] == pytest.approx(
        np.exp(logits[0, labels[0]]) / np.exp(logits[0]).sum(), rel=1e-5
    )


def test_int64_labels_read_in_place(recorded, conversions):
    calls = recorded("cs_observe_batch_int64")
    logits, labels, ids, _ = batch()
    wide = labels.astype(np.int64)
    tracker = cscore.Tracker(16, 5)
    tracker.observe_batch(logits, wide, ids)
    tracker.end_epoch()
    tracker.observe_batch(logits, torch.from_numpy(wide + 0), ids)
    assert calls[0][2] == wide.ctypes.data
    assert calls[0][1] == logits.ctypes.data
    assert len(calls) == 2
    assert conversions[0] == 0
    assert np.array_equal(tracker.labels[ids], labels)


def test_int16_labels_copied_once(recorded, conversions):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, _ = batch()
    narrow = labels.astype(np.int16)
    cscore.Tracker(16, 5).observe_batch(logits, narrow, ids)
    assert calls[0][2] != narrow.ctypes.data
    assert calls[0][1] == logits.ctypes.data
    assert conversions[0] == 1


def test_statistics_read_float64_in_place(recorded, conversions):
    calls = recorded("cs_spearman")
    x = np.arange(10, dtype=np.float64)
    y = x[::-1].copy()
    assert cscore.spearman(x, y) == pytest.approx(-1.0)
    assert calls[0][0] == x.ctypes.data
    assert calls[0][1] == y.ctypes.data
    assert conversions[0] == 0


def test_kde_reads_features_in_place(recorded, conversions):
    calls = recorded("cs_kde_scores")
    rng = np.random.default_rng(0)
    features = rng.normal(size=(20, 4)).astype(np.float32)
    labels = rng.integers(0, 3, size=20).astype(np.int32)
    cscore.kde_scores(features, labels, threads=1)
    examples = calls[0][0]._obj
    assert examples.inputs == features.ctypes.data
    assert examples.labels == labels.ctypes.data
    assert conversions[0] == 0


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: t.double(), id="float64"),
        pytest.param(lambda t: t.half(), id="float16"),
        pytest.param(lambda t: t.t().contiguous().t(), id="transposed"),
    ],
)
def test_unfit_tensor_copied_once(recorded, conversions, change):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, _ = (torch.from_numpy(a) for a in batch())
    unfit = change(logits)
    tracker = cscore.Tracker(16, 5)
    tracker.observe_batch(unfit, labels, ids)
    assert calls[0][1] != unfit.data_ptr()
    assert calls[0][2] == labels.data_ptr()
    assert conversions[0] == 1
    z = unfit.double().numpy()[0]
    expected = np.exp(z[labels[0]]) / np.exp(z).sum()
    assert tracker.p_l_last[ids[0]] == pytest.approx(expected, rel=2e-3)


def test_strided_label_tensor_copied_once(recorded, conversions):
    calls = recorded("cs_observe_batch_int64")
    logits, labels, ids, _ = (torch.from_numpy(a) for a in batch())
    wide = labels.long().repeat_interleave(2)[::2]
    tracker = cscore.Tracker(16, 5)
    tracker.observe_batch(logits, wide, ids)
    assert calls[0][2] != wide.data_ptr()
    assert conversions[0] == 1
    np.testing.assert_array_equal(tracker.labels[ids.numpy()], labels.numpy())


class DlpackOnly:
    """An array that numpy can read only through the DLPack protocol."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, stream=None):
        return self._array.__dlpack__()

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


def test_dlpack_object_read_in_place(recorded, conversions):
    calls = recorded("cs_observe_batch")
    logits, labels, ids, _ = batch()
    cscore.Tracker(16, 5).observe_batch(DlpackOnly(logits), DlpackOnly(labels), DlpackOnly(ids))
    assert calls[0][1] == logits.ctypes.data
    assert calls[0][2] == labels.ctypes.data
    assert calls[0][3] == ids.ctypes.data
    assert conversions[0] == 0
