"""Drawing a leaderboard figure once per content, keeping it, and handing it to a page.

A figure's file is named by its digest: an HMAC (keyed by the site's secret
key) of what it draws. The same numbers always give the same name, so a page
rendered again after an unrelated change reuses the drawn file, and the
file's URL never changes its content (it is served as immutable). Nobody can
name a figure they were not shown: the digest cannot be computed without the
key.

Figures every visitor of a board may see live under ``figures/`` in the
site's file storage and are linked from the page (``FigureView.url``), so the
anonymous page cache keeps a small page. A viewer's own figures (per-class
bars of their entries) live under ``figures/own/``, which no URL serves:
they are put into the signed-in viewer's page itself (``data:`` URI).

The digest also holds the week it is drawn in (``generation``), so a page
links only names of its own week, and the maintenance pass removes files
older than ``KEEP`` (``remove_old_figures``): no page, cached or not, still
links them, and the figures still shown are drawn again under new names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from evaluator import comparison_plots as plots
from leaderboards.figures import BoardFigure

logger = logging.getLogger(__name__)
SHARED = "figures"
OWN = "figures/own"
DIGEST_CHARS = 40
# A week's pages link that week's names (plus the 5-minute page cache): a file older than 8 days is linked nowhere.
KEEP = timedelta(days=8)


@dataclass(frozen=True)
class FigureView:
    """A figure as a page shows it: title, alt text and where the image is (a URL or a ``data:`` URI)."""

    name: str
    title: str
    alt: str
    src: str


def generation(now: datetime) -> str:
    """The ISO week a figure is drawn in, part of its digest."""
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def digest(figure: BoardFigure, now: datetime | None = None) -> str:
    week = generation(now or timezone.now())
    payload = json.dumps({"name": figure.name, "data": figure.data, "generation": week}, sort_keys=True,
                         separators=(",", ":"))
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"leaderboard-figure:{payload}".encode(), hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def shared_name(figure_digest: str) -> str | None:
    """Where a board figure with this digest is kept; None for anything that is not a digest."""
    if len(figure_digest) != DIGEST_CHARS or any(char not in "0123456789abcdef" for char in figure_digest):
        return None
    return f"{SHARED}/{figure_digest}.png"


def stored(name: str, figure: BoardFigure) -> str:
    """The storage name of the drawn figure, drawing it first when it is not kept yet."""
    if not default_storage.exists(name):
        with tempfile.TemporaryDirectory() as scratch:
            path = draw(figure, Path(scratch) / "figure.png")
            if not default_storage.exists(name):  # another request may have drawn it meanwhile
                default_storage.save(name, ContentFile(path.read_bytes()))
    return name


def remove_old_figures(now: datetime | None = None) -> int:
    """Delete the drawn figures (board and own) older than ``KEEP``; returns how many were removed."""
    cutoff = (now or timezone.now()) - KEEP
    removed = 0
    for folder in (SHARED, OWN):
        try:
            _, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        for name in (f"{folder}/{file}" for file in files if file.endswith(".png")):
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
                removed += 1
    return removed


def shared_view(slug: str, figure: BoardFigure) -> FigureView:
    """A board figure, drawn if needed, linked by its digest."""
    found = digest(figure)
    stored(f"{SHARED}/{found}.png", figure)
    return FigureView(figure.name, figure.title, figure.alt, reverse("leaderboard_figure", args=[slug, found]))


def own_view(figure: BoardFigure) -> FigureView:
    """A viewer's own figure, drawn if needed, inlined as a ``data:`` URI (no URL serves it)."""
    name = stored(f"{OWN}/{digest(figure)}.png", figure)
    with default_storage.open(name, "rb") as handle:
        encoded = base64.b64encode(handle.read()).decode()
    return FigureView(figure.name, figure.title, figure.alt, f"data:image/png;base64,{encoded}")


def page_views(slug: str, shared: list[BoardFigure],
               own: list[BoardFigure]) -> tuple[list[FigureView], list[FigureView]]:
    """The page's figures, drawn where needed; one that cannot be drawn is left out (and logged), so a
    figure never costs the leaderboard its page."""
    return ([view for figure in shared if (view := _safely(lambda figure=figure: shared_view(slug, figure)))],
            [view for figure in own if (view := _safely(lambda figure=figure: own_view(figure)))])


def _safely(make: Callable[[], FigureView]) -> FigureView | None:
    try:
        return make()
    except Exception:
        logger.exception("a leaderboard figure could not be drawn")
        return None


def draw(figure: BoardFigure, path: Path) -> Path:
    """Draw one figure from its data (``leaderboards.figures``) with ``evaluator.comparison_plots``."""
    data = figure.data
    if figure.name == "cmc":
        curves = [plots.Curve(entry["label"], list(range(1, len(entry["cmc"]) + 1)), entry["cmc"])
                  for entry in data["curves"]]
        return plots.draw_overlaid_cmc(curves, path)
    if figure.name == "roc":
        curves = [plots.Curve(entry["label"], entry["fpr"], entry["tpr"]) for entry in data["curves"]]
        return plots.draw_overlaid_roc(curves, [entry["auc"] for entry in data["curves"]], path)
    if figure.name == "rank1":
        curves = [plots.Curve(entry["label"], entry["distractors"], entry["rank1"]) for entry in data["curves"]]
        return plots.draw_overlaid_rank1(curves, path)
    if figure.name == "best_over_time":
        bests = [(datetime.fromisoformat(when), value, label) for when, value, label in data["points"]]
        until = datetime.combine(datetime.fromisoformat(data["until"]).date(), time(), tzinfo=bests[0][0].tzinfo)
        return plots.draw_best_over_time(bests, data["metric"], data["higher_is_better"], until, path)
    if figure.name == "per_class":
        series = [(entry["label"], entry["values"]) for entry in data["series"]]
        return plots.draw_per_class_bars(data["classes"], series, data["metric"], path)
    if figure.name == "samples":
        folder = Path(settings.TOONBENCH_DATA_ROOT) / data["slug"]
        photos = [rgb((folder / relative).read_bytes()) for _, relative in data["photos"]]
        rows = [(row["label"], [None if name is None else rgb(read_stored(name)) for name in row["outputs"]])
                for row in data["rows"]]
        return plots.draw_sample_grid([photo for photo, _ in data["photos"]], photos, rows, path)
    raise ValueError(f"figure: unknown kind {figure.name!r} (expected cmc, roc, rank1, best_over_time, "
                     "per_class or samples)")


def read_stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
