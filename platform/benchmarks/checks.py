"""System check: every benchmark spec file loads and validates (``manage.py check``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from datasets.spec import SpecError, available_slugs
from evaluator.specs import load_spec


@register()
def check_benchmark_specs(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    for slug in available_slugs():
        try:
            load_spec(slug)
        except SpecError as exc:
            errors.append(Error(str(exc), hint="fix the spec file; see DESIGN.md §1", id="toonbench.E001"))
        except Exception as exc:  # a broken component module must not hide the other specs' state
            errors.append(Error(f"{slug}: the spec could not be loaded: {type(exc).__name__}: {exc}", id="toonbench.E002"))
    return errors
