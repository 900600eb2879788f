"""Benchmark specs: one YAML file per benchmark, parsed into typed models.

``load_spec`` is the only loader. Every problem is reported as a
``SpecError`` naming the file, the field path and what was expected.
Specs may only name registered components (adapters, generators, split
methods, metrics); their parameters are validated against the component's
own pydantic model so unknown or mistyped keys are caught on load.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

BENCHMARKS_DIR = Path(__file__).resolve().parent / "benchmarks"
PROFILES = ("default", "tiny")
Task = Literal["classification", "identification_verification", "translation"]


class SpecError(ValueError):
    """A spec file is invalid: carries the file, the field path and the problem."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {problem}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paper(Strict):
    title: str
    authors: str = ""
    venue: str = ""
    url: str = ""


class SyntheticSource(Strict):
    """Which generator makes the embedded stand-in, its seed and its parameters.

    ``params`` holds every key other than ``generator`` and ``seed``; it is
    validated against the generator's own parameter model.
    """

    generator: str
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)


class DatasetSection(Strict):
    adapter: str
    root: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    synthetic: SyntheticSource


class SplitSection(Strict):
    method: str
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)


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


class BenchmarkSpec(Strict):
    slug: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    version: int = Field(ge=1)
    task: Task
    summary: str = ""
    paper: Paper | None = None
    classes: list[str] = Field(default_factory=list)
    dataset: DatasetSection
    split: SplitSection
    metrics: list[MetricSpec] = Field(min_length=1)
    leaderboard: LeaderboardSection
    limits: Limits = Limits()
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
        if self.task == "classification" and len(self.classes) < 2:
            raise ValueError("classes: a classification benchmark needs at least 2 class names")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("classes: class names must be unique")
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

    def spec_hash(self) -> str:
        """sha256 of the canonical spec (profile applied, source path excluded)."""
        payload = self.model_dump(mode="json", exclude={"source_path"})
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(text: str) -> str:
    """Expand ``${VAR}``; a path that names an unset variable expands to ''."""
    missing = [name for name in _ENV_PATTERN.findall(text) if not os.environ.get(name)]
    if missing:
        return ""
    return _ENV_PATTERN.sub(lambda m: os.environ[m.group(1)], text)


def spec_path(slug: str) -> Path:
    return BENCHMARKS_DIR / f"{slug}.yaml"


def available_slugs() -> list[str]:
    return sorted(p.stem for p in BENCHMARKS_DIR.glob("*.yaml"))


def load_spec(source: str | Path, profile: str = "default") -> BenchmarkSpec:
    """Load and validate a spec by slug or by path, with a size profile applied."""
    path = Path(source)
    if path.suffix not in (".yaml", ".yml"):
        path = spec_path(str(source))
        if not path.exists():
            raise SpecError(path, "", f"no benchmark {source!r} (known: {', '.join(available_slugs())})")
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SpecError(path, "", "file not found") from None
    except yaml.YAMLError as exc:
        raise SpecError(path, "", f"not valid YAML: {exc}") from None
    return parse_spec(raw, path, profile)


def load_all_specs(profile: str = "default") -> list[BenchmarkSpec]:
    return [load_spec(slug, profile) for slug in available_slugs()]


def parse_spec(raw: Any, path: Path | str, profile: str = "default") -> BenchmarkSpec:
    """Validate a parsed YAML document; see ``load_spec``."""
    if not isinstance(raw, dict):
        raise SpecError(path, "", f"expected a mapping at the top level, got {type(raw).__name__}")
    document = _apply_profile(raw, profile, path)
    document = _gather_params(document, path)
    document["profile"] = profile
    document["source_path"] = str(path)
    try:
        spec = BenchmarkSpec.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        problem = error["msg"]
        if error["type"] == "extra_forbidden":
            problem = "unknown key"
        elif "input" in error and error["type"] not in ("missing",):
            problem = f"{problem} (got {error['input']!r})"
        if field == "" and problem.startswith("Value error, "):
            field, _, problem = problem.removeprefix("Value error, ").partition(": ")
        problem = problem.removeprefix("Value error, ")
        raise SpecError(path, field, problem) from None
    _check_components(spec, path)
    return spec


def _apply_profile(raw: dict[str, Any], profile: str, path: Path | str) -> dict[str, Any]:
    """Deep-merge ``profiles.<profile>`` over the document and drop ``profiles``."""
    document = copy.deepcopy(raw)
    profiles = document.pop("profiles", {}) or {}
    if not isinstance(profiles, dict):
        raise SpecError(path, "profiles", "expected a mapping of profile name -> overrides")
    for name, overrides in profiles.items():
        if name not in PROFILES:
            raise SpecError(path, f"profiles.{name}", f"unknown profile (expected one of {', '.join(PROFILES)})")
        if not isinstance(overrides, dict) or set(overrides) - {"dataset", "split"}:
            raise SpecError(path, f"profiles.{name}", "may only override 'dataset' and 'split'")
    if profile not in PROFILES:
        raise SpecError(path, "profile", f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")
    return _deep_merge(document, profiles.get(profile, {}))


def _deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _gather_params(document: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """Move component parameters written inline in YAML into ``params``.

    ``{generator: toon_objects, seed: 0, per_class: 300}`` becomes
    ``{generator: toon_objects, seed: 0, params: {per_class: 300}}``; the same
    for split sections and metric entries.
    """
    document = dict(document)
    dataset = document.get("dataset")
    if isinstance(dataset, dict) and isinstance(dataset.get("synthetic"), dict):
        dataset = dict(dataset)
        dataset["synthetic"] = _split_params(dataset["synthetic"], {"generator", "seed"})
        document["dataset"] = dataset
    if isinstance(document.get("split"), dict):
        document["split"] = _split_params(document["split"], {"method", "seed"})
    metrics = document.get("metrics")
    if isinstance(metrics, list):
        document["metrics"] = [
            _split_params(m, {"name", "fn", "higher_is_better", "leaderboard"}) if isinstance(m, dict) else m
            for m in metrics
        ]
    return document


def _split_params(section: dict[str, Any], own_keys: set[str]) -> dict[str, Any]:
    kept = {k: v for k, v in section.items() if k in own_keys}
    kept["params"] = {k: v for k, v in section.items() if k not in own_keys}
    return kept


def _check_components(spec: BenchmarkSpec, path: Path | str) -> None:
    """Resolve every named component and validate its parameters."""
    from datasets.adapters import ADAPTERS
    from datasets.generators import GENERATORS
    from datasets.protocol import SPLIT_METHODS
    from evaluator.metrics import METRICS

    def check(registry: Any, name: str, field: str, params: dict[str, Any], params_field: str) -> Any:
        if name not in registry:
            raise SpecError(path, field, registry.unknown_message(name))
        component = registry.get(name)
        _validate_params(component.params_model, params, path, params_field)
        return component

    adapter = check(ADAPTERS, spec.dataset.adapter, "dataset.adapter", spec.dataset.options, "dataset.options")
    if spec.task not in adapter.tasks:
        raise SpecError(path, "dataset.adapter", f"adapter {adapter.name!r} does not serve task {spec.task!r}")
    generator = check(
        GENERATORS, spec.dataset.synthetic.generator, "dataset.synthetic.generator",
        spec.dataset.synthetic.params, "dataset.synthetic",
    )
    if spec.task not in generator.tasks:
        raise SpecError(path, "dataset.synthetic.generator", f"generator {generator.name!r} does not serve task {spec.task!r}")
    method = check(SPLIT_METHODS, spec.split.method, "split.method", spec.split.params, "split")
    if spec.task not in method.tasks:
        raise SpecError(path, "split.method", f"split method {method.name!r} does not serve task {spec.task!r}")
    for index, metric in enumerate(spec.metrics):
        definition = check(METRICS, metric.fn, f"metrics.{index}.fn", metric.params, f"metrics.{index}")
        if spec.task not in definition.tasks:
            raise SpecError(path, f"metrics.{index}.fn", f"metric {metric.fn!r} does not apply to task {spec.task!r}")
        if definition.higher_is_better is not None and metric.higher_is_better != definition.higher_is_better:
            direction = "higher" if definition.higher_is_better else "lower"
            raise SpecError(
                path, f"metrics.{index}.higher_is_better",
                f"{metric.fn!r} is better when {direction}; expected higher_is_better: {str(definition.higher_is_better).lower()}",
            )


def _validate_params(model: type[BaseModel], params: dict[str, Any], path: Path | str, field: str) -> BaseModel:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(part) for part in error["loc"])
        problem = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        if "input" in error and error["type"] not in ("missing", "extra_forbidden"):
            problem = f"{problem} (got {error['input']!r})"
        raise SpecError(path, f"{field}.{loc}" if loc else field, problem.removeprefix("Value error, ")) from None


def component_params(model: type[BaseModel], params: dict[str, Any]) -> Any:
    """Parse already-validated parameters into the component's typed model."""
    return model.model_validate(params)
