"""Every bundled baseline, read from the ``baseline.yaml`` in its own folder.

A baseline is a folder ``baselines/<package>/`` holding ``baseline.yaml``
(its name, the benchmark whose leaderboard it joins, its method, whether it
learns, what it writes, a summary), ``method.py`` (``train(ctx)`` when it
learns, ``predict(input_dir, output_dir, checkpoint)``), the container
entrypoint ``predict.py`` and a ``Dockerfile``. Adding the folder adds the
baseline; nothing else lists them. The paper a baseline follows is its
benchmark's, as the spec states it.

The site reads this list to put each benchmark's baselines on its
leaderboard; ``baselines.checkpoints`` trains what is missing, and the
outputs are scored like any submission. A baseline runs on its own
benchmark and on any other benchmark of the same task.

``predict_command`` is a template without the interpreter: the placeholders
``{input}``, ``{output}`` and ``{checkpoint}`` stand for the /input and
/output folders and the checkpoint file; run it with the environment's
python (``Baseline.command`` fills both in).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datasets.registry import Registry
from datasets.spec import load_spec
from datasets.spec_models import BenchmarkSpec, Paper

PACKAGE_ROOT = Path(__file__).resolve().parent
METADATA_FILE = "baseline.yaml"


class BaselineError(ValueError):
    """A ``baseline.yaml`` is unreadable or incomplete: names the file, the field and the problem."""


class BaselineMetadata(BaseModel):
    """What ``baseline.yaml`` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    benchmark: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    method: str
    needs_training: bool
    output: str
    summary: str


@dataclass(frozen=True)
class Baseline:
    name: str
    benchmark: str
    method: str
    package: str
    needs_training: bool
    output: str
    summary: str

    @property
    def folder(self) -> Path:
        return PACKAGE_ROOT / self.package

    @property
    def spec(self) -> BenchmarkSpec:
        """Its own benchmark's spec."""
        return load_spec(self.benchmark)

    @property
    def paper(self) -> Paper | None:
        return self.spec.paper

    @property
    def paper_title(self) -> str:
        return self.paper.title if self.paper else ""

    @property
    def paper_url(self) -> str:
        return self.paper.url if self.paper else ""

    def runs_on(self, spec: BenchmarkSpec) -> bool:
        """Whether it can run on ``spec``'s benchmark: any benchmark of its own benchmark's task."""
        return spec.task == self.spec.task

    def _method(self) -> Any:
        return importlib.import_module(f"baselines.{self.package}.method")

    @property
    def train_fn(self) -> Callable[[Any], None] | None:
        """``train(ctx: TrainContext) -> None`` (writes ``ctx.checkpoint``), or None when nothing is learned."""
        return self._method().train if self.needs_training else None

    @property
    def predict_fn(self) -> Callable[[Path, Path, Path | None], None]:
        return self._method().predict

    @property
    def predict_command(self) -> list[str]:
        command = [str(self.folder / "predict.py"), "{input}", "{output}"]
        return command + ["--checkpoint", "{checkpoint}"] if self.needs_training else command

    def runner_command(self, checkpoint: Path | str | None = None, python: str | None = None) -> list[str]:
        """The command with interpreter and checkpoint filled in, ``{input}``/``{output}`` left for a runner."""
        if self.needs_training and checkpoint is None:
            raise ValueError(f"baseline {self.name!r} needs a checkpoint; train it with: python -m baselines train --only {self.name}")
        return [python or sys.executable] + [part.replace("{checkpoint}", str(checkpoint)) for part in self.predict_command]

    def command(self, input_dir: Path | str, output_dir: Path | str, checkpoint: Path | str | None = None, python: str | None = None) -> list[str]:
        """The predict command line, ready to run."""
        return [part.replace("{input}", str(input_dir)).replace("{output}", str(output_dir)) for part in self.runner_command(checkpoint, python)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "benchmark": self.benchmark,
            "method": self.method,
            "paper_title": self.paper_title,
            "paper_url": self.paper_url,
            "needs_training": self.needs_training,
            "output": self.output,
            "summary": self.summary,
            "predict_command": self.predict_command,
            "dockerfile": str(self.folder / "Dockerfile"),
        }


def read_baseline(path: Path) -> Baseline:
    """The baseline described by ``path`` (a ``baseline.yaml``); its folder is its package."""
    try:
        metadata = BaselineMetadata.model_validate(yaml.safe_load(path.read_text()))
    except yaml.YAMLError as exc:
        raise BaselineError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problem = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise BaselineError(f"{path}: {field}: {problem}") from None
    return Baseline(package=path.parent.name, **metadata.model_dump())


def discover_baselines(root: Path = PACKAGE_ROOT) -> Registry[Baseline]:
    """Every folder under ``root`` with a ``baseline.yaml``."""
    registry: Registry[Baseline] = Registry("baseline")
    for path in sorted(root.glob(f"*/{METADATA_FILE}")):
        baseline = read_baseline(path)
        registry.add(baseline.name, baseline)
    return registry


BASELINES = discover_baselines()


def get_baseline(name: str) -> Baseline:
    return BASELINES.get(name)


def all_baselines() -> list[Baseline]:
    return [BASELINES.get(name) for name in BASELINES.names()]


def baselines_for(benchmark: str) -> list[Baseline]:
    """The baselines that belong to ``benchmark`` (its leaderboard's)."""
    return [baseline for baseline in all_baselines() if baseline.benchmark == benchmark]
