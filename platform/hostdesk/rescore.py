"""Re-scoring a benchmark's entries (or one phase's) on its current protocol version.

When the hosts move a benchmark to a new protocol version (a new spec
version synced), ``rescore`` stores, for every scored entry made on an
earlier version, a new submission on the current one and queues its job;
``Rescore`` links the two. The earlier submission and its result are left
untouched, so the old numbers stay as history and the new ones rank on the
current version's leaderboard. An entry already re-scored on the current
version is skipped, so running it twice queues nothing more.
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from benchmarks.models import Benchmark, Phase
from hostdesk.entries import benchmark_submissions
from hostdesk.models import Rescore
from jobs.queueing import queue_evaluation
from organisers.hosts import OrganiserRefused
from submissions.models import Status, Submission

COPIED = ("owner", "team", "benchmark", "phase", "kind", "image_ref", "resolved_ref", "artefact", "command",
          "method_name", "description", "paper_url", "code_url", "is_public", "is_baseline")


def rescore(benchmark: Benchmark, actor: AbstractBaseUser, phase: Phase | None = None) -> list[Rescore]:
    """Re-score every finished entry of ``benchmark`` (of ``phase``) made on an earlier protocol version."""
    target = benchmark.current_version()
    if target is None:
        raise OrganiserRefused(f"benchmark {benchmark.slug!r} has no built protocol to re-score on")
    entries = (benchmark_submissions(benchmark, phase).filter(status=Status.FINISHED).exclude(protocol=target)
               .exclude(rescores__protocol=target))
    if not entries.exists():
        raise OrganiserRefused(f"no finished entry of {benchmark.slug} waits to be re-scored on "
                               f"v{target.version} ({target.short_hash})")
    with transaction.atomic():
        # One chosen entry per team, phase and protocol: the first chosen original of each keeps the mark.
        chosen_slots = set(Submission.objects.filter(benchmark=benchmark, protocol=target, chosen=True)
                           .values_list("team_id", "phase_id"))
        done = []
        for original in entries:
            slot = (original.team_id, original.phase_id)
            chosen = original.chosen and slot not in chosen_slots
            chosen_slots |= {slot} if chosen else set()
            copy = Submission.objects.create(protocol=target, chosen=chosen, status=Status.QUEUED,
                                             **{field: getattr(original, field) for field in COPIED})
            done.append(Rescore.objects.create(original=original, rescored=copy, protocol=target,
                                               requested_by=actor))
            transaction.on_commit(partial(queue_evaluation, copy.pk))
    return done
