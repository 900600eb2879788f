"""Keeps a translation submission's outputs on the public development photos (``evaluator.samples``).

They are stored under ``samples/<submission id>/<photo id>.png`` in the
site's file storage, after the submission finished: a sample run that fails
costs the result nothing, it only leaves the entry without samples (the
worker's log says why). A new evaluation of the same submission replaces
its samples. A leaderboard page shows them from its next render (a page
kept for anonymous visitors is rendered again within ``PAGE_TTL_S``,
``leaderboards.pagecache``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from datasets.build import load_built
from evaluator.folders import scratch_folder
from evaluator.samples import run_samples, sample_photos
from evaluator.tasks import task_of
from submissions.models import Submission

logger = logging.getLogger(__name__)
FOLDER = "samples"


def sample_name(submission_id: int, photo_id: str) -> str:
    return f"{FOLDER}/{submission_id}/{photo_id}.png"


def keep_samples(submission: Submission, runner: Any) -> list[str]:
    """Run the finished container submission on the sample photos and store its outputs; their storage names."""
    if runner is None or not task_of(submission.benchmark.typed_spec).shows_samples:
        return []
    try:
        built = load_built(submission.benchmark.slug, Path(settings.TOONBENCH_DATA_ROOT))
        remove_samples(submission.pk, [item.id for item in sample_photos(built)])
        work_root = Path(settings.TOONBENCH_WORK_ROOT)
        work_root.mkdir(parents=True, exist_ok=True)
        with scratch_folder(str(submission.pk), work_root) as scratch:
            outputs = run_samples(built, runner, scratch)
            return [default_storage.save(sample_name(submission.pk, photo), ContentFile(path.read_bytes()))
                    for photo, path in outputs.items()]
    except Exception:
        logger.exception("no sample outputs for submission %s", submission.pk)
        return []


def remove_samples(submission_id: int, photo_ids: list[str]) -> None:
    for photo in photo_ids:
        name = sample_name(submission_id, photo)
        if default_storage.exists(name):
            default_storage.delete(name)


def stored_samples(submission_id: int, photo_ids: list[str]) -> dict[str, str]:
    """The storage names of the submission's kept outputs, by photo id."""
    names = {photo: sample_name(submission_id, photo) for photo in photo_ids}
    return {photo: name for photo, name in names.items() if default_storage.exists(name)}
