#!/usr/bin/env python
"""Django's command-line utility for the ToonBench site."""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent
for path in (REPO_ROOT, REPO_ROOT / "platform"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "toonbench_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
