"""Browser tests share the site tests' Django setup and fixtures (one tiny toonnet per session)."""

from __future__ import annotations

from fixture_sharing import borrow_conftest

_site_conftest = borrow_conftest("site", "site_tests_conftest")

data_root = _site_conftest.data_root
toonnet_built = _site_conftest.toonnet_built
site = _site_conftest.site
toonnet = _site_conftest.toonnet
alice = _site_conftest.alice
bob = _site_conftest.bob
