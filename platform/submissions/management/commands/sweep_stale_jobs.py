"""``manage.py sweep_stale_jobs [--every SECONDS]``: requeue or fail jobs whose worker died.

The same sweep as the periodic Celery task: it also removes scratch folders of
ended jobs and chunked uploads that were abandoned, and makes the paired
comparisons that visibility changes left for the maintenance pass.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from leaderboards.comparisons import compare_visible_neighbours
from submissions.chunked import remove_abandoned_uploads
from submissions.queueing import sweep_and_requeue


class Command(BaseCommand):
    help = "Requeue running jobs whose heartbeat stopped (failing those out of attempts); resend lost messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every SECONDS (default: run once)")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            report = sweep_and_requeue()
            removed_uploads = remove_abandoned_uploads()
            for label, ids in (("requeued", report.requeued), ("failed", report.failed), ("resent", report.resent)):
                if ids:
                    self.stdout.write(f"{label}: {', '.join(f'#{pk}' for pk in ids)}")
            if removed_uploads:
                self.stdout.write(f"removed abandoned uploads: {', '.join(removed_uploads)}")
            compared = compare_visible_neighbours()
            if compared:
                self.stdout.write(f"compared {compared} leaderboard neighbour pairs")
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
