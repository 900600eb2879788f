"""Pages that show leaderboards: the home page (each benchmark's best entry), a benchmark's page (its
protocol, leaderboard (one row per team, or every submission with ``?view=all``) and comparison figures
(``leaderboards.figures``)), a board figure's image, the leaderboard's CSV export, and a team's page with
the team's public entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from benchmarks.bundles import role_counts
from benchmarks.models import Benchmark, ProtocolVersion
from benchmarks.views import selected_protocol
from datasets.spec_models import SplitSection
from leaderboards.figure_store import page_views, shared_name
from leaderboards.figures import board_figures, own_figures
from leaderboards.queries import entry_rule, ranked_submissions
from leaderboards.table import Cell, best_entry, leaderboard_table, sort_metric, table_csv
from results import disclosure
from results.models import MetricValue
from submissions.models import Status, Submission
from teams.models import Team
from teams.views import team_page_context

TEAM_ENTRIES_SHOWN = 200


def split_words(split: SplitSection) -> str:
    """The split section in words: ``stratified, 30% held out for test, seed 0``."""
    params = split.params.model_dump(mode="json", exclude_unset=True)
    words = [split.method]
    fraction = params.pop("test_fraction", None)
    if fraction is not None:
        words.append(f"{float(fraction) * 100:g}% held out for test")
    words += [f"{key.replace('_', ' ')} {value}" for key, value in sorted(params.items())]
    words.append(f"seed {split.seed}")
    return ", ".join(words)


@dataclass
class BenchmarkCard:
    benchmark: Benchmark
    protocol: ProtocolVersion | None
    best: Submission | None
    best_cell: Cell | None


def home(request: HttpRequest) -> HttpResponse:
    cards = []
    for benchmark in Benchmark.objects.filter(is_active=True):
        best = best_entry(benchmark) or (None, None)
        cards.append(BenchmarkCard(benchmark, benchmark.current_version(), *best))
    return render(request, "benchmarks/home.html", {"cards": cards})


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def benchmark_detail(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
    protocol = selected_protocol(benchmark, request.GET.get("version", ""))
    sort, page = sort_metric(benchmark, request.GET.get("sort")), page_number(request)
    table = leaderboard_table(benchmark, protocol, sort, page, view=request.GET.get("view"),
                              phase=request.GET.get("phase"), viewer=request.user)
    spec = protocol.typed_spec if protocol is not None else benchmark.typed_spec
    context = {
        "benchmark": benchmark,
        "protocol": protocol,
        "current": benchmark.current_version(),
        "versions": list(benchmark.versions.all()),
        "spec": spec,
        "split": split_words(spec.split_for(protocol.source if protocol is not None else "synthetic")),
        "metrics": [{**metric.model_dump(), "is_rank": metric.name == spec.leaderboard.rank_by} for metric in spec.metrics],
        "limits": spec.limits,
        "classes": spec.classes,
        "roles": role_counts(slug) if protocol is not None and protocol.is_current else {},
        "task": benchmark.task_words,
        "table": table,
        "sort": sort,
        "entry_rule": table.rule.value,
        "phases": list(benchmark.phases.order_by("opens")),
    }
    context["figures"], context["own_figures"] = page_views(
        slug, board_figures(table, request.user), own_figures(table, request.user))
    return render(request, "benchmarks/detail.html", context)


@require_GET
def leaderboard_figure(request: HttpRequest, slug: str, digest: str) -> HttpResponse:
    """A board figure by the digest its page linked (``leaderboards.figure_store``); its content never changes."""
    get_object_or_404(Benchmark.objects.visible(), slug=slug)
    name = shared_name(digest)
    if name is None or not default_storage.exists(name):
        raise Http404(f"figure: no figure {digest!r} on {slug!r}")
    response = FileResponse(default_storage.open(name, "rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def leaderboard_csv(request: HttpRequest, slug: str) -> HttpResponse:
    benchmark = get_object_or_404(Benchmark.objects.visible(), slug=slug)
    protocol = selected_protocol(benchmark, request.GET.get("version", ""))
    table = leaderboard_table(benchmark, protocol, request.GET.get("sort"), page_size=None,
                              view=request.GET.get("view"), phase=request.GET.get("phase"), viewer=request.user)
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    version = protocol.short_hash if protocol is not None else "none"
    board = f"-{table.phase.slug}" if table.phase is not None else ""
    response["Content-Disposition"] = f'attachment; filename="{slug}{board}-leaderboard-{version}.csv"'
    return response


@dataclass
class TeamEntry:
    """One public finished submission of a team, its value on its benchmark's rank metric, and whether it is
    the team's row on the current leaderboard."""

    submission: Submission
    metric: str
    value: float | None
    is_row: bool


def team_entries(team: Team, viewer: Any = None, limit: int = TEAM_ENTRIES_SHOWN) -> list[TeamEntry]:
    """The team's public finished submissions, newest first (at most ``limit``); no value where the
    submission's phase hides its result from ``viewer`` (``results.disclosure``)."""
    submissions = list(
        Submission.objects.filter(team=team, is_public=True, status=Status.FINISHED, is_baseline=False)
        .select_related("benchmark", "protocol", "phase").defer("log_tail").order_by("-created")[:limit]
    )
    benchmarks = {submission.benchmark_id: submission.benchmark for submission in submissions}
    values = dict(
        ((submission_id, name), value) for submission_id, name, value in MetricValue.objects.filter(
            submission_id__in=[submission.pk for submission in submissions],
            name__in={benchmark.rank_by for benchmark in benchmarks.values()},
        ).values_list("submission_id", "name", "value")
    )
    boards = {(submission.benchmark, submission.phase) for submission in submissions}
    rows = {pk for benchmark, phase in boards
            for pk in ranked_submissions(benchmark, phase=phase, rule=entry_rule(benchmark, phase))
            .filter(team=team).values_list("pk", flat=True)}
    entries = []
    for submission in submissions:
        metric = submission.benchmark.rank_by
        if disclosure.phase_hides_result(viewer, submission):
            entries.append(TeamEntry(submission, metric, None, False))
        else:
            entries.append(TeamEntry(submission, metric, values.get((submission.pk, metric)), submission.pk in rows))
    return entries


@require_GET
def team_page(request: HttpRequest, name: str) -> HttpResponse:
    """A team's page: its members and its public entries."""
    context = team_page_context(name)
    context["entries"] = team_entries(context["team"], request.user)  # type: ignore[arg-type]
    return render(request, "teams/team.html", context)
