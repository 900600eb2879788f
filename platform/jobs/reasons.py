"""Failure reasons as the public sees them: no host paths.

A reason is stored once (``DjangoJobStore.set_status``) and shown on public
submission pages, so the work, data and media roots are replaced by neutral
names and any other absolute path by ``<path>``. Paths inside the container
(``/input``, ``/output``, what the submission itself sees) are kept: they
tell the submitter what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from evaluator.folders import SCRATCH_PREFIX

CONTAINER_PATHS = ("/input", "/output")
# A job's scratch /input or /output folder on the host: shown as the container path it is mounted at.
_SCRATCH_MOUNT = re.compile(
    rf"(?<![\w.:/~>-])/[\w.@%+~/-]*?/{re.escape(SCRATCH_PREFIX)}[\w.-]*/(input|output)(?![\w.-])"
)
# An absolute path: a '/' that does not follow a word, dot, colon, slash or placeholder (so URLs,
# image references, ratios such as 3/4 and the rest of a replaced root stay), then path characters.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~>-])/[\w.@%+~-]*(?:/[\w.@%+~-]*)*")


def host_roots() -> list[tuple[str, str]]:
    """(placeholder, host folder) pairs, each root as configured and resolved, longest folder first."""
    roots = {
        "<work>": settings.TOONBENCH_WORK_ROOT,
        "<data>": settings.TOONBENCH_DATA_ROOT,
        "<media>": settings.MEDIA_ROOT,
        "<site>": settings.REPO_ROOT,
    }
    pairs = {(name, text) for name, folder in roots.items() if folder
             for text in (str(folder), str(Path(folder).resolve())) if text not in ("", "/")}
    return sorted(pairs, key=lambda pair: -len(pair[1]))


def public_reason(text: str) -> str:
    """``text`` with every host path replaced; container paths and URLs left as they are."""
    text = _SCRATCH_MOUNT.sub(r"/\1", text)
    for placeholder, folder in host_roots():
        text = text.replace(folder, placeholder)
    return _ABSOLUTE_PATH.sub(_neutral_path, text)


def _neutral_path(match: re.Match[str]) -> str:
    path = match.group(0)
    if path == "/" or any(path == root or path.startswith(f"{root}/") for root in CONTAINER_PATHS):
        return path
    return "<path>"
