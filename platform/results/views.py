"""A submission's page: its status, the numbers and plots of its result as far as the visitor may see them, its log."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from results import disclosure
from results.plots import plot_path, plot_title
from submissions import access
from submissions.models import Status

ACTIVE_POLL_SECONDS = 3


def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = access.visible_submission(request, pk)
    result = getattr(submission, "result", None) if submission.status == Status.FINISHED else None
    metric_rows = []
    if result is not None:
        shown = set(disclosure.visible_metric_names(request.user, submission))
        for metric in submission.benchmark.typed_spec.metrics:
            name = metric.name
            if name in result.metrics and name in shown:
                metric_rows.append({"name": name, "higher_is_better": metric.higher_is_better,
                                    "value": result.metrics[name], "ci": result.ci95.get(name)})
    own_details = result is not None and disclosure.sees_own_details(request.user, submission)
    context = {
        "submission": submission,
        "result": result,
        "metric_rows": metric_rows,
        "per_class": disclosure.per_class_table(disclosure.per_class_rates(submission.benchmark, result)) if own_details else {},
        "plots": [(name, plot_title(name)) for name in disclosure.visible_plots(request.user, result)] if result else [],
        "show_log": access.can_see_logs(request.user, submission),
        "can_manage": access.can_manage(request.user, submission),
        "can_choose": access.can_choose(request.user, submission),
        "poll_seconds": ACTIVE_POLL_SECONDS,
    }
    return render(request, "submissions/detail.html", context)


def submission_plot(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    submission = access.visible_submission(request, pk)
    result = getattr(submission, "result", None)
    if result is None or name not in disclosure.visible_plots(request.user, result):
        raise Http404(f"submission #{pk} has no {name} figure")
    path: Path = plot_path(result, name, Path(settings.MEDIA_ROOT))
    response = FileResponse(open(path, "rb"), content_type="image/png")
    shared = submission.is_public and name in disclosure.AGGREGATE_PLOTS  # a staff-only figure never enters a shared cache
    response["Cache-Control"] = "public, max-age=86400" if shared else "private, max-age=3600"
    return response
