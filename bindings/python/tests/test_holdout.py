"""Merging holdout record files, against `cscore holdout-merge`."""

import numpy as np
import pytest

import cscore
from conftest import run_cli

# A tiny estimate: 300 examples, two ratios, two runs each, one epoch of a
# 16-unit network, split into two slices written to separate files.
ESTIMATE = ["--first", "300", "--ratios", "30,50", "--runs", "2", "--epochs", "1", "--hidden", "16", "--threads", "1"]


@pytest.fixture(scope="module")
def records(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("holdout")
    files = []
    for index in range(2):
        path = folder / f"slice{index}.records"
        run_cli(cli, "holdout", *ESTIMATE, "--slice", f"{index}/2", "--records", path, "--out", folder / f"s{index}.npz")
        files.append(path)
    run_cli(cli, "holdout-merge", "--records", *files, "--out", folder / "merged.npz")
    return files, np.load(folder / "merged.npz")


def test_merge_matches_cli(records):
    files, expected = records
    estimate = cscore.merge_holdout_records(files)
    assert estimate.ratios == (30, 50)
    assert estimate.n_examples == 300
    table = estimate.to_dict()
    assert sorted(table) == sorted(key for key in expected.files if key != "labels")
    for key, values in table.items():
        assert values.dtype == expected[key].dtype, key
        np.testing.assert_array_equal(values, expected[key], err_msg=key)


def test_summary_and_counts(records):
    files, _ = records
    estimate = cscore.merge_holdout_records(*files)
    summary = estimate.summary
    assert summary.runs_done == 4
    assert summary.records_read == 4
    assert summary.runs_planned == -1
    heldout, correct, runs = estimate.counts(50)
    assert runs == 2
    assert (correct <= heldout).all()
    # Each run of ratio 50 holds out 150 of the 300 examples.
    assert heldout.sum() == 2 * 150
    scores = estimate.scores(50)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(scores.score, np.where(heldout > 0, correct / heldout, np.nan))
    assert "hidden=16 epochs=1" in estimate.recipe


def test_duplicate_files_count_once(records):
    files, _ = records
    estimate = cscore.merge_holdout_records(files + files)
    assert estimate.summary.runs_done == 4
    assert estimate.summary.records_duplicate == 4


def test_to_npz_matches_cli(records, tmp_path):
    files, expected = records
    cscore.merge_holdout_records(files).to_npz(tmp_path / "mine.npz")
    mine = np.load(tmp_path / "mine.npz")
    assert sorted(mine.files) == sorted(expected.files)
    for key in expected.files:
        np.testing.assert_array_equal(mine[key], expected[key], err_msg=key)
