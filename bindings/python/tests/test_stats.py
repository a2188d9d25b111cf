"""Rank statistics against scipy.stats on the same data."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

import cscore


@pytest.fixture
def pairs():
    """Correlated pairs with ties on both sides and a few NaNs."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 20, size=500).astype(np.float64)
    y = x + rng.normal(scale=6.0, size=500).round()
    x[[3, 50]] = np.nan
    y[[7]] = np.nan
    return x, y


def finite(x, y):
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def test_ranks_match_rankdata(pairs):
    x, _ = pairs
    ranks = cscore.ranks(x)
    keep = ~np.isnan(x)
    np.testing.assert_allclose(ranks[keep], scipy_stats.rankdata(x[keep]), rtol=0, atol=1e-12)
    assert np.isnan(ranks[~keep]).all()


def test_spearman_matches_scipy(pairs):
    x, y = pairs
    expected = scipy_stats.spearmanr(*finite(x, y)).correlation
    assert cscore.spearman(x, y) == pytest.approx(expected, abs=1e-12)


def test_kendall_matches_scipy(pairs):
    x, y = pairs
    expected = scipy_stats.kendalltau(*finite(x, y), variant="b").correlation
    assert cscore.kendall_tau_b(x, y) == pytest.approx(expected, abs=1e-12)


def test_auroc_matches_mann_whitney():
    rng = np.random.default_rng(5)
    labels = (rng.random(400) < 0.3).astype(np.float64)
    scores = rng.integers(0, 10, size=400) + 2 * labels
    positives, negatives = scores[labels == 1], scores[labels == 0]
    u = scipy_stats.mannwhitneyu(positives, negatives).statistic
    expected = u / (len(positives) * len(negatives))
    assert cscore.auroc(scores, labels) == pytest.approx(expected, abs=1e-12)


def test_mask_and_indices_select_the_same_subset(pairs):
    x, y = pairs
    mask = np.zeros(len(x), dtype=bool)
    mask[::3] = True
    expected = scipy_stats.spearmanr(*finite(x[mask], y[mask])).correlation
    assert cscore.spearman(x, y, mask=mask) == pytest.approx(expected, abs=1e-12)
    assert cscore.spearman(x, y, mask=mask.astype(np.uint8)) == pytest.approx(expected, abs=1e-12)
    indices = np.flatnonzero(mask)[::-1]
    assert cscore.spearman(x, y, indices=indices) == pytest.approx(expected, abs=1e-12)


def test_undefined_statistic_is_nan():
    assert np.isnan(cscore.spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert np.isnan(cscore.auroc([1.0, 2.0], [1.0, 1.0]))


def test_bootstrap_interval_is_seeded(pairs):
    x, y = pairs
    first = cscore.bootstrap_interval("spearman", x, y, resamples=200, seed=7)
    again = cscore.bootstrap_interval("spearman", x, y, resamples=200, seed=7)
    other = cscore.bootstrap_interval("spearman", x, y, resamples=200, seed=8)
    assert first == again
    assert first != other
    assert first.lower < first.estimate < first.upper
    assert first.estimate == pytest.approx(cscore.spearman(x, y), abs=1e-12)
    assert first.n_used == len(finite(x, y)[0])
    assert first.resamples == 200


def test_integer_and_float32_inputs_accepted():
    x = np.arange(10, dtype=np.int32)
    assert cscore.kendall_tau_b(x, x.astype(np.float32)) == pytest.approx(1.0)
