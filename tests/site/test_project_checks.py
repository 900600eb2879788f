"""Project-wide checks that a change can silently break."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_the_system_checks_pass_including_every_benchmark_spec() -> None:
    call_command("check", fail_level="WARNING")


@pytest.mark.parametrize("package", ["evaluator", "datasets", "baselines"])
def test_worker_side_packages_never_import_django(package: str) -> None:
    offenders = []
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(REPO_ROOT)}:{node.lineno}" for name in names if name.split(".")[0] == "django"]
    assert offenders == []


def test_platform_is_a_plain_folder_so_the_stdlib_platform_module_wins() -> None:
    import platform

    assert not (REPO_ROOT / "platform" / "__init__.py").exists()
    assert hasattr(platform, "python_version")
