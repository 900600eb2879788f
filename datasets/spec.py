"""Benchmark specs: one YAML file per benchmark, parsed into typed models.

``load_spec`` is the only loader. Every problem is reported as a
``SpecError`` naming the file, the field path and what was expected.
Specs may only name registered components (adapters, generators, split
methods); their parameters are validated against the component's own
pydantic model so unknown or mistyped keys are caught on load, and parsed
into that model once, here: ``spec.dataset.synthetic.params``,
``spec.dataset.options`` and ``spec.split.params`` are typed. A classification
spec's classes must be ones its generator can draw. The task is a
name here: the data components declare which tasks they serve, and
everything a task means, its own spec checks and the metrics' checks belong
to the evaluator (``evaluator.specs`` loads a spec with those checks too),
so ``datasets`` never imports the evaluator.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    ValidationError,
    model_serializer,
    model_validator,
)

from datasets.adapters import ADAPTERS
from datasets.components import Component, NoParams, Params
from datasets.generators import GENERATORS
from datasets.protocol import SPLIT_METHODS
from datasets.registry import Registry

BENCHMARKS_DIR = Path(__file__).resolve().parent / "benchmarks"
PROFILES = ("default", "tiny", "official")


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


class BenchmarkSpec(Strict):
    """One benchmark. ``order`` places it in lists of benchmarks (those without one come last, by
    slug); it says nothing about the protocol, so the spec's hash leaves it out.

    ``real_split``, when set, is the split a build from the real dataset uses
    (for example the split its authors published) while the synthetic stand-in
    keeps ``split``; a spec without one hashes as if the field did not exist.
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

    def spec_hash(self) -> str:
        """sha256 of the canonical spec (profile applied, source path and list order excluded)."""
        unset = {"real_split"} if self.real_split is None else set()
        payload = self.model_dump(mode="json", exclude={"source_path", "order"} | unset)
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


def listing_order(spec: BenchmarkSpec) -> tuple[bool, int, str]:
    """Sort key of a benchmark in lists: its ``order``, then its slug; benchmarks without an order last."""
    return (spec.order is None, spec.order or 0, spec.slug)


def ordered_slugs() -> list[str]:
    """Every benchmark's slug in listing order."""
    return [spec.slug for spec in sorted(load_all_specs(), key=listing_order)]


def parse_spec(raw: Any, path: Path | str, profile: str = "default") -> BenchmarkSpec:
    """Validate a parsed YAML document; see ``load_spec``."""
    if not isinstance(raw, dict):
        raise SpecError(path, "", f"expected a mapping at the top level, got {type(raw).__name__}")
    document = _apply_profile(raw, profile, path)
    document = _gather_params(document, path)
    document = _parse_data_params(document, path)
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
    for section in ("split", "real_split"):
        if isinstance(document.get(section), dict):
            document[section] = _split_params(document[section], {"method", "seed"})
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


def _parse_data_params(document: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """Resolve the adapter, generator and split method and parse each one's parameters into its model.

    A section whose component name is not a string is left for the model's
    own validation to report.
    """
    document = dict(document)
    dataset = document.get("dataset")
    if isinstance(dataset, dict):
        dataset = dict(dataset)
        adapter = _named_component(ADAPTERS, dataset.get("adapter"), path, "dataset.adapter")
        if adapter is not None:
            dataset["options"] = validate_params(adapter.params_model, dataset.get("options", {}), path, "dataset.options")
        synthetic = dataset.get("synthetic")
        if isinstance(synthetic, dict):
            generator = _named_component(GENERATORS, synthetic.get("generator"), path, "dataset.synthetic.generator")
            if generator is not None:
                params = validate_params(generator.params_model, synthetic["params"], path, "dataset.synthetic")
                dataset["synthetic"] = {**synthetic, "params": params}
        document["dataset"] = dataset
    for section in ("split", "real_split"):
        split = document.get(section)
        if isinstance(split, dict):
            method = _named_component(SPLIT_METHODS, split.get("method"), path, f"{section}.method")
            if method is not None:
                params = validate_params(method.params_model, split["params"], path, section)
                document[section] = {**split, "params": params}
    return document


def _named_component(registry: Registry[Any], name: Any, path: Path | str, field: str) -> Component | None:
    if not isinstance(name, str):
        return None
    if name not in registry:
        raise SpecError(path, field, registry.unknown_message(name))
    return registry.get(name)


def _check_components(spec: BenchmarkSpec, path: Path | str) -> None:
    """Every data component serves the spec's task, and the generator draws every class the spec names."""
    adapter = ADAPTERS.get(spec.dataset.adapter)
    if spec.task not in adapter.tasks:
        raise SpecError(path, "dataset.adapter", f"adapter {adapter.name!r} does not serve task {spec.task!r}")
    generator = GENERATORS.get(spec.dataset.synthetic.generator)
    if spec.task not in generator.tasks:
        raise SpecError(path, "dataset.synthetic.generator", f"generator {generator.name!r} does not serve task {spec.task!r}")
    if generator.classes:
        for index, name in enumerate(spec.classes):
            if name not in generator.classes:
                raise SpecError(
                    path, f"classes.{index}",
                    f"generator {generator.name!r} cannot draw class {name!r} (it draws: {', '.join(generator.classes)})",
                )
    for section, split in (("split", spec.split), ("real_split", spec.real_split)):
        if split is None:
            continue
        method = SPLIT_METHODS.get(split.method)
        if spec.task not in method.tasks:
            raise SpecError(path, f"{section}.method", f"split method {method.name!r} does not serve task {spec.task!r}")


def validate_params(model: type[BaseModel], params: dict[str, Any], path: Path | str, field: str) -> BaseModel:
    """Parameters checked against a component's model; a ``SpecError`` names ``field`` and the bad key."""
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
