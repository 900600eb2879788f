"""The Celery app: ``celery --workdir platform -A toonbench_site worker -Q evaluate``.

Importing this module puts the repository root and ``platform/`` on
``sys.path`` (``platform/`` is a plain folder, not a package) and points
Django at the site settings, so a worker started anywhere finds both the
Django apps and the ``evaluator`` and ``datasets`` packages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PLATFORM_DIR = Path(__file__).resolve().parent.parent
for _path in (PLATFORM_DIR.parent, PLATFORM_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toonbench_site.settings")

from celery import Celery  # noqa: E402

app = Celery("toonbench_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **_: object) -> None:
    """The filesystem transport needs its folders to exist before the first message."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
