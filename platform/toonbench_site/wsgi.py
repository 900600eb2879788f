"""WSGI entry point: ``gunicorn --chdir platform toonbench_site.wsgi``."""

import os
import sys
from pathlib import Path

PLATFORM_DIR = Path(__file__).resolve().parent.parent
for _path in (PLATFORM_DIR.parent, PLATFORM_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toonbench_site.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

django_application = get_wsgi_application()

# Imported once Django is set up: the cache reads the leaderboard version from the database.
from leaderboards.pagecache import AnonymousPageCache  # noqa: E402

application = AnonymousPageCache(django_application)
