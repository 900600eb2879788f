"""Scoring end to end on tiny built benchmarks, against independent computations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve, top_k_accuracy_score

from datasets.build import BuiltBenchmark, build_benchmark
from evaluator.contract import input_items
from evaluator.scoring import EvaluationResult, score, score_outputs
from evaluator.tasks import task_of
from evaluator.validation import OutputError

RESAMPLES = 200


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


def built(data_root: Path, slug: str) -> BuiltBenchmark:
    return build_benchmark(slug, data_root, profile="tiny")


@pytest.fixture(scope="module")
def toonnet(data_root) -> BuiltBenchmark:
    return built(data_root, "toonnet")


@pytest.fixture(scope="module")
def illustration(data_root) -> BuiltBenchmark:
    return built(data_root, "illustration")


@pytest.fixture(scope="module")
def faces(data_root) -> BuiltBenchmark:
    return built(data_root, "icartoonface")


@pytest.fixture(scope="module")
def cartoonization(data_root) -> BuiltBenchmark:
    return built(data_root, "cartoonization")


def true_classes(benchmark: BuiltBenchmark) -> np.ndarray:
    return np.array([benchmark.spec.classes.index(item.label) for item in input_items(benchmark)])


def write_scores(folder: Path, scores: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "scores.npy", scores.astype(np.float32))
    return folder


def random_scores(benchmark: BuiltBenchmark, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((len(input_items(benchmark)), len(benchmark.spec.classes))).astype(np.float32)


# ---------------------------------------------------------------- classification

def test_perfect_scores_give_zero_error_with_a_zero_interval(toonnet, tmp_path):
    labels = true_classes(toonnet)
    scores = np.eye(len(toonnet.spec.classes), dtype=np.float32)[labels]
    result = score_outputs(toonnet, write_scores(tmp_path, scores), resamples=RESAMPLES)
    assert result.metrics == {"top1_error": 0.0, "top3_error": 0.0}
    assert result.ci95 == {"top1_error": (0.0, 0.0), "top3_error": (0.0, 0.0)}
    assert result.protocol_hash == toonnet.protocol_hash and result.extractor is None and result.comparable


def test_top_k_errors_match_scikit_learn(toonnet, tmp_path):
    scores = random_scores(toonnet, seed=1)
    labels = true_classes(toonnet)
    everything = list(range(len(toonnet.spec.classes)))
    result = score_outputs(toonnet, write_scores(tmp_path, scores), resamples=RESAMPLES)
    for k in (1, 3):
        expected = 1.0 - top_k_accuracy_score(labels, scores, k=k, labels=everything)
        assert result.metrics[f"top{k}_error"] == pytest.approx(expected, abs=1e-12)


def test_a_known_permutation_of_classes_gives_the_hand_counted_error(toonnet, tmp_path):
    labels = true_classes(toonnet)
    classes = len(toonnet.spec.classes)
    shifted = labels.copy()
    shifted[::4] = (labels[::4] + 1) % classes  # every fourth item predicted as the next class
    scores = np.eye(classes, dtype=np.float32)[shifted]
    scores[np.arange(len(labels))[::4], labels[::4]] = 0.5  # the true class comes second for those items
    result = score_outputs(toonnet, write_scores(tmp_path, scores), resamples=RESAMPLES)
    wrong = len(labels[::4])
    assert result.metrics["top1_error"] == pytest.approx(wrong / len(labels))
    assert result.metrics["top3_error"] == 0.0


def test_top_k_precision_and_per_class_details_match_scikit_learn(illustration, tmp_path):
    scores = random_scores(illustration, seed=2)
    labels = true_classes(illustration)
    everything = list(range(len(illustration.spec.classes)))
    result = score_outputs(illustration, write_scores(tmp_path, scores), resamples=RESAMPLES)
    for k in (1, 5):
        expected = top_k_accuracy_score(labels, scores, k=k, labels=everything)
        assert result.metrics[f"top{k}_precision"] == pytest.approx(expected)
    spec_ks = {metric.params["k"] for metric in illustration.spec.metrics if metric.fn.startswith("topk")}
    assert set(result.details["classification"]["per_class_precision"]) == {f"top{k}" for k in spec_ks}
    per_class = result.details["classification"]["per_class_precision"]["top1"]
    hits = scores.argmax(axis=1) == labels
    for index in range(len(everything)):
        members = labels == index
        expected = hits[members].mean() if members.any() else None
        assert per_class[index] == (pytest.approx(expected) if expected is not None else None)


def test_csv_scores_in_shuffled_row_order_score_like_the_npy(illustration, tmp_path):
    scores = random_scores(illustration, seed=3)
    ids = [item.id for item in input_items(illustration)]
    order = np.random.default_rng(4).permutation(len(ids))
    header = ",".join(["id", *illustration.spec.classes])
    rows = [",".join([ids[i], *(repr(float(v)) for v in scores[i])]) for i in order]
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "scores.csv").write_text("\n".join([header, *rows]) + "\n")
    from_csv = score_outputs(illustration, tmp_path / "csv", resamples=RESAMPLES)
    from_npy = score_outputs(illustration, write_scores(tmp_path / "npy", scores), resamples=RESAMPLES)
    assert from_csv.metrics == from_npy.metrics and from_csv.ci95 == from_npy.ci95


def test_the_interval_is_the_documented_seeded_percentile_bootstrap(toonnet, tmp_path):
    scores = random_scores(toonnet, seed=5)
    wrong = (scores.argmax(axis=1) != true_classes(toonnet)).astype(float)
    indices = np.random.default_rng(0).integers(0, len(wrong), size=(RESAMPLES, len(wrong)))
    expected = np.percentile(wrong[indices].mean(axis=1), [2.5, 97.5])
    result = score_outputs(toonnet, write_scores(tmp_path, scores), resamples=RESAMPLES)
    assert result.ci95["top1_error"] == pytest.approx(tuple(expected))
    again = score_outputs(toonnet, tmp_path, resamples=RESAMPLES)
    assert again.ci95 == result.ci95


def test_bad_output_fails_before_any_metric(toonnet, tmp_path):
    write_scores(tmp_path, random_scores(toonnet, seed=6)[:-1])
    with pytest.raises(OutputError, match="rows, expected"):
        score_outputs(toonnet, tmp_path)


def test_score_by_slug_reads_the_built_benchmark_and_the_result_round_trips(toonnet, data_root, tmp_path):
    write_scores(tmp_path, random_scores(toonnet, seed=7))
    result = score("toonnet", tmp_path, data_root, resamples=RESAMPLES)
    assert result.slug == "toonnet" and result.protocol_hash == toonnet.protocol_hash
    restored = EvaluationResult.from_json(json.loads(json.dumps(result.to_json())))
    assert restored == result


def test_score_by_slug_names_the_missing_benchmark(tmp_path):
    with pytest.raises(FileNotFoundError, match="not built"):
        score("toonnet", tmp_path / "output", tmp_path / "empty-root")


# ---------------------------------------------------------------- identification and verification

def identity_rows(benchmark: BuiltBenchmark) -> tuple[dict[str, int], list[str]]:
    items = input_items(benchmark)
    return {item.id: row for row, item in enumerate(items)}, [str(item.identity) for item in items]


def write_embeddings(folder: Path, embeddings: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "embeddings.npy", embeddings.astype(np.float32))
    return folder


def test_one_hot_identity_embeddings_identify_and_verify_perfectly(faces, tmp_path):
    _, identities = identity_rows(faces)
    names = sorted(set(identities))
    embeddings = np.eye(len(names), dtype=np.float32)[[names.index(i) for i in identities]]
    result = score_outputs(faces, write_embeddings(tmp_path, embeddings), resamples=RESAMPLES)
    assert result.metrics["rank1"] == 1.0 and result.metrics["rank10"] == 1.0
    assert result.metrics["auc"] == 1.0 and result.metrics["verification_accuracy"] == 1.0
    assert result.details["identification"]["cmc"][0] == 1.0


def brute_force_ranks(benchmark: BuiltBenchmark, embeddings: np.ndarray) -> np.ndarray:
    """Each probe against the distractors plus its own identity's gallery image (ties count against)."""
    row, identities = identity_rows(benchmark)
    unit = embeddings.astype(np.float64) / np.linalg.norm(embeddings.astype(np.float64), axis=1, keepdims=True)
    distractors = [row[d] for d in benchmark.roles.distractors]
    ranks = []
    for probe in benchmark.roles.probes:
        true = [g for g in benchmark.roles.gallery if g not in set(benchmark.roles.distractors)
                and identities[row[g]] == identities[row[probe]]]
        assert len(true) == 1
        target = unit[row[true[0]]] @ unit[row[probe]]
        ranks.append(1 + int((unit[distractors] @ unit[row[probe]] >= target).sum()))
    return np.array(ranks)


def test_random_embeddings_match_a_brute_force_numpy_reference(faces, tmp_path):
    embeddings = np.random.default_rng(8).normal(size=(len(input_items(faces)), 16)).astype(np.float32)
    result = score_outputs(faces, write_embeddings(tmp_path, embeddings), resamples=RESAMPLES)
    ranks = brute_force_ranks(faces, embeddings)
    for k in (1, 5, 10):
        assert result.metrics[f"rank{k}"] == pytest.approx(np.mean(ranks <= k))
    row, _ = identity_rows(faces)
    unit = embeddings.astype(np.float64) / np.linalg.norm(embeddings.astype(np.float64), axis=1, keepdims=True)
    similarities = np.array([unit[row[a]] @ unit[row[b]] for a, b, _ in faces.roles.pairs])
    same = np.array([s for _, _, s in faces.roles.pairs])
    assert result.metrics["auc"] == pytest.approx(roc_auc_score(same, similarities))
    fpr, tpr, _ = roc_curve(same, similarities, drop_intermediate=False)
    assert result.metrics["tar_at_far_1e2"] == pytest.approx(tpr[fpr <= 1e-2].max())
    assert set(result.ci95) == {metric.name for metric in faces.spec.metrics if metric.leaderboard}


def test_face_results_draw_a_cmc_a_distractor_curve_and_a_roc(faces, tmp_path):
    from evaluator.plots import draw_all

    embeddings = np.random.default_rng(9).normal(size=(len(input_items(faces)), 8)).astype(np.float32)
    result = score_outputs(faces, write_embeddings(tmp_path / "output", embeddings), resamples=20)
    drawn = draw_all(result, tmp_path / "plots", task_of(faces.spec).figures)
    assert [path.name for path in drawn] == ["cmc.png", "rank1_vs_distractors.png", "roc.png"]
    assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in drawn)


# ---------------------------------------------------------------- translation

def copy_photos_as_outputs(benchmark: BuiltBenchmark, folder: Path) -> Path:
    (folder / "images").mkdir(parents=True)
    for item in input_items(benchmark):
        shutil.copyfile(benchmark.folder / item.path, folder / "images" / f"{item.id}.png")
    return folder


@pytest.mark.slow
def test_outputs_equal_to_the_inputs_have_zero_fid_with_real(cartoonization, tmp_path):
    output = copy_photos_as_outputs(cartoonization, tmp_path / "output")
    result = score_outputs(cartoonization, output, extractor="seeded-inception", resamples=5, device="cpu")
    assert result.metrics["fid_real"] == pytest.approx(0.0, abs=1e-6)
    assert result.metrics["fid_cartoon"] > 1e-3
    assert result.extractor["name"] == "seeded-inception" and len(result.extractor["weights_sha256"]) == 64
    assert result.comparable is False
    assert set(result.ci95) == {metric.name for metric in cartoonization.spec.metrics if metric.leaderboard}


def test_the_standard_extractor_is_the_default_and_missing_weights_are_reported(cartoonization, tmp_path, monkeypatch):
    from evaluator.metrics.inception import find_standard_weights

    monkeypatch.delenv("TOONBENCH_FID_WEIGHTS", raising=False)
    try:
        find_standard_weights()
    except FileNotFoundError:
        pass
    else:
        pytest.skip("the standard FID weights are installed here")
    output = copy_photos_as_outputs(cartoonization, tmp_path / "output")
    with pytest.raises(FileNotFoundError):
        score_outputs(cartoonization, output, device="cpu")
