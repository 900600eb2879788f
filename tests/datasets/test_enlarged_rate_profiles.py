"""The enlarged-rate sweep (iCartoonFace Table 3) as profiles of the icartoonface spec."""

from pathlib import Path

import pytest
import yaml
from PIL import Image

from datasets.build import build_benchmark
from datasets.spec import SpecError, load_spec, parse_spec, spec_path, spec_profiles

RATES = (0.2, 0.4, 0.6, 0.8, 1.0)
SWEEP = [f"enlarge_{rate}" for rate in RATES]


def test_the_spec_declares_one_profile_per_rate_of_table_3() -> None:
    assert [name for name in spec_profiles(spec_path("icartoonface")) if name.startswith("enlarge_")] == SWEEP


@pytest.mark.parametrize(("profile", "rate"), list(zip(SWEEP, RATES)))
def test_a_sweep_profile_crops_real_and_synthetic_faces_at_its_rate(profile: str, rate: float) -> None:
    spec = load_spec("icartoonface", profile)
    assert spec.dataset.options.enlarged_rate == rate
    assert spec.dataset.synthetic.params.enlarged_rate == rate


def test_the_default_profile_keeps_the_papers_rate_and_writes_whole_pictures() -> None:
    spec = load_spec("icartoonface")
    assert spec.dataset.options.enlarged_rate == 1.0
    assert spec.dataset.synthetic.params.enlarged_rate is None
    assert "enlarged_rate" not in spec.model_dump(mode="json")["dataset"]["synthetic"]["params"]


def test_another_benchmark_has_no_sweep_profile() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("toonnet", "enlarge_0.6")
    assert caught.value.field == "profile"


def tiny_sweep_step(profile: str) -> object:
    """The sweep step ``profile`` over the tiny profile's sizes: its overrides merged onto tiny's."""
    path = spec_path("icartoonface")
    raw = yaml.safe_load(path.read_text())
    tiny, step = raw["profiles"]["tiny"], raw["profiles"][profile]
    merged = {**tiny, "dataset": {**tiny["dataset"], **step["dataset"],
                                  "synthetic": {**tiny["dataset"]["synthetic"], **step["dataset"]["synthetic"]}}}
    raw["profiles"][profile] = merged
    return parse_spec(raw, path, profile)


@pytest.mark.slow
@pytest.mark.parametrize(("profile", "rate"), list(zip(SWEEP, RATES)))
def test_each_sweep_step_builds_on_the_tiny_size_with_faces_cropped_at_its_rate(tmp_path: Path, profile: str, rate: float) -> None:
    spec = tiny_sweep_step(profile)
    assert spec.dataset.synthetic.params.identities == 60
    built = build_benchmark(spec, tmp_path, source="synthetic")
    assert built.spec.profile == profile and built.roles is not None
    size = spec.dataset.synthetic.params.size
    for item in built.items[:40]:
        x1, y1, x2, y2 = item.box
        with Image.open(built.folder / item.path) as image:
            width, height = image.size
        # the crop reaches r/2 of the box past each side, or the picture's edge (rounded outwards)
        assert width <= min(size, (1 + rate) * (x2 - x1) + 2) and height <= min(size, (1 + rate) * (y2 - y1) + 2)
        assert x1 >= 0 and y1 >= 0 and x2 <= width and y2 <= height
