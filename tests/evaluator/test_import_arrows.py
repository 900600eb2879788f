"""Imports run one way: platform -> evaluator/baselines -> datasets, with no circle and nothing hidden.

Inside the platform, the Django apps are layered the same way (``APP_TIERS``):
an app imports apps of its own tier and the tiers below, never one above, so
benchmarks -> submissions -> results/jobs -> leaderboards -> api. Where a
lower app must set off work in a higher one (a stored submission queues its
job, a stored result its comparisons), it sends a Django signal that the
higher app connects in its ``AppConfig.ready``.

The project's modules are parsed, never imported (so no Django is needed):
every import that a module makes at its top level is an arrow of the import
graph, including those under ``if TYPE_CHECKING:``. An import inside a
function would hide an arrow from that graph, so it is allowed only for the
heavy or optional third-party libraries listed below, each with its reason,
and inside a Django ``AppConfig.ready``, which Django calls once the app
registry is loaded (the place Django documents for such imports).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("datasets", "evaluator", "baselines", "toonbench_cli")
PLATFORM = REPO / "platform"
PLATFORM_APPS = tuple(sorted(path.name for path in PLATFORM.iterdir() if (path / "__init__.py").is_file()))
MAY_IMPORT = {
    "datasets": {"datasets"},
    "evaluator": {"evaluator", "datasets"},
    "baselines": {"baselines", "evaluator", "datasets"},
    "platform": {"platform", "baselines", "evaluator", "datasets"},
    "toonbench_cli": {"toonbench_cli"},  # installed alone (pyproject.toml): it speaks to the site's API only
}

# Lowest first. The project package (settings, URLs, Celery, WSGI) wires every app together and lends them
# its error pages, so it stands outside the tiers.
APP_TIERS = (
    ("benchmarks",),
    ("accounts", "teams", "registry", "organisers", "notifications"),  # who: participants, their teams, their
    # image namespaces, the hosts of a benchmark with the teams registered for it, and what each is mailed
    # (submissions and jobs hand their submissions in)
    ("uploads",),
    ("submissions",),
    ("results",),
    ("jobs", "seeding"),
    ("leaderboards", "profiles"),  # profiles: a participant's public entries, as the leaderboards show them
    ("api", "maintenance", "hostdesk"),
)
PROJECT = "toonbench_site"
TIER = {app: rank for rank, apps in enumerate(APP_TIERS) for app in apps}

LAZY_THIRD_PARTY = {
    "torch": "optional and slow to import: only the learned baselines and the FID/feature metrics need it",
    "faiss": "optional: the nearest-neighbour index of identification metrics",
    "pytorch_fid": "optional: the FID feature extractor, loaded only when a translation result is scored",
    "tqdm": "progress bars of the optional torch code paths",
    "cv2": "loaded in worker processes of the parallel generators only",
    "skimage": "optional: the sample photos of the translation generator",
    "sklearn": "optional: the sample photos of the translation generator",
    "PIL": "decoding images for the FID extractor only",
    "matplotlib": "slow to import: only when a figure is drawn",
    "django": "inside AppConfig.ready only (see below)",
}


def project_files() -> Iterator[tuple[str, Path]]:
    """(module name, file) of every project module outside tests and migrations."""
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield module_name(path.relative_to(REPO)), path
    for path in sorted(PLATFORM.rglob("*.py")):
        relative = path.relative_to(PLATFORM)
        if "migrations" in relative.parts or relative.parts[0] not in PLATFORM_APPS:
            continue
        yield module_name(relative), path


def module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(path: Path) -> str:
    relative = path.relative_to(REPO)
    return "platform" if relative.parts[0] == "platform" else relative.parts[0]


def is_project(name: str) -> bool:
    top = name.split(".")[0]
    return top in PACKAGES or top in PLATFORM_APPS


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names (``from a import b`` names ``a.b`` when that is a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parents = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
        base = ".".join([*parents, base] if base else parents)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def function_level_imports(tree: ast.Module) -> Iterator[tuple[int, str, bool]]:
    """(line, imported name, inside an AppConfig.ready) for every import inside a function."""

    def walk(node: ast.AST, in_function: bool, in_ready: bool) -> Iterator[tuple[int, str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)) and in_function:
                names = [a.name for a in child.names] if isinstance(child, ast.Import) else [child.module or "."]
                for name in names:
                    yield child.lineno, name, in_ready
            is_function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            ready = in_ready or (is_function and getattr(child, "name", "") == "ready")
            yield from walk(child, in_function or is_function, ready)

    yield from walk(tree, False, False)


def parsed() -> dict[str, tuple[Path, ast.Module]]:
    return {name: (path, ast.parse(path.read_text(), str(path))) for name, path in project_files()}


MODULES = parsed()


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at its top level."""
    graph: dict[str, set[str]] = {}
    for name, (path, tree) in MODULES.items():
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in imported_names(node, name, path.name == "__init__.py"):
                    if target in MODULES and target != name:
                        targets.add(target)
        graph[name] = targets
    return graph


def test_the_project_is_parsed_whole() -> None:
    assert {"datasets.build", "evaluator.jobs", "jobs.evaluation", "baselines.cli", "toonbench_cli.main"} <= MODULES.keys()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_hides_inside_a_function(name: str) -> None:
    path, tree = MODULES[name]
    bad = []
    for line, imported, in_ready in function_level_imports(tree):
        top = imported.split(".")[0]
        if in_ready and (is_project(imported) or top == "django"):
            continue
        if top in LAZY_THIRD_PARTY and top != "django":
            continue
        bad.append(f"{path.relative_to(REPO)}:{line}: imports {imported} inside a function")
    assert bad == []


def test_no_arrow_runs_against_the_layers() -> None:
    graph = import_graph()
    package = {name: package_of(MODULES[name][0]) for name in MODULES}
    against = sorted(
        f"{source} ({package[source]}) imports {target} ({package[target]})"
        for source, targets in graph.items()
        for target in targets
        if package[target] not in MAY_IMPORT[package[source]]
    )
    assert against == []


def test_the_import_graph_has_no_circle() -> None:
    graph = import_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert [" -> ".join(circle) for circle in circles] == []


def test_every_platform_app_has_a_tier() -> None:
    assert sorted(set(PLATFORM_APPS) - {PROJECT} - TIER.keys()) == []


def test_no_app_imports_an_app_above_it() -> None:
    graph = import_graph()
    app = {name: name.split(".")[0] for name in MODULES if package_of(MODULES[name][0]) == "platform"}
    upward = sorted(
        f"{source} ({app[source]}) imports {target} ({app[target]})"
        for source, targets in graph.items() if source in app and app[source] != PROJECT
        for target in targets
        if target in app and app[target] != PROJECT and TIER[app[target]] > TIER[app[source]]
    )
    assert upward == []
