"""Readers against numpy's own files and a direct parse of the IDX files."""

import gc
import gzip
import os

import numpy as np
import pytest

import cscore


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.int64, np.float32, np.float64, ">f8"])
def test_read_npy_matches_numpy(tmp_path, dtype):
    values = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    np.save(tmp_path / "a.npy", values)
    read = cscore.read_npy(tmp_path / "a.npy")
    assert read.dtype == values.dtype.newbyteorder("=")
    assert read.shape == values.shape
    np.testing.assert_array_equal(read, values)


def test_read_npy_scalar_and_empty(tmp_path):
    np.save(tmp_path / "scalar.npy", np.float64(2.5))
    np.save(tmp_path / "empty.npy", np.zeros((0, 3), np.float32))
    assert cscore.read_npy(tmp_path / "scalar.npy").shape == ()
    assert cscore.read_npy(tmp_path / "scalar.npy")[()] == 2.5
    assert cscore.read_npy(tmp_path / "empty.npy").shape == (0, 3)


def test_array_outlives_reader(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(1000, dtype=np.int64))
    view = cscore.read_npy(tmp_path / "a.npy")[10:20]
    gc.collect()
    np.testing.assert_array_equal(view, np.arange(10, 20))
    view[0] = -1  # the caller may change the values in place
    assert view[0] == -1


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_read_npz_matches_numpy(tmp_path, save):
    save(tmp_path / "a.npz", first=np.arange(5, dtype=np.int32), second=np.eye(3))
    members = cscore.read_npz(tmp_path / "a.npz")
    assert list(members) == ["first", "second"]
    np.testing.assert_array_equal(members["first"], np.arange(5))
    np.testing.assert_array_equal(members["second"], np.eye(3))
    only = cscore.read_npz(tmp_path / "a.npz", keys="second")
    assert list(only) == ["second"]


def test_read_csv_columns(tmp_path):
    (tmp_path / "a.csv").write_text('id,"score",note\n0,0.5,x\n1,,"y, z"\n2,-1e-3,w\n')
    columns = cscore.read_csv_columns(tmp_path / "a.csv", ["score", "id"])
    assert list(columns) == ["score", "id"]
    np.testing.assert_array_equal(columns["id"], [0.0, 1.0, 2.0])
    assert columns["score"][0] == 0.5
    assert np.isnan(columns["score"][1])


def read_idx(path):
    """Parse an IDX file directly: magic, dimensions, then the bytes."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


@pytest.mark.skipif(not os.path.isdir(cscore.FASHION_MNIST_DIR), reason="dataset-fashion-mnist is not installed")
def test_load_idx_dataset_matches_files():
    data = cscore.load_idx_dataset(train_count=100)
    images = read_idx(os.path.join(cscore.FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz"))[:100]
    labels = read_idx(os.path.join(cscore.FASHION_MNIST_DIR, "train-labels-idx1-ubyte.gz"))[:100]
    assert data.train_inputs.shape == (100, 784)
    assert data.train_inputs.dtype == np.float32
    np.testing.assert_array_equal(data.train_inputs, images.reshape(100, -1) / np.float32(255))
    np.testing.assert_array_equal(data.train_labels, labels)
    assert data.test_inputs.shape == (10000, 784)
    assert data.n_classes == 10

    labels_only = data.test_labels
    del data
    gc.collect()
    assert labels_only.sum() == 45000  # 1,000 test images per class
