"""Each baseline's model image, built FROM the runtime image, run by the Docker runner like any submission.

The runtime image is built once per engine (content-keyed, so later sessions
reuse it); each baseline image holds the checkpoint trained here on the tiny
profile. What the image writes must obey the contract and equal what the
same predict code writes when run outside the container.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import pytest

from baselines.registry import all_baselines, get_baseline

TESTS = Path(__file__).resolve().parents[1]
NAMES = [baseline.name for baseline in all_baselines()]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_runners = _load(TESTS / "runners" / "conftest.py", "runners_conftest_for_baseline_images")
docker_client = _runners.docker_client
engine = _runners.engine


@pytest.fixture(scope="session")
def runtime_image(docker_client: Any) -> str:
    from baselines.images import ensure_runtime_image

    return ensure_runtime_image(docker_client, log=lambda line: None)


@pytest.fixture(scope="session")
def baseline_image(docker_client: Any, runtime_image: str, trained: Callable[[str], tuple[Any, Path | None]]) -> Callable[[str], str]:
    from baselines.images import ensure_baseline_image

    def get(name: str) -> str:
        _, checkpoint = trained(name)
        return ensure_baseline_image(docker_client, get_baseline(name), checkpoint, runtime_image, log=lambda line: None)

    return get


def same_outputs(kind: str, ours: Path, theirs: Path) -> None:
    if kind in ("scores", "embeddings"):
        name = f"{kind}.npy"
        np.testing.assert_allclose(np.load(ours / name), np.load(theirs / name), rtol=1e-4, atol=1e-4)
        return
    written = sorted(path.name for path in (ours / "images").iterdir())
    assert written == sorted(path.name for path in (theirs / "images").iterdir())
    for name in written:
        a = cv2.imread(str(ours / "images" / name)).astype(int)
        b = cv2.imread(str(theirs / "images" / name)).astype(int)
        assert a.shape == b.shape and np.abs(a - b).max() <= 2, name


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_image_obeys_the_contract_and_writes_what_the_predict_code_writes(
    name: str, engine: Any, baseline_image: Callable[[str], str], predicted: Callable[[str], tuple[Any, Path]], tmp_path: Path
) -> None:
    from evaluator.contract import prepare_input
    from evaluator.runners import RunLimits, make_runner
    from evaluator.validation import validate_outputs

    built, reference = predicted(name)
    image = baseline_image(name)
    limits = RunLimits(timeout_s=600, memory_gb=4, cpus=2, pids=256, gpus=0, output_mb=200)

    result = make_runner("docker", image=image).run(prepare_input(built, tmp_path / "input"), tmp_path / "output", limits)

    assert result.status == "finished", f"{result.reason}\n{result.log_tail}"
    assert result.image_digest == engine.images.get(image).id
    validate_outputs(built, tmp_path / "output")
    same_outputs(get_baseline(name).output, tmp_path / "output", reference)


@pytest.mark.docker
def test_a_checkpoint_written_here_is_read_by_the_runtime_image_without_pickle(
    engine: Any, runtime_image: str, tmp_path: Path
) -> None:
    import torch

    from baselines.common.weights import save_checkpoint

    state = {"conv.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7, "steps": torch.tensor(3)}
    path = save_checkpoint(tmp_path / "model.npz", {"baseline": "probe", "classes": ["cat", "dog"], "state": state,
                                                   "svm": {"mean": np.array([0.5, -1.5]), "gamma": 1e-4}})
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert json.loads(members.pop("payload.json"))["classes"] == ["cat", "dog"]
    assert members and all(data.startswith(b"\x93NUMPY") for data in members.values())  # .npy, never a pickle stream
    assert all(b"'descr': '|O'" not in data[:128] for data in members.values())

    script = (
        "import json, torch; from baselines.common.weights import load_checkpoint; "
        "p = load_checkpoint('/ckpt/model.npz'); s = p['state']; "
        "print(json.dumps({'weight': s['conv.weight'].tolist(), 'tensor': isinstance(s['steps'], torch.Tensor), "
        "'steps': int(s['steps']), 'mean': p['svm']['mean'].tolist(), 'gamma': p['svm']['gamma'], 'classes': p['classes']}))"
    )
    repo = Path(__file__).resolve().parents[2]
    tmp_path.chmod(0o755)  # the image runs as nobody
    path.chmod(0o644)
    printed = engine.containers.run(
        runtime_image, ["python3", "-c", script], remove=True, network_mode="none", read_only=True,
        working_dir="/app", volumes={str(repo / "baselines"): {"bind": "/app/baselines", "mode": "ro"},
                                     str(tmp_path): {"bind": "/ckpt", "mode": "ro"}},
    )
    read = json.loads(printed.decode().strip().splitlines()[-1])

    assert read == {"weight": (torch.arange(6).reshape(2, 3) / 7).tolist(), "tensor": True, "steps": 3,
                    "mean": [0.5, -1.5], "gamma": 1e-4, "classes": ["cat", "dog"]}


@pytest.mark.docker
def test_a_rebuild_with_nothing_changed_reuses_the_image(docker_client: Any, runtime_image: str) -> None:
    from baselines.images import ensure_baseline_image

    baseline = get_baseline("cartoon-identity")
    lines: list[str] = []
    first = ensure_baseline_image(docker_client, baseline, None, runtime_image, log=lines.append)
    second = ensure_baseline_image(docker_client, baseline, None, runtime_image, log=lines.append)

    assert first == second and first.startswith("toonbench/baseline-cartoon-identity:")
    assert sum(line.startswith("building") for line in lines) <= 1
    assert docker_client.images.get(first).attrs["Config"]["Entrypoint"] == [
        "python3", "/app/baselines/cartoon_identity/predict.py", "/input", "/output"]
