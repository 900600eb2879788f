"""``manage.py sync_benchmarks [SLUG ...] [--data ROOT]``: mirror spec files and built protocols."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.sync import sync_benchmarks
from datasets.spec import SpecError
from evaluator.specs import load_spec


class Command(BaseCommand):
    help = "Load every benchmark spec and record the protocol version of each built benchmark."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="only these benchmarks (default: every spec file)")
        parser.add_argument(
            "--data", type=Path, default=None,
            help="folder holding built benchmarks (default: TOONBENCH_DATA_ROOT)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_root = options["data"] or settings.TOONBENCH_DATA_ROOT
        try:
            specs = [load_spec(slug) for slug in options["slugs"]] if options["slugs"] else None
            report = sync_benchmarks(data_root, specs=specs)
        except SpecError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
        if report.not_built or report.stale:
            self.stdout.write(f"build missing benchmarks with: python -m datasets build <slug> --data {data_root}")
