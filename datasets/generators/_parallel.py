"""Make a generator's items in this process or, for big jobs, in worker processes.

A generator module exposes ``plan(params, classes, seed, folder) -> (count,
make_item)``; ``make_item(i)`` draws and writes image ``i`` and returns its
item. Since every image has its own RNG, a job is split into contiguous
index ranges and the results are the same, byte for byte, however it is run.

Workers are fresh interpreters (``python -m datasets.generators._parallel``)
that read one JSON job on stdin and print one item per line. Unlike a
multiprocessing pool they neither re-run the caller's main module nor
inherit locks from a forked parent, and they also work inside daemonic
processes such as task-queue workers.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from datasets.components import Params
from datasets.manifest import ManifestItem

ItemMaker = Callable[[int], ManifestItem]
Plan = Callable[[Params, list[str], int, Path], tuple[int, ItemMaker]]
PER_WORKER = 400  # fewer images than this per worker and starting it costs more than it saves
REPO_ROOT = Path(__file__).resolve().parents[2]


def worker_count() -> int:
    """Cores this process may use (``TOONBENCH_GENERATOR_WORKERS`` overrides), at most 8."""
    configured = os.environ.get("TOONBENCH_GENERATOR_WORKERS")
    if configured:
        return max(1, int(configured))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def make_all(plan: Plan, params: Params, classes: list[str], seed: int, folder: Path, desc: str) -> list[ManifestItem]:
    """All items of ``plan``, in index order."""
    count, make_item = plan(params, classes, seed, folder)
    workers = min(worker_count(), count // PER_WORKER)
    bar = tqdm(total=count, desc=desc, unit="img", leave=False, disable=count < 200)
    with bar:
        if workers <= 1:
            items = []
            for index in range(count):
                items.append(make_item(index))
                bar.update(1)
            return items
        bounds = [count * k // workers for k in range(workers + 1)]
        job = {
            "module": plan.__module__,
            "plan": plan.__name__,
            "params_class": type(params).__name__,
            "params": params.model_dump(mode="json"),
            "classes": classes,
            "seed": seed,
            "folder": str(folder),
        }
        with ThreadPoolExecutor(workers) as threads:
            ranges = [threads.submit(_run_worker, {**job, "start": a, "stop": b}, bar) for a, b in zip(bounds, bounds[1:])]
            return [item for future in ranges for item in future.result()]


def _run_worker(job: dict, bar: tqdm) -> list[ManifestItem]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "datasets.generators._parallel"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env, text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(job))
        process.stdin.close()
        items = []
        for line in process.stdout:
            items.append(ManifestItem.from_json(json.loads(line)))
            bar.update(1)
        if process.wait() != 0 or len(items) != job["stop"] - job["start"]:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"generator worker for {job['module']} items {job['start']}..{job['stop']} failed:\n{tail}")
    return items


def _work(job: dict) -> None:
    import cv2

    cv2.setNumThreads(1)
    module = importlib.import_module(job["module"])
    params = getattr(module, job["params_class"]).model_validate(job["params"])
    _, make_item = getattr(module, job["plan"])(params, job["classes"], job["seed"], Path(job["folder"]))
    for index in range(job["start"], job["stop"]):
        print(json.dumps(make_item(index).to_json()), flush=True)


if __name__ == "__main__":
    _work(json.loads(sys.stdin.read()))
