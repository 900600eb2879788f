"""With an engine and the registry, ``ensure_baselines`` submits each baseline as a participant's image would be.

The baseline's image is built, pushed under the baseline owner's namespace,
pinned to its digest, pulled by the worker (the local copies are removed
first), run by the Docker runner with the spec's limits fitted to the host,
and scored to the same numbers as its predict code run outside a container.
A second run reuses image and result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_helpers import forget, has
from baselines.registry import get_baseline
from jobs import evaluation
from submissions.models import Kind, Status, Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.docker, pytest.mark.slow]

BASELINE = "toonnet-resnet"


@pytest.fixture
def one_baseline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only toonnet-resnet, its checkpoint trained into this test's folder."""
    import seeding.baselines

    monkeypatch.setattr(seeding.baselines, "all_baselines", lambda: [get_baseline(BASELINE)])
    monkeypatch.setenv("TOONBENCH_CHECKPOINTS", str(tmp_path / "checkpoints"))


def expected_top1_error(built, checkpoint: Path, workdir: Path) -> float:  # type: ignore[no-untyped-def]
    from baselines.evaluation import run_prediction
    from evaluator.scoring import score_outputs

    outputs = run_prediction(get_baseline(BASELINE), built, checkpoint, workdir)
    return float(score_outputs(built, outputs, resamples=10).metrics["top1_error"])


def test_a_baseline_is_pushed_pinned_pulled_and_scored_like_a_participants_image(  # type: ignore[no-untyped-def]
    live_server, platform_registry, toonnet, toonnet_built, data_root, engine, one_baseline, tmp_path
) -> None:
    from baselines.checkpoints import checkpoint_path
    from seeding.baselines import BASELINE_OWNER, ensure_baselines

    lines: list[str] = []
    report = ensure_baselines(data_root, benchmarks=["toonnet"], log=lines.append)

    assert report.submitted == [BASELINE], (report, lines[-5:])
    submission = Submission.objects.get(method_name=get_baseline(BASELINE).method)
    repository = f"{platform_registry.address}/{BASELINE_OWNER}/{BASELINE}"
    assert submission.kind == Kind.IMAGE and submission.is_baseline and submission.owner.username == BASELINE_OWNER
    assert submission.image_ref.startswith(f"{repository}:")
    assert submission.resolved_ref.startswith(f"{repository}@sha256:")
    forget(engine, submission.image_ref, submission.resolved_ref)  # what runs comes from the registry

    assert evaluation.evaluate(submission.pk, worker="baseline-test") == Status.FINISHED
    submission.refresh_from_db()
    assert submission.status == Status.FINISHED, submission.status_reason
    assert has(engine, submission.resolved_ref)
    assert submission.effective_limits["memory_gb"] > 0 and submission.effective_limits["timeout_s"] > 0
    checkpoint = checkpoint_path("toonnet", BASELINE, toonnet_built.protocol_hash)
    expected = expected_top1_error(toonnet_built, checkpoint, tmp_path / "local")
    assert submission.result.metrics["top1_error"] == pytest.approx(expected, abs=1e-12)

    again = ensure_baselines(data_root, benchmarks=["toonnet"], log=lines.append)
    assert again.submitted == [] and again.present == [BASELINE]
    assert Submission.objects.filter(is_baseline=True).count() == 1
    forget(engine, submission.resolved_ref)
