"""What of a result each visitor sees, so that no page or API answer becomes an oracle for the test truth.

A result's ``details`` hold a confusion matrix and per-class counts of the
hidden test split. Shown to the submitter, a confusion matrix tells which
class each crafted group of items belongs to: a handful of submissions that
predict one class for chosen items recover every label of a small split.
So:

- everyone: the protocol's leaderboard metrics with their 95% intervals, and
  the aggregate curves (CMC, ROC), which count items but name none;
- the owner, in addition: the protocol's other metrics and its per-class
  rates (each classification metric's top-k rate per class), rounded to the
  leaderboard's precision, and the public baselines' per-class rates to
  read them against (``sees_per_class``);
- staff: everything, confusion matrix and per-class figures included.

A submission to a competition phase shows nothing of its result (metrics,
intervals, curves) where the phase's leaderboard hides it: to anyone but
the hosts and the submitting team while a ``hidden_until_close`` board is
hidden or on a ``private`` one, and to anyone but the hosts on a ``ladder``
phase, whose board shows only the rounded score that climbed a step.

Views, templates and the API take what they show from here.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from benchmarks.models import Benchmark
from datasets.phases import Visibility
from organisers.hosts import is_host, phase_leaderboard_visible
from results.models import Result
from results.plots import available_plots
from submissions import access
from submissions.models import Submission
from teams.services import is_member

AGGREGATE_PLOTS = ("cmc", "rank1_distractors", "roc")  # curves that count items but name none
TOPK_FUNCTIONS = {"topk_error": "error", "topk_precision": "precision"}


def sees_everything(user: Any) -> bool:
    """Staff see the truth-shaped details of the test split (confusion matrices, per-class counts)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def sees_own_details(user: Any, submission: Submission) -> bool:
    return access.is_owner_or_staff(user, submission) and not phase_hides_result(user, submission)


def sees_per_class(user: Any, submission: Submission) -> bool:
    """Per-class rates: of one's own entries (staff: any), and of a public bundled baseline beside them.

    A baseline is a fixed model that no participant steers, so its rates
    answer no question a participant crafted; another participant's never show.
    """
    if sees_own_details(user, submission):
        return True
    return submission.is_baseline and submission.is_public and not phase_hides_result(user, submission)


def phase_hides_result(user: Any, submission: Submission, now: datetime | None = None) -> bool:
    """Whether the submission's phase keeps its result from ``user`` (see the module docstring)."""
    phase = submission.phase
    viewer = user if user is not None else AnonymousUser()
    if phase is None or is_host(viewer, submission.benchmark):
        return False
    if phase.leaderboard == Visibility.ladder:
        return True
    if phase_leaderboard_visible(phase, viewer, now or timezone.now()):
        return False
    return not (viewer.is_authenticated and is_member(viewer, submission.team))


def leaderboard_precision(value: float | None) -> float | None:
    """A number as the leaderboard prints it (the ``metric`` filter): three decimals below 10, two above."""
    if value is None or not math.isfinite(float(value)):
        return None
    number = float(value)
    return round(number, 3) if abs(number) < 10 else round(number, 2)


def visible_plots(user: Any, result: Result | None) -> list[str]:
    if result is None or phase_hides_result(user, result.submission):
        return []
    names = available_plots(result)
    return names if sees_everything(user) else [name for name in names if name in AGGREGATE_PLOTS]


def visible_metric_names(user: Any, submission: Submission) -> list[str]:
    """The spec's metrics in spec order: leaderboard ones for everyone, all of them for the owner and staff;
    none where the submission's phase hides its result."""
    if phase_hides_result(user, submission):
        return []
    everything = sees_own_details(user, submission)
    return [metric.name for metric in submission.benchmark.typed_spec.metrics if everything or metric.leaderboard]


def per_class_rates(benchmark: Benchmark, result: Result) -> list[dict[str, Any]]:
    """For each top-k metric of the protocol: its rate per class, at the leaderboard's precision.

    Rows are ``{"metric", "higher_is_better", "rates": [{"class", "value"}]}``;
    an error metric gets ``1 - precision``. Counts are never included.
    """
    classification = (result.details or {}).get("classification")
    if not classification:
        return []
    class_names = list(classification.get("class_names", []))
    precision_by_k = classification.get("per_class_precision", {})
    rows = []
    for metric in benchmark.typed_spec.metrics:
        kind = TOPK_FUNCTIONS.get(metric.fn)
        k = metric.params.get("k")
        precision = precision_by_k.get(f"top{k}")
        if kind is None or precision is None:
            continue
        values = [None if p is None else (1.0 - p if kind == "error" else p) for p in precision]
        rows.append({
            "metric": metric.name,
            "higher_is_better": metric.higher_is_better,
            "rates": [{"class": name, "value": leaderboard_precision(value)} for name, value in zip(class_names, values)],
        })
    return rows


def per_class_table(rates: list[dict[str, Any]]) -> dict[str, Any]:
    """``per_class_rates`` turned for a page: one column per metric, one row per class."""
    if not rates:
        return {}
    columns = [{"metric": row["metric"], "higher_is_better": row["higher_is_better"]} for row in rates]
    classes = [cell["class"] for cell in rates[0]["rates"]]
    rows = [{"class": name, "values": [row["rates"][index]["value"] for row in rates]} for index, name in enumerate(classes)]
    return {"columns": columns, "rows": rows}


def visible_details(user: Any, submission: Submission, result: Result) -> dict[str, Any]:
    """``result.details`` as far as ``user`` may see them (see the module docstring)."""
    details = result.details or {}
    if sees_everything(user):
        return details
    if phase_hides_result(user, submission):
        return {}
    shown: dict[str, Any] = {}
    if "identification" in details:
        identification = details["identification"]
        shown["identification"] = {
            "cmc": identification.get("cmc", []),
            "rank1_vs_distractors": identification.get("rank1_vs_distractors", {}),
        }
    if "verification" in details:
        shown["verification"] = {"roc": details["verification"].get("roc", {})}
    if sees_own_details(user, submission):
        rates = per_class_rates(submission.benchmark, result)
        if rates:
            shown["per_class"] = rates
    return shown
