"""Density proxies against a direct numpy evaluation of the same sums."""

import numpy as np
import pytest

import cscore


@pytest.fixture
def clusters():
    """Three Gaussian clusters in 6 dimensions, labels mostly by cluster."""
    rng = np.random.default_rng(6)
    centres = rng.normal(scale=3.0, size=(3, 6))
    cluster = rng.integers(0, 3, size=240)
    features = (centres[cluster] + rng.normal(size=(240, 6))).astype(np.float32)
    labels = np.where(rng.random(240) < 0.9, cluster, rng.integers(0, 3, size=240)).astype(np.int32)
    return features, labels


def direct_scores(features, labels, h, queries=None, query_labels=None):
    """Evaluate KDE +-L, L and class-free in float64 with numpy."""
    reference = features.astype(np.float64)
    points = reference if queries is None else queries.astype(np.float64)
    point_labels = labels if query_labels is None else query_labels
    distances = ((points[:, None, :] - reference[None, :, :]) ** 2).sum(axis=2)
    kernel = np.exp(-distances / h**2)
    if queries is None:
        np.fill_diagonal(kernel, 0.0)
    same = point_labels[:, None] == labels[None, :]
    n = len(reference)
    return {
        "kde_pm": (kernel * np.where(same, 1.0, -1.0)).sum(axis=1) / n,
        "kde_l": (kernel * same).sum(axis=1) / n,
        "kde_free": kernel.sum(axis=1) / n,
    }


def half_mean_distance(features):
    points = features.astype(np.float64)
    distances = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    n = len(points)
    return distances.sum() / (n * (n - 1)) / 2


def test_bandwidth_is_half_mean_distance(clusters):
    features, _ = clusters
    h, se = cscore.kde_bandwidth(features)
    assert h == pytest.approx(half_mean_distance(features), rel=1e-5)
    assert se == 0.0


def test_exact_scores_match_numpy(clusters):
    features, labels = clusters
    result = cscore.kde_scores(features, labels, threads=2)
    assert result.bandwidth == pytest.approx(half_mean_distance(features), rel=1e-5)
    assert result.reference_count == len(labels)
    expected = direct_scores(features, labels, result.bandwidth)
    for name in cscore.SCORES:
        assert result[name].dtype == np.float32
        np.testing.assert_allclose(result[name], expected[name], rtol=0, atol=1e-5, err_msg=name)


def test_given_bandwidth_and_free_only_without_labels(clusters):
    features, labels = clusters
    result = cscore.kde_scores(features, outputs=["kde_free"], bandwidth=2.0)
    assert list(result.scores) == ["kde_free"]
    assert result.bandwidth == 2.0
    expected = direct_scores(features, labels, 2.0)["kde_free"]
    np.testing.assert_allclose(result["kde_free"], expected, rtol=0, atol=1e-5)


def test_sampled_method_ranks_like_exact(clusters):
    features, labels = clusters
    exact = cscore.kde_scores(features, labels, bandwidth=3.0)
    options = cscore.KdeOptions(method="sampled", reference_size=160, seed=3)
    sampled = cscore.kde_scores(features, labels, options=options, bandwidth=3.0)
    assert sampled.reference_count < len(labels)
    assert cscore.spearman(exact["kde_pm"], sampled["kde_pm"]) > 0.9


def test_query_matches_numpy(clusters):
    features, labels = clusters
    reference, queries = features[:200], features[200:]
    result = cscore.kde_query(reference, labels[:200], queries, labels[200:], bandwidth=2.5)
    expected = direct_scores(reference, labels[:200], 2.5, queries, labels[200:])
    for name in cscore.SCORES:
        np.testing.assert_allclose(result[name], expected[name], rtol=0, atol=1e-5, err_msg=name)


def test_float64_features_give_float32_result(clusters):
    features, labels = clusters
    direct = cscore.kde_scores(features, labels, bandwidth=2.0)
    converted = cscore.kde_scores(features.astype(np.float64), labels.astype(np.int64), bandwidth=2.0)
    np.testing.assert_array_equal(direct["kde_pm"], converted["kde_pm"])


def test_neighbor_scores_or_unsupported(clusters):
    features, labels = clusters
    try:
        result = cscore.kde_scores(features, labels, outputs=cscore.NEIGHBOR_SCORES, neighbors=5)
    except cscore.Error as error:
        # A build without FAISS reports the missing feature.
        assert error.status == cscore.Status.E_UNSUPPORTED
        return
    distances = ((features[:, None, :].astype(np.float64) - features[None, :, :]) ** 2).sum(axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :5]
    agree = (labels[nearest] == labels[:, None]).mean(axis=1)
    np.testing.assert_allclose(result["knn_agree"], agree, atol=1e-6)
    assert result.knn_missing == 0
