"""Sample outputs of a translation submission on public development photos (evaluator/samples.py), with the
real local runner."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from datasets.build import BuiltBenchmark, build_benchmark
from evaluator.output_files import OutputError
from evaluator.runners import make_runner
from evaluator.samples import SAMPLE_PHOTOS, run_samples, sample_photos

# A stand-in container: inverts each photo it is shown, and says which ids it saw.
INVERT = r"""
import json, sys, pathlib
from PIL import Image, ImageOps
source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
manifest = json.loads((source / "manifest.json").read_text())
(target / "images").mkdir(parents=True, exist_ok=True)
for item in manifest["items"]:
    ImageOps.invert(Image.open(source / item["path"]).convert("RGB")).save(target / "images" / f"{item['id']}.png")
print(json.dumps([item["id"] for item in manifest["items"]]))
"""
# One that answers with the wrong size.
SHRINK = r"""
import json, sys, pathlib
from PIL import Image
source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(target / "images").mkdir(parents=True, exist_ok=True)
for item in json.loads((source / "manifest.json").read_text())["items"]:
    Image.new("RGB", (3, 3)).save(target / "images" / f"{item['id']}.png")
"""


@pytest.fixture(scope="module")
def cartoons(tmp_path_factory: pytest.TempPathFactory) -> BuiltBenchmark:
    return build_benchmark("cartoonization", tmp_path_factory.mktemp("data"), profile="tiny", secret="s" * 40)


def runner(script: str):  # type: ignore[no-untyped-def]
    return make_runner("local", command=[sys.executable, "-c", script, "{input}", "{output}"], heartbeat_interval_s=0.2)


def test_the_sample_photos_are_the_first_training_photos_and_never_a_held_out_item(cartoons: BuiltBenchmark) -> None:
    photos = sample_photos(cartoons)

    train_photos = sorted(item.id for item in cartoons.train_items() if item.domain == "photo")
    assert [item.id for item in photos] == train_photos[:SAMPLE_PHOTOS]
    assert not {item.id for item in photos} & {item.id for item in cartoons.test_items()}


def test_a_build_of_real_data_or_another_task_has_no_samples(cartoons: BuiltBenchmark) -> None:
    assert sample_photos(replace(cartoons, source="real")) == []
    assert sample_photos(replace(cartoons, spec=cartoons.spec.model_copy(update={"task": "classification"}))) == []


def test_the_submission_runs_on_the_sample_photos_alone_and_its_outputs_come_back(cartoons: BuiltBenchmark,
                                                                                   tmp_path: Path) -> None:
    outputs = run_samples(cartoons, runner(INVERT), tmp_path / "scratch")

    photos = sample_photos(cartoons)
    assert list(outputs) == [item.id for item in photos]
    for item in photos:
        photo = np.asarray(Image.open(cartoons.folder / item.path).convert("RGB"))
        assert np.array_equal(np.asarray(Image.open(outputs[item.id]).convert("RGB")), 255 - photo)
    manifest = json.loads((tmp_path / "scratch" / "input" / "manifest.json").read_text())
    assert [entry["id"] for entry in manifest["items"]] == [item.id for item in photos]


def test_outputs_that_break_the_contract_are_refused_with_the_file_and_the_size(cartoons: BuiltBenchmark,
                                                                                tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"3x3 pixels, expected \d+x\d+"):
        run_samples(cartoons, runner(SHRINK), tmp_path / "scratch")
