"""Sharing one test folder's fixtures with another.

pytest gives a conftest's fixtures to its own folder only. The CLI, registry
and browser tests run against the site tests' Django configuration and
fixtures, so their conftests load tests/site/conftest.py (and the registry's
tests/runners/conftest.py) under a module name of their own and re-export
the fixtures they use.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent


def borrow_conftest(folder: str, name: str) -> ModuleType:
    """``tests/<folder>/conftest.py`` loaded as module ``name``; its folder goes on sys.path for its helpers."""
    path = TESTS / folder
    if str(path) not in sys.path:
        sys.path.append(str(path))
    spec = importlib.util.spec_from_file_location(name, path / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
