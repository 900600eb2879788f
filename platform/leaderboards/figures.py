"""What the comparison figures of a leaderboard page show, for one viewer: which entries, which numbers.

A board's figures are composed from what the viewer may see of it and
nothing more:

- no figure at all where the board shows no rows (a phase hidden until its
  close, or private: ``Table.hidden``) or only stepped scores (a ladder);
- the top ``TOP_ROWS`` entries of the board (one per team, baselines
  included, by the rank metric) give the overlaid curves of an
  identification benchmark (CMC, ROC, rank-1 against the number of
  distractors), each entry's curves as ``results.disclosure.visible_details``
  hands them to the viewer;
- every finished entry on the board gives the best result over time;
- a translation board shows the top entries' outputs on the public
  development photos (``jobs.samples``), never a held-out photo;
- a signed-in participant also gets per-class bars of their own entries
  beside the baselines, where ``results.disclosure.sees_per_class`` lets
  them (never another participant's): ``own_figures``, rendered per request.

A figure is plain data (``BoardFigure.data``, JSON); ``leaderboards.figure_store``
draws it once per content and serves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from datasets.build import load_built
from evaluator.comparison_plots import running_best
from evaluator.samples import sample_photos
from evaluator.tasks import task_of
from jobs.samples import stored_samples
from leaderboards.queries import ranked_submissions
from leaderboards.table import Table
from results import disclosure
from submissions.models import Submission

TOP_ROWS = 5
SAMPLE_ROWS = 3
OWN_ENTRIES = 3
BASELINES_BESIDE = 3


@dataclass(frozen=True)
class BoardFigure:
    """One figure: what it is (``name``: which drawing), its title, its alt text and the data it draws."""

    name: str
    title: str
    alt: str
    data: dict[str, Any] = field(default_factory=dict)


def entry_label(submission: Submission) -> str:
    """How a figure names an entry: its method, and its team or ``baseline``."""
    owner = "baseline" if submission.is_baseline else submission.team.name
    return f"{submission.method_name} ({owner})"


def names_in_words(labels: list[str]) -> str:
    return "; ".join(labels)


def board_figures(table: Table, viewer: Any) -> list[BoardFigure]:
    """The figures every visitor who sees this board may see (the shared, cacheable part of the page)."""
    if table.protocol is None or table.hidden or table.is_ladder:
        return []
    figures = curve_figures(table, viewer)
    best = best_over_time_figure(table, timezone.now())
    if best is not None:
        figures.append(best)
    samples = sample_grid_figure(table)
    if samples is not None:
        figures.append(samples)
    return figures


def top_entries(table: Table, count: int = TOP_ROWS) -> list[Submission]:
    """The board's first ``count`` rows by its rank metric, under its entry rule."""
    ranked = ranked_submissions(table.benchmark, table.protocol, rule=table.rule, phase=table.phase)
    return list(ranked[:count])


def curve_figures(table: Table, viewer: Any) -> list[BoardFigure]:
    """Overlaid CMC, ROC and rank-1-against-distractors curves of the top entries that have them."""
    cmc, roc, rank1 = [], [], []
    for submission in top_entries(table):
        result = getattr(submission, "result", None)
        if result is None:
            continue
        shown = disclosure.visible_details(viewer, submission, result)
        label = entry_label(submission)
        identification = shown.get("identification") or {}
        if identification.get("cmc"):
            cmc.append({"label": label, "cmc": identification["cmc"]})
        distractors = identification.get("rank1_vs_distractors") or {}
        if distractors.get("distractors"):
            rank1.append({"label": label, "distractors": distractors["distractors"], "rank1": distractors["rank1"]})
        curve = (shown.get("verification") or {}).get("roc") or {}
        if curve.get("fpr"):
            shown_auc = "auc" in disclosure.visible_metric_names(viewer, submission)
            roc.append({"label": label, "fpr": curve["fpr"], "tpr": curve["tpr"],
                        "auc": result.metrics.get("auc") if shown_auc else None})
    protocol = table.protocol.short_hash if table.protocol is not None else ""
    figures = []
    if cmc:
        rates = [f"{entry['label']}: rank-1 {entry['cmc'][0]:.3f}" for entry in cmc]
        figures.append(BoardFigure(
            "cmc", "CMC curves of the top entries",
            f"CMC curves (identification rate against rank, log scale) of the top {len(cmc)} entries on protocol "
            f"{protocol}, overlaid: {names_in_words(rates)}.", {"curves": cmc}))
    if roc:
        aucs = [f"{entry['label']}: AUC {entry['auc']:.4f}" if entry["auc"] is not None else entry["label"]
                for entry in roc]
        figures.append(BoardFigure(
            "roc", "Verification ROC of the top entries",
            f"Verification ROC curves (true against false accept rate, log scale) of the top {len(roc)} entries "
            f"on protocol {protocol}, overlaid: {names_in_words(aucs)}.", {"curves": roc}))
    if rank1:
        ends = [f"{entry['label']}: {entry['rank1'][-1]:.3f} with {entry['distractors'][-1]} distractors"
                for entry in rank1]
        figures.append(BoardFigure(
            "rank1", "Rank-1 against the number of distractors",
            f"Rank-1 identification rate against the number of distractors of the top {len(rank1)} entries on "
            f"protocol {protocol}, overlaid: {names_in_words(ends)}.", {"curves": rank1}))
    return figures


def best_over_time_figure(table: Table, now: datetime) -> BoardFigure | None:
    """The running best of the rank metric over every finished entry of the board, by finish time."""
    benchmark = table.benchmark
    metric = benchmark.rank_by
    higher = benchmark.higher_is_better(metric)
    entries = ranked_submissions(benchmark, table.protocol, view="all", phase=table.phase)
    points = []
    for finished, created, score, method, baseline, team in entries.values_list(
            "finished_at", "created", "score", "method_name", "is_baseline", "team__name"):
        if score is not None and math.isfinite(score):
            label = f"{method} ({'baseline' if baseline else team})"
            points.append(((finished or created).isoformat(), float(score), label))
    if not points:
        return None
    bests = running_best(points, higher)
    first, last = bests[0], bests[-1]
    return BoardFigure(
        "best_over_time", f"Best {metric} over time",
        f"Best {metric} ({'higher' if higher else 'lower'} is better) over time as a step line, from "
        f"{first[2]} at {first[1]:.3f} ({first[0][:10]}) to {last[2]} at {last[1]:.3f} ({last[0][:10]}): "
        f"{len(bests)} new best{'s' if len(bests) != 1 else ''} among {len(points)} finished entries, baselines "
        "included.",
        {"metric": metric, "higher_is_better": higher, "points": [list(best) for best in bests],
         "until": now.date().isoformat()})


def sample_grid_figure(table: Table) -> BoardFigure | None:
    """Development photos through the top entries that kept sample outputs (translation boards only)."""
    benchmark = table.benchmark
    if not task_of(benchmark.typed_spec).shows_samples or table.protocol is None:
        return None
    try:
        built = load_built(benchmark.slug, Path(settings.TOONBENCH_DATA_ROOT))
    except (FileNotFoundError, ValueError):
        return None
    photos = sample_photos(built) if built.protocol_hash == table.protocol.protocol_hash else []
    if not photos:
        return None
    ids = [photo.id for photo in photos]
    rows = []
    for submission in top_entries(table):
        kept = stored_samples(submission.pk, ids)
        if kept:
            rows.append({"label": entry_label(submission), "outputs": [kept.get(photo) for photo in ids],
                         "result": submission.result.pk})
        if len(rows) == SAMPLE_ROWS:
            break
    if not rows:
        return None
    return BoardFigure(
        "samples", "Development photos through the top entries",
        f"{len(ids)} public development photos ({', '.join(ids)}) in the first row, and below them what each of "
        f"the top {len(rows)} entries made of them: {names_in_words([row['label'] for row in rows])}.",
        {"slug": benchmark.slug, "photos": [[photo.id, photo.path] for photo in photos], "rows": rows})


def own_figures(table: Table, viewer: Any) -> list[BoardFigure]:
    """Per-class bars of the signed-in viewer's own public entries beside the baselines (per user, never shared)."""
    if not getattr(viewer, "is_authenticated", False) or table.protocol is None or table.hidden or table.is_ladder:
        return []
    entries = ranked_submissions(table.benchmark, table.protocol, viewer=viewer, view="all", phase=table.phase)
    # Only entries the board lists: a private entry stays on its own page, off the leaderboard page.
    own = [s for s in entries.filter(owner=viewer, is_baseline=False, is_public=True)[:OWN_ENTRIES]
           if disclosure.sees_per_class(viewer, s)]
    if not own:
        return []
    baselines = [s for s in entries.filter(is_baseline=True)[:BASELINES_BESIDE] if disclosure.sees_per_class(viewer, s)]
    figure = per_class_figure(table, own, baselines)
    return [figure] if figure is not None else []


def per_class_figure(table: Table, own: list[Submission], baselines: list[Submission]) -> BoardFigure | None:
    """Bars of one per-class metric (the rank metric when it has per-class rates) for the given entries."""
    rates = {s.pk: disclosure.per_class_rates(table.benchmark, s.result) for s in own + baselines}
    names = [row["metric"] for found in rates.values() for row in found]
    if not names:
        return None
    metric = table.benchmark.rank_by if table.benchmark.rank_by in names else names[0]
    series, classes = [], []
    for submission in own + baselines:
        row = next((row for row in rates[submission.pk] if row["metric"] == metric), None)
        if row is not None:
            classes = classes or [cell["class"] for cell in row["rates"]]
            series.append({"label": entry_label(submission), "own": not submission.is_baseline,
                           "values": [cell["value"] for cell in row["rates"]]})
    mine = [entry["label"] for entry in series if entry["own"]]
    if not mine:
        return None
    others = [entry["label"] for entry in series if not entry["own"]]
    beside = f" beside the baselines {names_in_words(others)}" if others else " (no baseline has per-class rates)"
    return BoardFigure(
        "per_class", f"Per-class {metric}: your entries and the baselines",
        f"Per-class {metric} on {len(classes)} classes as grouped bars: your entries {names_in_words(mine)}{beside}.",
        {"metric": metric, "classes": classes, "series": series})
