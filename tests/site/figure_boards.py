"""The four benchmarks built tiny with scored entries, for the comparison-figure tests (pages and browser).

Classification and face entries are scored by the real evaluator from
outputs made here; cartoonization entries are bundled baselines run by the
real evaluation job (local runner), which also keeps their outputs on the
development photos.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from baselines.registry import get_baseline
from benchmarks.models import Benchmark
from benchmarks.sync import sync_benchmarks
from datasets.build import BuiltBenchmark, build_benchmark, load_built
from datasets.spec import load_spec
from evaluator.contract import input_items
from evaluator.scoring import score_outputs
from jobs import evaluation
from results.store import save_result
from submissions.models import Kind, Status, Submission

SLUGS = ("toonnet", "illustration", "icartoonface", "cartoonization")
SECRET = "figure-tests-build-secret-" + "5d" * 16
RESAMPLES = 50


def build_boards(root: Path) -> Path:
    """Build every benchmark tiny under ``root`` as a server split (keyed by a test secret)."""
    for slug in SLUGS:
        build_benchmark(slug, root, profile="tiny", secret=SECRET)
    (root / ".build-secret").write_text(SECRET + "\n")
    return root


def sync_boards(root: Path) -> dict[str, Benchmark]:
    sync_benchmarks(root, specs=[load_spec(slug) for slug in SLUGS])
    return {slug: Benchmark.objects.get(slug=slug) for slug in SLUGS}


def face_embeddings(built: BuiltBenchmark, noise: float, seed: int) -> np.ndarray:
    """One-hot identity embeddings blurred by Gaussian noise: more noise, worse curves."""
    items = input_items(built)
    identities = sorted({str(item.identity) for item in items})
    rows = np.eye(len(identities), dtype=np.float32)[[identities.index(str(item.identity)) for item in items]]
    return rows + np.random.default_rng(seed).normal(scale=noise, size=rows.shape).astype(np.float32)


def face_entry(owner: AbstractBaseUser, benchmark: Benchmark, root: Path, noise: float, method: str, seed: int = 3,
               **fields: object) -> Submission:
    """A finished predictions entry on icartoonface, its embeddings scored by the real evaluator."""
    built = load_built("icartoonface", root)
    with tempfile.TemporaryDirectory() as output:
        np.save(Path(output) / "embeddings.npy", face_embeddings(built, noise, seed))
        result = score_outputs(built, Path(output), resamples=RESAMPLES)
    submission = Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind=Kind.PREDICTIONS,
        method_name=method, is_public=True, status=Status.FINISHED, finished_at=timezone.now(), **fields)
    save_result(submission, result)
    return submission


def cartoon_baseline(owner: AbstractBaseUser, benchmark: Benchmark, name: str) -> Submission:
    """A bundled cartoonization baseline, run and scored by the real evaluation job."""
    baseline = get_baseline(name)
    submission = Submission.objects.create(
        owner=owner, benchmark=benchmark, protocol=benchmark.current_version(), kind=Kind.LOCAL,
        method_name=baseline.method, command=baseline.runner_command(), is_baseline=True, is_public=True)
    status = evaluation.evaluate(submission.pk)
    assert status == Status.FINISHED, Submission.objects.get(pk=submission.pk).status_reason
    return Submission.objects.get(pk=submission.pk)
