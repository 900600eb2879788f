"""Drawn figures do not pile up: a figure's name holds the week it is drawn in, and the maintenance pass
removes files older than eight days, which no page links any more (leaderboards/figure_store.py)."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone as tz
from html import unescape

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from leaderboards.figure_store import digest
from leaderboards.figures import BoardFigure
from maintenance.tasks import sweep_stale_jobs
from site_helpers import finished_submission

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r'<figure class="board-figure[^"]*" id="figure-([\w-]+)"><img src="([^"]+)"')
FIGURE_DATA = BoardFigure("best_over_time", "Best over time", "alt", {"points": [], "metric": "top1_error"})


def figures_on(client: Client) -> dict[str, str]:
    response = client.get("/benchmarks/toonnet/")
    assert response.status_code == 200
    return {name: unescape(src) for name, src in FIGURE.findall(response.content.decode())}


def stored_figures() -> set[str]:
    names: set[str] = set()
    for folder in ("figures", "figures/own"):
        if default_storage.exists(folder):
            names |= {f"{folder}/{name}" for name in default_storage.listdir(folder)[1]}
    return names


def age(name: str, days: float) -> None:
    when = (datetime.now(tz.utc) - timedelta(days=days)).timestamp()
    os.utime(default_storage.path(name), (when, when))


def test_a_figures_name_holds_within_a_week_and_changes_with_the_next() -> None:
    monday = datetime(2026, 11, 30, 0, 1, tzinfo=tz.utc)

    assert digest(FIGURE_DATA, monday) == digest(FIGURE_DATA, monday + timedelta(days=6, hours=23, minutes=58))
    assert digest(FIGURE_DATA, monday) != digest(FIGURE_DATA, monday + timedelta(days=7))
    assert digest(FIGURE_DATA, monday) != digest(BoardFigure("roc", "t", "alt", FIGURE_DATA.data), monday)


def test_the_maintenance_pass_removes_figures_older_than_eight_days_and_pages_draw_them_again(
    toonnet, toonnet_built, alice  # type: ignore[no-untyped-def]
) -> None:
    finished_submission(alice, toonnet, toonnet_built, seed=2, method="alice's own")
    board_src = figures_on(Client())["best_over_time"]
    own = Client()
    own.force_login(alice)
    assert figures_on(own)["own-per_class"].startswith("data:image/png;base64,")
    drawn = stored_figures()
    assert len([n for n in drawn if n.startswith("figures/own/")]) == 1 and len(drawn) == 2
    for name in drawn:
        age(name, days=8.1)
    recent = default_storage.save("figures/" + "ab" * 20 + ".png", ContentFile(b"\x89PNG drawn a week ago"))
    age(recent, days=7.9)

    report = sweep_stale_jobs()

    assert report["removed_figures"] == 2
    assert stored_figures() == {recent}
    assert figures_on(Client())["best_over_time"] == board_src  # the same week: the same name, drawn again
    response = Client().get(board_src)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert sweep_stale_jobs()["removed_figures"] == 0
