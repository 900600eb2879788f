"""The typed models of a benchmark spec (``datasets.spec`` loads and checks them).

Component parameters (``dataset.synthetic.params``, ``dataset.options``,
``split.params``) hold the component's own parameter model; they dump only
the keys the spec wrote, so a spec's hash is that of its text.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    model_serializer,
    model_validator,
)

from datasets.components import NoParams, Params
from datasets.phases import HeldOutPart, Phase, check_phases


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paper(Strict):
    title: str
    authors: str = ""
    venue: str = ""
    url: str = ""


def _dump_as_written(params: Params, info: SerializationInfo) -> dict[str, Any]:
    """Only the keys the spec wrote, not the model's defaults: the spec's hash stays that of its text."""
    return params.model_dump(mode=info.mode, exclude_unset=True)


ComponentParams = Annotated[Params, PlainSerializer(_dump_as_written)]


class SyntheticSource(Strict):
    """Which generator makes the embedded stand-in, its seed and its parameters.

    ``params`` holds every key other than ``generator`` and ``seed``, parsed
    into the generator's own parameter model.
    """

    generator: str
    seed: int = 0
    params: ComponentParams = Field(default_factory=NoParams)


class DatasetSection(Strict):
    adapter: str
    root: str | None = None
    options: ComponentParams = Field(default_factory=NoParams)
    synthetic: SyntheticSource


class SplitSection(Strict):
    method: str
    seed: int = 0
    params: ComponentParams = Field(default_factory=NoParams)


class MetricSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    fn: str
    higher_is_better: bool
    leaderboard: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


class LeaderboardSection(Strict):
    rank_by: str


class Limits(Strict):
    """The most a submission may use; a worker gives it ``min(limit, what the host has)``.

    ``gpu_required`` makes the GPU a hard requirement: a worker without one
    refuses the job instead of running it on the CPU. It is left out of the
    dumped spec while false, so specs that do not set it keep their hash.
    """

    timeout_s: int = Field(3600, gt=0)
    memory_gb: float = Field(16, gt=0)
    cpus: float = Field(4, gt=0)
    pids: int = Field(256, gt=0)
    gpus: int = Field(1, ge=0)
    gpu_required: bool = False
    output_mb: int = Field(1024, gt=0)
    upload_mb: int = Field(2048, gt=0)
    submissions_per_day: int = Field(5, gt=0)

    @model_validator(mode="after")
    def _check_gpu_requirement(self) -> "Limits":
        if self.gpu_required and self.gpus < 1:
            raise ValueError("limits.gpu_required: a required GPU needs limits.gpus of at least 1")
        return self

    @model_serializer(mode="wrap")
    def _dump_without_default_requirement(self, handler: Any) -> dict[str, Any]:
        dumped = handler(self)
        if not self.gpu_required:
            dumped.pop("gpu_required", None)
        return dumped


#: what the spec's hash leaves out: wording, list order and competition settings a host may change
#: without a rebuild (``datasets.phases``); everything else is the protocol
SETTINGS_FIELDS = {"source_path", "order", "summary", "title", "paper", "phases"}
SETTINGS_LIMITS = {"submissions_per_day", "upload_mb"}


class BenchmarkSpec(Strict):
    """One benchmark. ``order`` places it in lists of benchmarks (those without one come last, by
    slug).

    ``real_split``, when set, is the split a build from the real dataset uses
    (for example the split its authors published) while the synthetic stand-in
    keeps ``split``; a spec without one hashes as if the field did not exist.
    ``heldout_parts`` divides the held-out split and ``phases`` run a
    competition on those parts (``datasets.phases``).
    """

    slug: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    version: int = Field(ge=1)
    order: int | None = None
    task: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    summary: str = ""
    paper: Paper | None = None
    classes: list[str] = Field(default_factory=list)
    dataset: DatasetSection
    split: SplitSection
    real_split: SplitSection | None = None
    metrics: list[MetricSpec] = Field(min_length=1)
    leaderboard: LeaderboardSection
    limits: Limits = Limits()
    heldout_parts: list[HeldOutPart] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)
    profile: str = "default"
    source_path: str = ""

    @model_validator(mode="after")
    def _check_cross_fields(self) -> "BenchmarkSpec":
        names = [m.name for m in self.metrics]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"metrics: duplicate metric names {duplicates}")
        if self.leaderboard.rank_by not in names:
            raise ValueError(
                f"leaderboard.rank_by: {self.leaderboard.rank_by!r} is not a declared metric "
                f"(declared: {', '.join(names)})"
            )
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("classes: class names must be unique")
        check_phases(self.phases, self.heldout_parts)
        return self

    def metric(self, name: str) -> MetricSpec:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)

    @property
    def rank_metric(self) -> MetricSpec:
        return self.metric(self.leaderboard.rank_by)

    def data_root(self) -> Path | None:
        """The real dataset's folder, with ``${VAR}`` expanded; None if unset."""
        if not self.dataset.root:
            return None
        expanded = _expand_env(self.dataset.root)
        return Path(expanded) if expanded else None

    def split_for(self, source: str) -> SplitSection:
        """The split section a build from ``source`` (``real`` or ``synthetic``) uses."""
        return self.real_split if source == "real" and self.real_split is not None else self.split

    def hidden_parts(self) -> set[str]:
        """The held-out parts whose inputs are in no bundle and no page (container submissions only)."""
        return {part.name for part in self.heldout_parts if part.inputs == "hidden"}

    def spec_hash(self) -> str:
        """sha256 of the canonical protocol: the spec with its profile applied, less ``SETTINGS_FIELDS``
        and ``SETTINGS_LIMITS``, so changing a quota, a date or the wording keeps the hash."""
        unset = {name for name in ("real_split", "heldout_parts") if not getattr(self, name)}
        payload = self.model_dump(
            mode="json", exclude={**dict.fromkeys(SETTINGS_FIELDS | unset, True), "limits": SETTINGS_LIMITS}
        )
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(text: str) -> str:
    """Expand ``${VAR}``; a path that names an unset variable expands to ''."""
    missing = [name for name in _ENV_PATTERN.findall(text) if not os.environ.get(name)]
    if missing:
        return ""
    return _ENV_PATTERN.sub(lambda m: os.environ[m.group(1)], text)
