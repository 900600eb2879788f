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
import os
import re
from pathlib import Path
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from datasets.adapters import ADAPTERS
from datasets.components import Component
from datasets.generators import GENERATORS
from datasets.protocol import SPLIT_METHODS
from datasets.registry import Registry
from datasets.spec_models import BenchmarkSpec

BENCHMARKS_DIR = Path(__file__).resolve().parent / "benchmarks"
#: where a site writes the specs its hosts uploaded (``$TOONBENCH_SPECS_DIR``); the repository's win on a clash
DEFAULT_SPECS_DIR = Path(__file__).resolve().parent.parent / "var" / "specs"
#: the profiles every spec can be built with; a spec may declare more of its own (a sweep)
PROFILES = ("default", "tiny", "official")
PROFILE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")


class SpecError(ValueError):
    """A spec file is invalid: carries the file, the field path and the problem."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = problem
        where = f"{self.path}: {field}" if field else self.path
        super().__init__(f"{where}: {problem}")


def extra_specs_dir() -> Path:
    """The folder of the specs hosts uploaded to a site: ``$TOONBENCH_SPECS_DIR`` or ``<repo>/var/specs``."""
    configured = os.environ.get("TOONBENCH_SPECS_DIR")
    return Path(configured) if configured else DEFAULT_SPECS_DIR


def spec_path(slug: str) -> Path:
    """The repository's spec of ``slug``, else a site's uploaded one, else (missing) the repository's path."""
    bundled = BENCHMARKS_DIR / f"{slug}.yaml"
    uploaded = extra_specs_dir() / f"{slug}.yaml"
    return uploaded if not bundled.exists() and uploaded.exists() else bundled


def available_slugs() -> list[str]:
    """The repository's specs (uploaded specs are the site's, listed by its database)."""
    return sorted(p.stem for p in BENCHMARKS_DIR.glob("*.yaml"))


def is_bundled(slug: str) -> bool:
    """Whether the repository has a spec of ``slug`` (an uploaded spec may not take its slug)."""
    return (BENCHMARKS_DIR / f"{slug}.yaml").exists()


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


def spec_profiles(path: Path) -> tuple[str, ...]:
    """The standard profiles and those the spec file at ``path`` declares (nothing more where it cannot be read)."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return PROFILES
    declared = raw.get("profiles") if isinstance(raw, dict) else None
    extra = [str(name) for name in declared if name not in PROFILES] if isinstance(declared, dict) else []
    return (*PROFILES, *extra)


def validation_lines(paths: list[Path], load: Callable[[Path, str], Any] = load_spec) -> tuple[list[str], bool]:
    """``OK <path>`` or the first problem of each spec file under every profile it has, and whether all passed.

    ``load`` is the loader whose checks count (the evaluator passes its own,
    which adds the task's and the metrics' checks).
    """
    lines, passed = [], True
    for path in paths:
        try:
            for profile in spec_profiles(path):
                load(path, profile)
        except SpecError as exc:
            passed = False
            lines.append(f"{exc} (profile {profile})" if profile != "default" else str(exc))
        else:
            lines.append(f"OK {path}")
    return lines, passed


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
    spec = _validated(document, path)
    _check_components(spec, path)
    return spec


def spec_from_record(document: dict[str, Any], where: str) -> BenchmarkSpec:
    """A spec stored as ``model_dump(mode="json")`` (the site's copy), typed again.

    The dump already has the parsed shape (profile applied, parameters under
    ``params``); only the components' parameter models are applied again.
    ``where`` names the record in a ``SpecError``.
    """
    return _validated(_parse_data_params(document, where), where)


def _validated(document: dict[str, Any], path: Path | str) -> BenchmarkSpec:
    try:
        return BenchmarkSpec.model_validate(document)
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


def _apply_profile(raw: dict[str, Any], profile: str, path: Path | str) -> dict[str, Any]:
    """Deep-merge ``profiles.<profile>`` over the document and drop ``profiles``.

    The standard profiles exist for every spec; any other name the file
    declares (lower case, digits, ``_ . -``) is that spec's own, such as a
    step of a sweep.
    """
    document = copy.deepcopy(raw)
    profiles = document.pop("profiles", {}) or {}
    if not isinstance(profiles, dict):
        raise SpecError(path, "profiles", "expected a mapping of profile name -> overrides")
    for name, overrides in profiles.items():
        if not isinstance(name, str) or not PROFILE_NAME.fullmatch(name):
            raise SpecError(path, f"profiles.{name}", "a profile name is lower-case letters, digits, '_', '.' or '-', "
                            "starting with a letter")
        if not isinstance(overrides, dict) or set(overrides) - {"dataset", "split"}:
            raise SpecError(path, f"profiles.{name}", "may only override 'dataset' and 'split'")
    known = [*PROFILES, *(name for name in profiles if name not in PROFILES)]
    if profile not in known:
        raise SpecError(path, "profile", f"unknown profile {profile!r} (expected one of {', '.join(known)})")
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
