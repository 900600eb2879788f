"""Put every bundled baseline on its benchmark's current leaderboard.

Baselines go through the same path as users' submissions. Where a Docker
engine and the platform registry answer (and the worker runs the Docker
runner), each baseline is an ``image`` submission: its image is built and
pushed to the baseline owner's namespace (``seeding.images``), pinned to its
digest, pulled by the worker and run in the sandbox with the spec's limits.
Elsewhere it falls back to a ``local`` submission (the baseline's predict
command run by the worker's Python), whose description says so and which
the leaderboard marks. Checkpoints are trained first when missing and are
reused on later runs (they are keyed by the protocol hash), as are images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model

from accounts.reserved import BASELINE_OWNER, ensure_baseline_owner
from baselines.checkpoints import ensure_checkpoint
from baselines.registry import Baseline, all_baselines
from benchmarks.models import Benchmark
from datasets.build import load_built
from seeding.images import ImagePublisher, PublishFailed, PublishQueue, image_publisher
from submissions.models import Kind, Status, Submission
from submissions.services import SubmissionRefused, create_submission

# A baseline already queued, running or finished on the current protocol is left alone;
# one that failed or was cancelled is submitted again.
KEPT_STATUSES = [Status.QUEUED, Status.RUNNING, Status.SCORING, Status.FINISHED]
QUEUED = "queued"
LOCAL_NOTE = ("Run as a local command by the worker's Python, outside the container sandbox: "
              "no Docker engine and registry answered when it was submitted.")


@dataclass
class BaselineReport:
    submitted: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, baseline: Baseline, outcome: str) -> None:
        """Record ``outcome``: "submitted", "present", "queued" (its image is on the way) or why it was skipped."""
        if outcome == "submitted":
            self.submitted.append(baseline.name)
        elif outcome == "present":
            self.present.append(baseline.name)
        elif outcome != QUEUED:
            self.skipped.append(f"{baseline.name}: {outcome}")


def baseline_owner():  # noqa: ANN201 (the configured user model)
    """The account accounts' migration 0001 made; restored the same way if it was deleted or can sign in.

    Signup refuses its name, so no participant can hold it in between.
    """
    owner = get_user_model().objects.filter(username=BASELINE_OWNER).first()
    if owner is None or owner.is_active or owner.has_usable_password():
        owner = ensure_baseline_owner(get_user_model())
    return owner


def ensure_baselines(
    data_root: Path,
    *,
    benchmarks: list[str] | None = None,
    log: Callable[[str], None] = print,
    publisher: ImagePublisher | None = None,
    use_images: bool | None = None,
) -> BaselineReport:
    """Train missing checkpoints and submit each baseline missing from its current protocol.

    ``use_images`` None: images when ``image_publisher`` finds an engine and
    the registry; False: local commands. Images are built and pushed on a
    background thread (``PublishQueue``) while the next baseline trains.
    """
    report = BaselineReport()
    owner = baseline_owner()
    if publisher is None and use_images is not False:
        publisher, reason = image_publisher(log)
        if publisher is None:
            log(f"baselines run as local commands: {reason}")
    queue = PublishQueue(publisher) if publisher is not None else None
    try:
        for baseline in in_submission_order(all_baselines()):
            if benchmarks and baseline.benchmark not in benchmarks:
                continue
            try:
                outcome = _submit_if_missing(baseline, data_root, owner, log, queue)
            except SubmissionRefused as error:
                outcome = str(error)
            report.add(baseline, outcome)
            if queue is not None:
                _submit_published(queue.finished(), owner, log, report)
        if queue is not None:
            _submit_published(queue.finished(wait=True), owner, log, report)
    finally:
        if queue is not None:
            queue.close()
    return report


def in_submission_order(baselines: list[Baseline]) -> list[Baseline]:
    """Benchmarks in their listing order, and within one, the baselines that learn nothing first.

    Leaderboards then fill one after another on a first run, each starting
    with the rows that cost no training.
    """
    listing = {slug: index for index, slug in enumerate(Benchmark.objects.values_list("slug", flat=True))}
    return sorted(baselines, key=lambda b: (listing.get(b.benchmark, len(listing)), b.needs_training, b.name))


def _submit_if_missing(baseline: Baseline, data_root: Path, owner, log: Callable[[str], None],  # noqa: ANN001
                       queue: PublishQueue | None) -> str:
    benchmark = Benchmark.objects.filter(slug=baseline.benchmark).first()
    protocol = benchmark.current_version() if benchmark else None
    if protocol is None:
        return f"benchmark {baseline.benchmark!r} has no built protocol (run sync_benchmarks)"
    already = Submission.objects.filter(
        protocol=protocol, is_baseline=True, method_name=baseline.method, status__in=KEPT_STATUSES
    )
    if queue is not None:
        already = already.filter(kind=Kind.IMAGE)  # a local run from a machine without an engine is redone as an image
    if already.exists():
        return "present"
    built = load_built(baseline.benchmark, data_root)
    if built.protocol_hash != protocol.protocol_hash:
        return f"built data ({built.protocol_hash[:12]}) differs from the current protocol; run sync_benchmarks"
    if queue is not None:
        queue.open()
    if baseline.needs_training:
        log(f"training {baseline.name} on {baseline.benchmark} (reused on later runs)")
    checkpoint = ensure_checkpoint(baseline, built)
    if queue is not None:
        queue.put(baseline, checkpoint)
        return QUEUED
    create_submission(owner, benchmark, Kind.LOCAL, baseline.method, command=baseline.runner_command(checkpoint),
                      description=f"{baseline.summary}\n\n{LOCAL_NOTE}", **_details(baseline))
    log(f"submitted {baseline.name}")
    return "submitted"


def _submit_published(published: Iterable[tuple[Baseline, Future[str]]], owner, log: Callable[[str], None],  # noqa: ANN001
                      report: BaselineReport) -> None:
    """Submit each baseline whose image reached the registry, pinned to its digest; record why the others did not."""
    for baseline, pushed in published:
        try:
            reference = pushed.result()
            benchmark = Benchmark.objects.get(slug=baseline.benchmark)
            create_submission(owner, benchmark, Kind.IMAGE, baseline.method, image_ref=reference,
                              description=baseline.summary, **_details(baseline))
        except (PublishFailed, SubmissionRefused) as error:
            report.add(baseline, str(error))
            continue
        log(f"submitted {baseline.name}")
        report.add(baseline, "submitted")


def _details(baseline: Baseline) -> dict[str, object]:
    return {"is_baseline": True, "paper_url": baseline.paper_url, "is_public": True}
