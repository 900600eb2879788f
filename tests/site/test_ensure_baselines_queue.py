"""With an engine, ``ensure_baselines`` trains the next baseline while images are built and pushed.

The runtime image (minutes on a cold engine) starts building on the
publishing thread when the run starts; training goes on meanwhile, and each
baseline is submitted as an image once its push ends. The engine and
registry are stood in for here (the publisher and the digest lookup); the
real path is tests/registry/test_baseline_images_submitted.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

import seeding.baselines
from baselines.registry import Baseline, all_baselines
from benchmarks.sync import sync_benchmarks
from datasets.build import build_benchmark
from datasets.spec import load_spec
from seeding.baselines import ensure_baselines
from seeding.images import PublishFailed
from submissions.models import Kind, Status, Submission

pytestmark = pytest.mark.django_db(transaction=False)

REFUSED = "cartoon-whitebox"
DIGEST = "sha256:" + "ab" * 32


class SlowRuntimePublisher:
    """Builds its runtime only once a baseline has trained (or after 30 s), and refuses ``refused``'s push."""

    def __init__(self, refused: str = REFUSED) -> None:
        self.journal: list[str] = []
        self.trained = threading.Event()
        self.refused = refused

    def prepare(self) -> None:
        self.journal.append("runtime started")
        self.trained.wait(timeout=30)
        self.journal.append("runtime built")

    def publish(self, baseline: Baseline, checkpoint: Path | None) -> str:
        if baseline.name == self.refused:
            raise PublishFailed(f"push to registry.test/toonbench/{baseline.name} failed: denied")
        self.journal.append(f"pushed {baseline.name}")
        return f"registry.test/toonbench/{baseline.name}:{baseline.name[:12]}"


@pytest.fixture
def cartoonization(site: Settings, data_root: Path) -> Path:
    build_benchmark("cartoonization", data_root, profile="tiny")
    sync_benchmarks(data_root, specs=[load_spec("cartoonization")])
    return data_root


def test_training_goes_on_while_the_runtime_image_builds_and_each_pushed_image_is_submitted(
    cartoonization: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = SlowRuntimePublisher()
    train = seeding.baselines.ensure_checkpoint

    def trained_then_noted(baseline, built):  # type: ignore[no-untyped-def]
        checkpoint = train(baseline, built)
        if baseline.needs_training:
            publisher.journal.append(f"trained {baseline.name}")
            publisher.trained.set()
        return checkpoint

    monkeypatch.setattr(seeding.baselines, "ensure_checkpoint", trained_then_noted)
    monkeypatch.setattr("submissions.services.pinned_image", lambda owner, ref: f"{ref.rsplit(':', 1)[0]}@{DIGEST}")

    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, publisher=publisher)

    journal = publisher.journal
    first_trained = next(line for line in journal if line.startswith("trained "))
    assert journal[0] == "runtime started"
    assert journal.index(first_trained) < journal.index("runtime built")
    assert all(journal.index(line) > journal.index("runtime built") for line in journal if line.startswith("pushed "))
    cartoon = [b for b in all_baselines() if b.benchmark == "cartoonization"]
    assert sorted(report.submitted) == sorted(b.name for b in cartoon if b.name != REFUSED)
    assert report.skipped == [f"{REFUSED}: push to registry.test/toonbench/{REFUSED} failed: denied"]
    submissions = Submission.objects.filter(benchmark__slug="cartoonization")
    assert submissions.count() == len(cartoon) - 1
    for submission in submissions:
        name = next(b.name for b in cartoon if b.method == submission.method_name)
        assert submission.kind == Kind.IMAGE and submission.is_baseline and submission.status == Status.QUEUED
        assert submission.image_ref == f"registry.test/toonbench/{name}:{name[:12]}"
        assert submission.resolved_ref == f"registry.test/toonbench/{name}@{DIGEST}"


def test_a_run_with_every_baseline_present_builds_no_runtime_image(
    cartoonization: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("submissions.services.pinned_image", lambda owner, ref: f"{ref.rsplit(':', 1)[0]}@{DIGEST}")
    first = SlowRuntimePublisher(refused="")
    first.trained.set()
    ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, publisher=first)
    again = SlowRuntimePublisher(refused="")

    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, publisher=again)

    assert "runtime built" in first.journal
    assert again.journal == []
    assert report.submitted == [] and len(report.present) == len([b for b in all_baselines() if b.benchmark == "cartoonization"])


def test_a_runtime_image_that_fails_to_build_skips_every_image_with_the_reason(
    cartoonization: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seeding.images import ImagePublisher

    def no_runtime(client, log):  # type: ignore[no-untyped-def]
        raise RuntimeError("installing the runtime's wheels failed (exit 1); see the lines above")

    monkeypatch.setattr("seeding.images.ensure_runtime_image", no_runtime)
    publisher = ImagePublisher(client=object(), log=lambda line: None)

    report = ensure_baselines(cartoonization, benchmarks=["cartoonization"], log=lambda line: None, publisher=publisher)

    cartoon = [b.name for b in all_baselines() if b.benchmark == "cartoonization"]
    assert report.submitted == []
    assert sorted(report.skipped) == sorted(
        f"{name}: runtime image build failed: installing the runtime's wheels failed (exit 1); see the lines above"
        for name in cartoon
    )
    assert not Submission.objects.filter(benchmark__slug="cartoonization").exists()
