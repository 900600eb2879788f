"""Browser tests share the site tests' Django setup and fixtures (one tiny toonnet per session)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SITE_TESTS = Path(__file__).resolve().parents[1] / "site"
if str(SITE_TESTS) not in sys.path:
    sys.path.insert(0, str(SITE_TESTS))

_spec = importlib.util.spec_from_file_location("site_tests_conftest", SITE_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_site_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_site_conftest)

data_root = _site_conftest.data_root
toonnet_built = _site_conftest.toonnet_built
site = _site_conftest.site
toonnet = _site_conftest.toonnet
alice = _site_conftest.alice
bob = _site_conftest.bob
