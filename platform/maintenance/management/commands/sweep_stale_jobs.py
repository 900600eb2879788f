"""``manage.py sweep_stale_jobs [--every SECONDS]``: requeue or fail jobs whose worker died.

The same pass as the periodic Celery task (``maintenance.tasks``): it also
removes scratch folders of ended jobs and chunked uploads that were
abandoned, and makes the paired comparisons that visibility changes left for
the maintenance pass.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from maintenance.tasks import sweep_stale_jobs


class Command(BaseCommand):
    help = "Requeue running jobs whose heartbeat stopped (failing those out of attempts); resend lost messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every SECONDS (default: run once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            report = sweep_stale_jobs()
            for label in ("requeued", "failed", "resent"):
                if report[label]:
                    self.stdout.write(f"{label}: {', '.join(f'#{pk}' for pk in report[label])}")
            if report["removed_uploads"]:
                self.stdout.write(f"removed abandoned uploads: {', '.join(report['removed_uploads'])}")
            if report["compared"]:
                self.stdout.write(f"compared {report['compared']} leaderboard neighbour pairs")
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
