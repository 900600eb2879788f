"""``manage.py ensure_baselines [SLUG ...]``: train missing baselines and queue them for evaluation."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from seeding.baselines import ensure_baselines


class Command(BaseCommand):
    help = "Train missing baseline checkpoints and submit every baseline absent from its current leaderboard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="only these benchmarks (default: all)")
        parser.add_argument("--data", type=Path, default=None, help="built benchmarks (default: TOONBENCH_DATA_ROOT)")

    def handle(self, *args: Any, **options: Any) -> None:
        data_root = options["data"] or settings.TOONBENCH_DATA_ROOT
        report = ensure_baselines(Path(data_root), benchmarks=options["slugs"] or None, log=self.stdout.write)
        self.stdout.write(
            f"baselines: {len(report.submitted)} submitted, {len(report.present)} already on their leaderboards"
        )
        for line in report.skipped:
            self.stdout.write(f"skipped {line}")
