"""The starting kit of each task builds FROM the runtime image, runs in the Docker runner and scores."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from test_baseline_images import docker_client, engine, runtime_image  # noqa: F401  (fixtures)

TASK_BENCHMARKS = ["toonnet", "icartoonface", "cartoonization"]


def kit_context(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_each_kit_names_the_runtime_image_and_its_task_outputs() -> None:
    from datasets.spec import load_spec
    from evaluator.starter_kit import RUNTIME_IMAGE, starter_kit_files

    for slug, output in [("toonnet", "scores.npy"), ("icartoonface", "embeddings.npy"), ("cartoonization", "images")]:
        files = starter_kit_files(load_spec(slug))
        assert f"ARG RUNTIME={RUNTIME_IMAGE}" in files["Dockerfile"].decode()
        assert output in files["predict.py"].decode()
        readme = files["README.md"].decode()
        assert f"python -m evaluator score {slug} output" in readme and f"toonbench push {slug} {slug}-model:1" in readme


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("slug", TASK_BENCHMARKS)
def test_the_kit_builds_runs_and_scores_on_the_development_split(
    slug: str, engine: Any, runtime_image: str, tiny_built: Callable[[str], Any], tmp_path: Path  # noqa: F811
) -> None:
    from evaluator.contract import prepare_input
    from evaluator.runners import RunLimits, make_runner
    from evaluator.scoring import score_outputs
    from evaluator.starter_kit import starter_kit_files
    from evaluator.validation import validate_outputs

    built = tiny_built(slug)
    tag = f"toonbench-test/kit-{slug}:latest"
    engine.images.build(fileobj=io.BytesIO(kit_context(starter_kit_files(built.spec))), custom_context=True, tag=tag,
                        buildargs={"RUNTIME": runtime_image}, rm=True, forcerm=True, network_mode="none")
    limits = RunLimits(timeout_s=300, memory_gb=2, cpus=1, pids=128, gpus=0, output_mb=200)

    result = make_runner("docker", image=tag).run(prepare_input(built, tmp_path / "input"), tmp_path / "output", limits)

    assert result.status == "finished", f"{result.reason}\n{result.log_tail}"
    validate_outputs(built, tmp_path / "output")
    scored = score_outputs(built, tmp_path / "output", resamples=10, extractor="seeded-inception" if slug == "cartoonization" else None)
    assert scored.metrics and all(value == value for value in scored.metrics.values() if isinstance(value, float))
