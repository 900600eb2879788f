"""bench/bench_baseline_device.py: each baseline's predict timed on two devices, scored the same.

``--device cpu`` runs the CPU twice, so the two runs must give the same
metric exactly; without CUDA a ``cuda`` column stays empty.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_baseline_device.py"


def run_bench(tmp_path: Path, *options: str) -> dict:
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "cartoon-identity", "--data", str(tmp_path / "data"),
         "--json", str(figures), *options],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(figures.read_text())


@pytest.mark.slow
def test_the_same_device_twice_gives_the_same_metric_and_both_timings(tmp_path: Path) -> None:
    figures = run_bench(tmp_path, "--device", "cpu")

    assert figures["device"] == "cpu" and figures["profile"] == "tiny"
    [row] = figures["rows"]
    assert row["baseline"] == "cartoon-identity"
    assert row["cpu_s"] > 0 and row["device_s"] > 0
    assert row["ratio"] == pytest.approx(row["cpu_s"] / row["device_s"])
    assert row["metric_diff"] == 0.0


@pytest.mark.slow
def test_without_cuda_only_the_cpu_column_is_filled(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: the cuda column is measured")

    [row] = run_bench(tmp_path, "--device", "cuda")["rows"]

    assert row["cpu_s"] > 0
    assert (row["device_s"], row["ratio"], row["metric_diff"]) == (None, None, None)
