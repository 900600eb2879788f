"""Sample outputs of a translation submission on a few public development photos, for everyone to see.

A translation result is a number (FID) over held-out photos that nobody may
see. What an entry does to a photo is shown instead on training photos that
the protocol bundle itself ships: after a container submission is scored, it
runs once more on ``SAMPLE_PHOTOS`` of them, under the same contract
(``/input/manifest.json`` with their ids, ``images/<id>.png`` back), and its
outputs become public evidence. Never a held-out photo: the sample input
holds only training items. A build from real (licensed) data ships no
images, so it gets no samples.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PIL import Image

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from evaluator.contract import prepare_input
from evaluator.runners.base import RunLimits, Runner
from evaluator.runners.host import fit_limits
from evaluator.status import RunOutcome
from evaluator.tasks import task_of
from evaluator.tasks.translation import InputImage, check_translation_images

SAMPLE_PHOTOS = 4
SAMPLE_TIMEOUT_S = 300.0


def sample_photos(built: BuiltBenchmark, count: int = SAMPLE_PHOTOS) -> list[ManifestItem]:
    """The first ``count`` of the task's sample inputs by id: images the bundle ships (synthetic builds only)."""
    if built.source != "synthetic":
        return []
    return sorted(task_of(built.spec).sample_inputs(built), key=lambda item: item.id)[:count]


def sample_build(built: BuiltBenchmark, photos: list[ManifestItem]) -> BuiltBenchmark:
    """The build as a container would see it if the sample photos were its only inputs."""
    return replace(built, items=[replace(item, split="test") for item in photos], roles=None)


def sample_limits(built: BuiltBenchmark, runner: Runner) -> RunLimits:
    """The spec's limits fitted to the runner's host, with a short wall clock: a few photos only."""
    limits = fit_limits(built.spec.limits, runner.host_resources(), benchmark=built.spec.slug)
    return replace(limits, timeout_s=min(limits.timeout_s, SAMPLE_TIMEOUT_S))


def run_samples(built: BuiltBenchmark, runner: Runner, scratch: Path) -> dict[str, Path]:
    """Run the submission on the sample photos; their outputs by photo id (empty when there are none).

    Raises ``OutputError`` when the outputs break the contract and
    ``RuntimeError`` when the run does not finish.
    """
    photos = sample_photos(built)
    if not photos:
        return {}
    sample = sample_build(built, photos)
    input_dir = prepare_input(sample, Path(scratch) / "input")
    output_dir = Path(scratch) / "output"
    output_dir.mkdir(parents=True, exist_ok=True)
    run = runner.run(input_dir, output_dir, sample_limits(built, runner), cancel=threading.Event())
    if run.status != RunOutcome.FINISHED:
        raise RuntimeError(f"the sample run ended with status {run.status!r}: {run.reason or run.log_tail[-300:]}")
    sizes = [InputImage(item.id, image_size(built.folder / item.path)) for item in photos]
    paths = check_translation_images(output_dir, sizes)
    return {item.id: path for item, path in zip(photos, paths)}


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size
