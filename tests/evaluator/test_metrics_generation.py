"""Fréchet distance, KID and the FID feature extractor against scipy, numpy and pytorch-fid."""

import json

import numpy as np
import pytest
from PIL import Image
from scipy import linalg

from evaluator.metrics import METRICS
from evaluator.metrics.frechet import fid_from_features, frechet_distance, gaussian_stats, kid, kid_subsets
from evaluator.metrics.generation import GenerationEvidence
from evaluator.metrics.inception import FID_WEIGHTS_FILE, FidWeightsMissing, load_extractor, seeded_state_dict
from evaluator.metrics.bootstrap import bootstrap_ci
from evaluator.metrics.intervals import jackknife_ci, metric_interval


def random_gaussian(dim, seed):
    rng = np.random.default_rng(seed)
    factor = rng.standard_normal((dim, dim))
    return rng.standard_normal(dim), factor @ factor.T / dim


def scipy_frechet(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2).real
    return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def test_gaussian_stats_are_numpy_mean_and_unbiased_covariance():
    features = np.random.default_rng(3).standard_normal((20, 4)).astype(np.float32)
    mu, sigma = gaussian_stats(features)
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64), rowvar=False, ddof=1))


@pytest.mark.parametrize("dim", [2, 8, 32])
def test_frechet_distance_equals_the_scipy_sqrtm_formula(dim):
    first, second = random_gaussian(dim, 0), random_gaussian(dim, 1)
    assert frechet_distance(*first, *second) == pytest.approx(scipy_frechet(*first, *second),
                                                              rel=1e-9)


def test_frechet_distance_handles_a_singular_covariance():
    mu1, _ = random_gaussian(12, 5)
    factor = np.random.default_rng(6).standard_normal((12, 4))
    sigma1 = factor @ factor.T  # rank 4
    mu2, sigma2 = random_gaussian(12, 7)
    root2 = linalg.sqrtm(sigma2).real  # S1 S2 and S2^1/2 S1 S2^1/2 share eigenvalues
    inner = linalg.sqrtm(root2 @ sigma1 @ root2).real
    diff = mu1 - mu2
    expected = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(inner)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-7)


def test_frechet_distance_of_a_gaussian_with_itself_is_zero():
    mu, sigma = random_gaussian(16, 2)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_is_symmetric():
    first, second = random_gaussian(16, 3), random_gaussian(16, 4)
    assert frechet_distance(*first, *second) == pytest.approx(frechet_distance(*second, *first),
                                                              rel=1e-10)


@pytest.mark.parametrize("rows_a, rows_b, dim", [(30, 40, 64), (200, 150, 8), (5, 300, 16)])
def test_fid_from_features_equals_scipy_on_numpy_covariances(rows_a, rows_b, dim):
    rng = np.random.default_rng(rows_a)
    a = rng.standard_normal((rows_a, dim))
    b = rng.standard_normal((rows_b, dim)) * 1.3 + 0.2
    expected = scipy_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert fid_from_features(a, b) == pytest.approx(expected, rel=1e-7)


def direct_kid(x, y):
    """Unbiased MMD^2, polynomial kernel (x.y/d + 1)^3, written out with loops."""
    d, m = x.shape[1], len(x)
    k = lambda u, v: (u @ v / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_on_whole_sets_equals_the_direct_formula():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.5
    assert kid(x, y, subsets=3, subset_size=12) == pytest.approx(direct_kid(x, y), rel=1e-10)


def test_kid_from_precomputed_kernels_equals_kid_per_subset():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((60, 5)), rng.standard_normal((50, 5)) + 0.2
    np.testing.assert_allclose(kid_subsets(x, y, subsets=7, subset_size=20, seed=3),
                               kid_subsets(x, y, subsets=7, subset_size=20, seed=3,
                                           max_kernel_entries=0), rtol=1e-10)


def test_kid_is_reproducible_for_a_seed_and_near_zero_for_one_distribution():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((400, 6)), rng.standard_normal((400, 6))
    assert kid(x, y, subsets=20, subset_size=100, seed=1) == kid(x, y, subsets=20,
                                                                  subset_size=100, seed=1)
    assert abs(kid(x, y, subsets=50, subset_size=100)) < 0.05
    assert kid(x, y + 1.0, subsets=50, subset_size=100) > 0.5


# ------------------------------------------------------------------ the extractor


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fid-images")
    rng = np.random.default_rng(0)
    paths = []
    for index, (size, mode) in enumerate([(32, "RGB"), (32, "RGB"), (32, "RGBA"), (48, "RGB")]):
        pixels = rng.integers(0, 256, (size, size, len(mode)), dtype=np.uint8)
        path = folder / f"{index}.png"
        Image.fromarray(pixels, mode).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def seeded(image_files):
    extractor = load_extractor("seeded-inception", device="cpu", batch_size=3, workers=2)
    return extractor, extractor(image_files)


def test_missing_standard_weights_name_both_places_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TOONBENCH_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(FidWeightsMissing) as error:
        load_extractor("pytorch-fid", device="cpu")
    message = str(error.value)
    assert str(tmp_path / "nowhere.pth") in message
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / FID_WEIGHTS_FILE) in message
    assert "6726825d" in message and "TOONBENCH_FID_WEIGHTS" in message


def test_an_unknown_extractor_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="seeded-inception"):
        load_extractor("inception-from-the-web", device="cpu")


@pytest.mark.slow
def test_seeded_extractor_is_deterministic_and_marked_non_standard(seeded, image_files):
    extractor, features = seeded
    assert extractor.standard is False and extractor.name == "seeded-inception"
    assert features.shape == (4, 2048) and features.dtype == np.float64
    assert np.isfinite(features).all() and features.std(axis=0).max() > 0
    again = load_extractor("seeded-inception", device="cpu", batch_size=4, workers=1)
    assert again.weights_sha256 == extractor.weights_sha256
    np.testing.assert_allclose(again(image_files), features, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_features_equal_pytorch_fid_get_activations_with_the_same_network(seeded, image_files):
    from pytorch_fid.fid_score import get_activations

    extractor, features = seeded
    expected = get_activations(image_files, extractor.model, batch_size=1, dims=2048,
                               device="cpu", num_workers=0)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_fid_of_an_image_set_with_itself_is_zero(seeded):
    _, features = seeded
    assert fid_from_features(features, features) == pytest.approx(0.0, abs=1e-6)
    assert fid_from_features(features, features[::-1]) == pytest.approx(0.0, abs=1e-6)
    assert fid_from_features(features[:3], features[1:]) > 0.0


@pytest.mark.slow
def test_a_weights_file_named_by_the_setting_is_used_and_its_hash_recorded(tmp_path, monkeypatch):
    import hashlib

    import torch

    weights = tmp_path / "inception.pth"
    torch.save(seeded_state_dict(), weights)
    monkeypatch.setenv("TOONBENCH_FID_WEIGHTS", str(weights))
    extractor = load_extractor("pytorch-fid", device="cpu")
    assert extractor.weights_sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert extractor.standard is False  # not the published file


# ------------------------------------------------------------------ evidence and metrics


def generation_evidence(seed=0):
    rng = np.random.default_rng(seed)
    return GenerationEvidence(
        output_features=rng.standard_normal((20, 6)),
        photo_features=rng.standard_normal((20, 6)) + 1.0,
        reference_features=rng.standard_normal((30, 6)) + 0.3,
        extractor_name="seeded-inception", weights_sha256="ab" * 32, standard=False)


def test_fid_metric_compares_outputs_with_the_chosen_reference():
    evidence = generation_evidence()
    definition = METRICS.get("fid")
    against_cartoons = definition.fn(evidence, definition.params_model(reference="cartoon"))
    against_photos = definition.fn(evidence, definition.params_model(reference="photo"))
    out, photo, ref = evidence.output_features, evidence.photo_features, evidence.reference_features
    assert against_cartoons == pytest.approx(scipy_frechet(
        out.mean(0), np.cov(out, rowvar=False), ref.mean(0), np.cov(ref, rowvar=False)))
    assert against_photos == pytest.approx(scipy_frechet(
        out.mean(0), np.cov(out, rowvar=False), photo.mean(0), np.cov(photo, rowvar=False)))
    assert definition.interval == "jackknife" and definition.higher_is_better is False
    for reference, estimate in (("cartoon", against_cartoons), ("photo", against_photos)):
        low, high = jackknife_ci(definition.fn, evidence, definition.params_model(reference=reference))
        assert low <= estimate <= high and high > low


def test_the_fid_and_kid_intervals_contain_their_estimate_where_the_bootstrap_did_not():
    """Wide features, few rows: every bootstrap resample repeats rows, so the resampled FIDs all
    land above the estimate and the old percentile interval missed it; the jackknife's holds it."""
    rng = np.random.default_rng(11)
    evidence = GenerationEvidence(
        output_features=rng.standard_normal((40, 64)), photo_features=rng.standard_normal((40, 64)),
        reference_features=rng.standard_normal((60, 64)) + 0.2,
        extractor_name="seeded-inception", weights_sha256="ab" * 32, standard=False)
    fid_definition, kid_definition = METRICS.get("fid"), METRICS.get("kid")
    fid_params = fid_definition.params_model(reference="cartoon")
    estimate = fid_definition.fn(evidence, fid_params)
    assert bootstrap_ci(fid_definition.fn, evidence, fid_params, resamples=50)[0] > estimate
    low, high = metric_interval(fid_definition, evidence, fid_params)
    assert low <= estimate <= high
    kid_params = kid_definition.params_model(reference="cartoon", subsets=5)
    low, high = metric_interval(kid_definition, evidence, kid_params)
    assert low <= kid_definition.fn(evidence, kid_params) <= high


def test_take_resamples_outputs_with_their_photos_and_keeps_the_reference():
    evidence = generation_evidence()
    taken = evidence.take(np.array([3, 3, 7]))
    np.testing.assert_array_equal(taken.output_features, evidence.output_features[[3, 3, 7]])
    np.testing.assert_array_equal(taken.photo_features, evidence.photo_features[[3, 3, 7]])
    assert taken.reference_features is evidence.reference_features
    details = json.loads(json.dumps(taken.details()))
    assert details["standard"] is False and details["extractor"] == "seeded-inception"
