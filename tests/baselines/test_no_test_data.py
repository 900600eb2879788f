"""No baseline's training or tuning reads test images or test truth.

Each learning baseline is trained twice through ``ensure_checkpoint`` (what
``python -m baselines train`` and the site's ``ensure_baselines`` call): once
on the intact tiny build (the session's ``trained`` fixture) and once on a
*training view* of it, a copy whose test images are deleted (opening one
raises), whose manifest keeps the test items but with every truth field
stripped, and which has no ``roles.json``. Training must succeed on the view
and write the same checkpoint bytes: whatever the baseline read, test files
and test truth were not among it.

The view's checkpoints share one folder, so each baseline trains once on
it; a baseline that starts from another one's checkpoint (``ctx.require``)
trains that one first when it is missing, which must not change its own
bytes either.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from baselines.common.weights import file_digest
from baselines.registry import Baseline, all_baselines
from datasets.build import BuiltBenchmark
from datasets.manifest import ROLES_NAME, ManifestItem, write_manifest

TRUTH_FIELDS = ("label", "identity", "box", "domain", "target", "subset")
LEARNING = [baseline.name for baseline in all_baselines() if baseline.needs_training]


def without_truth(item: ManifestItem) -> ManifestItem:
    """A test item as training may know it: id, path, hash and split, nothing the evaluator scores against."""
    return dataclasses.replace(item, **{field: None for field in TRUTH_FIELDS})


def training_view(built: BuiltBenchmark, folder: Path) -> BuiltBenchmark:
    """A copy of ``built`` under ``folder`` with the test split's files deleted, its truth stripped and no roles.

    The protocol hash is kept, so checkpoints land at the same file name (and
    ``torch.save`` writes the same archive name) as on the intact build.
    """
    target = folder / built.spec.slug
    shutil.copytree(built.folder, target)
    (target / ROLES_NAME).unlink(missing_ok=True)
    items = [without_truth(item) if item.split == "test" else item for item in built.items]
    for item in built.test_items():
        (target / item.path).unlink()
    write_manifest(target, items)
    return dataclasses.replace(built, folder=target, items=items, roles=None)


@pytest.fixture(scope="module")
def views(tiny_built, tmp_path_factory: pytest.TempPathFactory):
    """slug -> its tiny build's training view, made once per module."""
    root = tmp_path_factory.mktemp("training-views")
    cache: dict[str, BuiltBenchmark] = {}

    def get(slug: str) -> BuiltBenchmark:
        if slug not in cache:
            cache[slug] = training_view(tiny_built(slug), root)
        return cache[slug]

    return get


@pytest.fixture(scope="module")
def view_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The views' checkpoint folder, shared by the module so that each baseline trains once on its view."""
    return tmp_path_factory.mktemp("view-checkpoints")


def train_on(baseline: Baseline, built: BuiltBenchmark, root: Path) -> Path:
    """``ensure_checkpoint`` under ``root``."""
    from baselines.checkpoints import ensure_checkpoint

    return ensure_checkpoint(baseline, built, root)


def test_the_view_has_no_test_file_truth_or_roles(tiny_built, tmp_path) -> None:
    built = tiny_built("icartoonface")
    view = training_view(built, tmp_path)
    assert built.roles is not None and (built.folder / ROLES_NAME).exists()
    assert view.roles is None and not (view.folder / ROLES_NAME).exists()
    assert [item.id for item in view.test_items()] == [item.id for item in built.test_items()]
    assert all(item.identity is None and item.box is None for item in view.test_items())
    assert not any((view.folder / item.path).exists() for item in view.test_items())
    assert all((view.folder / item.path).read_bytes() == (built.folder / item.path).read_bytes() for item in view.train_items())
    assert view.train_items() == built.train_items()
    assert "identity" not in next(line for line in (view.folder / "manifest.jsonl").read_text().splitlines()
                                  if '"split":"test"' in line)


def test_a_training_that_reads_a_test_image_fails_on_the_view(tiny_built, tmp_path) -> None:
    """The check has teeth: the first test image that the intact build serves is gone from the view."""
    built = tiny_built("toonnet")
    view = training_view(built, tmp_path)
    first = built.test_items()[0]
    assert (built.folder / first.path).read_bytes()
    with pytest.raises(FileNotFoundError):
        (view.folder / first.path).read_bytes()
    assert first.label is not None and view.test_items()[0].label is None


@pytest.mark.slow
@pytest.mark.parametrize("name", LEARNING)
def test_training_on_the_view_writes_the_same_checkpoint(name: str, trained, views, view_checkpoints) -> None:
    from baselines.registry import get_baseline

    baseline = get_baseline(name)
    _, intact = trained(name)
    blind = train_on(baseline, views(baseline.benchmark), view_checkpoints)
    assert blind.name == intact.name
    assert file_digest(blind) == file_digest(intact), f"{name}: training on the view changed the checkpoint"
