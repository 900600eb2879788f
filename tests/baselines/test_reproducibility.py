"""Training is reproducible from the seed on CPU: the same checkpoint bytes twice."""

from __future__ import annotations

import pytest

from baselines.common.weights import file_digest


@pytest.mark.slow
@pytest.mark.parametrize("name", ["toonnet-resnet", "illustration-cnn-svm", "icartoonface-arcface"])
def test_training_twice_from_the_seed_gives_the_same_checkpoint(name: str, trained, tmp_path) -> None:
    from baselines.checkpoints import ensure_checkpoint
    from baselines.registry import get_baseline

    built, first = trained(name)
    second = ensure_checkpoint(get_baseline(name), built, tmp_path)
    assert second != first
    assert file_digest(second) == file_digest(first)


def test_a_present_checkpoint_is_reused_not_retrained(trained) -> None:
    from baselines.checkpoints import ensure_checkpoint
    from baselines.registry import get_baseline

    built, checkpoint = trained("toonnet-resnet")
    modified = checkpoint.stat().st_mtime_ns
    assert ensure_checkpoint(get_baseline("toonnet-resnet"), built, checkpoint.parents[2]) == checkpoint
    assert checkpoint.stat().st_mtime_ns == modified
