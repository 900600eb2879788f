"""Comparison figures on a benchmark's page: what they draw, for whom, and that no board figure shows what its
table hides (leaderboards/figures.py, leaderboards/figure_store.py)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from benchmarks.models import Benchmark, Phase
from datasets.build import load_built
from figure_boards import build_boards, cartoon_baseline, face_entry, sync_boards
from leaderboards.figures import board_figures, own_figures
from leaderboards.table import leaderboard_table
from results import disclosure
from results.models import MetricValue
from site_helpers import finished_submission
from submissions.models import Submission
import test_leaderboard_cache
from test_leaderboard_cache import wsgi_get
from toonnet_outputs import true_class_indices

pytestmark = pytest.mark.django_db
app = test_leaderboard_cache.app  # the page cache around Django's WSGI handler

FIGURE = re.compile(r'<figure class="board-figure[^"]*" id="figure-([\w-]+)"><img src="([^"]+)" alt="([^"]*)">')


@pytest.fixture(scope="session")
def boards_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_boards(tmp_path_factory.mktemp("figure-boards"))


@pytest.fixture
def boards(site, boards_root: Path) -> dict[str, Benchmark]:  # type: ignore[no-untyped-def]
    site.TOONBENCH_DATA_ROOT = boards_root
    site.TOONBENCH_FID_EXTRACTOR = "seeded-inception"  # FID without the standard weights, offline
    return sync_boards(boards_root)


@pytest.fixture
def keeper(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("toonbench-baselines", "baselines@example.org", "x" * 20)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_figures(client: Client, slug: str, query: str = "") -> dict[str, tuple[str, str]]:
    """Figure id -> (image source, alt text) on the benchmark's page."""
    response = client.get(f"/benchmarks/{slug}/{query}")
    assert response.status_code == 200
    return {name: (unescape(src), unescape(alt)) for name, src, alt in FIGURE.findall(response.content.decode())}


def png_of(client: Client, src: str) -> Image.Image:
    response = client.get(src)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


def anonymous_board(benchmark: Benchmark):  # type: ignore[no-untyped-def]
    return leaderboard_table(benchmark, viewer=AnonymousUser())


def perfect_scores(built) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.eye(len(built.spec.classes), dtype=np.float32)[true_class_indices(built)]


def test_a_face_board_overlays_the_top_entries_curves_in_rank_order(boards, boards_root, alice, bob, keeper) -> None:  # type: ignore[no-untyped-def]
    faces = boards["icartoonface"]
    entries = [face_entry(alice, faces, boards_root, 0.9, "noisy faces"),
               face_entry(bob, faces, boards_root, 0.2, "sharp faces"),
               face_entry(keeper, faces, boards_root, 2.0, "blurred baseline", is_baseline=True)]
    ranked = [row.submission for row in anonymous_board(faces).rows]

    figures = {figure.name: figure for figure in board_figures(anonymous_board(faces), AnonymousUser())}

    assert set(figures) == {"cmc", "roc", "rank1", "best_over_time"}
    assert [curve["label"] for curve in figures["cmc"].data["curves"]] == [
        "sharp faces (bob)", "noisy faces (alice)", "blurred baseline (baseline)"]
    assert [s.pk for s in ranked] == [entries[1].pk, entries[0].pk, entries[2].pk]
    for curve, submission in zip(figures["cmc"].data["curves"], ranked):
        assert curve["cmc"] == submission.result.details["identification"]["cmc"]
    for curve, submission in zip(figures["roc"].data["curves"], ranked):
        assert curve["fpr"] == submission.result.details["verification"]["roc"]["fpr"]
        assert curve["auc"] == submission.result.metrics["auc"] == submission.result.details["verification"]["auc"]
    for curve, submission in zip(figures["rank1"].data["curves"], ranked):
        assert curve["rank1"] == submission.result.details["identification"]["rank1_vs_distractors"]["rank1"]

    shown = page_figures(Client(), "icartoonface")
    assert set(shown) == {"cmc", "roc", "rank1", "best_over_time"}
    best = ranked[0].result.details["identification"]["cmc"][0]
    assert f"sharp faces (bob): rank-1 {best:.3f}" in shown["cmc"][1]
    assert "Verification ROC curves" in shown["roc"][1] and "AUC" in shown["roc"][1]
    assert png_of(Client(), shown["cmc"][0]).size[0] > 400


def test_the_best_over_time_is_the_running_best_by_finish_time_with_baselines(boards, boards_root, alice, bob, keeper) -> None:  # type: ignore[no-untyped-def]
    toonnet, built = boards["toonnet"], load_built("toonnet", boards_root)
    now = timezone.now()
    baseline = finished_submission(keeper, toonnet, built, seed=1, method="middling baseline", is_baseline=True)
    worse = finished_submission(alice, toonnet, built, scores=np.ones_like(perfect_scores(built)), method="flat")
    perfect = finished_submission(bob, toonnet, built, scores=perfect_scores(built), method="perfect")
    for days, submission in ((3, baseline), (2, worse), (1, perfect)):
        Submission.objects.filter(pk=submission.pk).update(finished_at=now - timedelta(days=days))
    values = dict(MetricValue.objects.filter(name="top1_error").values_list("submission_id", "value"))
    assert values[worse.pk] > values[baseline.pk] > values[perfect.pk] == 0.0

    (figure,) = [f for f in board_figures(anonymous_board(toonnet), AnonymousUser()) if f.name == "best_over_time"]

    assert [(value, label) for _, value, label in figure.data["points"]] == [
        (values[baseline.pk], "middling baseline (baseline)"), (0.0, "perfect (bob)")]
    assert figure.data["points"][0][0][:10] == (now - timedelta(days=3)).date().isoformat()
    alt = page_figures(Client(), "toonnet")["best_over_time"][1]
    assert "2 new bests among 3 finished entries, baselines included" in alt
    assert f"from middling baseline (baseline) at {values[baseline.pk]:.3f}" in alt


def test_per_class_bars_show_the_viewers_own_entries_beside_the_baselines_and_nobody_elses(boards, boards_root, alice, bob, keeper) -> None:  # type: ignore[no-untyped-def]
    toonnet, built = boards["toonnet"], load_built("toonnet", boards_root)
    baseline = finished_submission(keeper, toonnet, built, seed=1, method="the baseline", is_baseline=True)
    mine = finished_submission(alice, toonnet, built, seed=2, method="alice's own")
    finished_submission(alice, toonnet, built, seed=4, method="alice's private one", is_public=False)
    finished_submission(bob, toonnet, built, seed=3, method="bob's entry")

    (figure,) = own_figures(anonymous_board(toonnet), alice)

    assert figure.data["metric"] == "top1_error" and figure.data["classes"] == built.spec.classes
    assert [(entry["label"], entry["own"]) for entry in figure.data["series"]] == [
        ("alice's own (alice)", True), ("the baseline (baseline)", False)]
    for entry, submission in zip(figure.data["series"], (mine, baseline)):
        (rates,) = [row for row in disclosure.per_class_rates(toonnet, submission.result) if row["metric"] == "top1_error"]
        assert entry["values"] == [cell["value"] for cell in rates["rates"]]

    alice_page = page_figures(signed_in(alice), "toonnet")
    src, alt = alice_page["own-per_class"]
    assert src.startswith("data:image/png;base64,") and "alice's own" in alt and "the baseline" in alt
    assert "bob's entry" not in alt and "private one" not in alt  # a private entry stays off the board's page
    bob_alt = page_figures(signed_in(bob), "toonnet")["own-per_class"][1]
    assert "bob's entry" in bob_alt and "alice's own" not in bob_alt
    assert "own-per_class" not in page_figures(Client(), "toonnet")
    assert own_figures(anonymous_board(toonnet), AnonymousUser()) == []


def test_a_viewers_own_figure_is_never_linked_by_url(boards, boards_root, alice) -> None:  # type: ignore[no-untyped-def]
    toonnet, built = boards["toonnet"], load_built("toonnet", boards_root)
    finished_submission(alice, toonnet, built, seed=2, method="alice's own")
    page_figures(signed_in(alice), "toonnet")
    _, kept = default_storage.listdir("figures/own")
    assert len(kept) == 1

    assert Client().get(f"/benchmarks/toonnet/figures/{kept[0]}").status_code == 404
    assert Client().get("/benchmarks/toonnet/figures/own%2F" + kept[0]).status_code == 404
    assert Client().get("/benchmarks/toonnet/figures/" + "0" * 40 + ".png").status_code == 404


def test_the_kept_anonymous_page_links_the_board_figures_and_never_a_viewers_own(app, boards, boards_root, alice) -> None:  # type: ignore[no-untyped-def]
    toonnet, built = boards["toonnet"], load_built("toonnet", boards_root)
    finished_submission(alice, toonnet, built, seed=2, method="alice's own")
    session = f"sessionid={signed_in(alice).cookies['sessionid'].value}"

    _, _, mine = wsgi_get(app, "/benchmarks/toonnet/", cookie=session)
    status, _, kept = wsgi_get(app, "/benchmarks/toonnet/")

    assert [name for name, _, _ in FIGURE.findall(mine.decode())] == ["best_over_time", "own-per_class"]
    assert status.startswith("200") and [name for name, _, _ in FIGURE.findall(kept.decode())] == ["best_over_time"]
    assert len(app.pages) == 1 and wsgi_get(app, "/benchmarks/toonnet/")[2] == kept
    assert 'id="figure-own-per_class"' in wsgi_get(app, "/benchmarks/toonnet/", cookie=session)[2].decode()


@pytest.mark.parametrize("visibility", ["hidden_until_close", "private", "ladder"])
def test_a_board_that_hides_its_values_draws_no_figure(boards, boards_root, alice, bob, visibility: str) -> None:  # type: ignore[no-untyped-def]
    toonnet, built = boards["toonnet"], load_built("toonnet", boards_root)
    now = timezone.now()
    phase = Phase.objects.create(benchmark=toonnet, slug="final", title="Final", split="test", leaderboard=visibility,
                                 opens=now - timedelta(days=1), closes=now + timedelta(days=1))
    finished_submission(alice, toonnet, built, seed=2, method="alice in the phase", phase=phase)
    finished_submission(bob, toonnet, built, seed=3, method="bob in the phase", phase=phase)

    for viewer, client in ((AnonymousUser(), Client()), (alice, signed_in(alice))):
        table = leaderboard_table(toonnet, viewer=viewer)
        assert board_figures(table, viewer) == [] and own_figures(table, viewer) == []
        page = client.get("/benchmarks/toonnet/").content.decode()
        assert 'id="comparison-figures"' not in page and "alice in the phase (" not in page

    Phase.objects.filter(pk=phase.pk).update(leaderboard="public")
    shown = page_figures(signed_in(alice), "toonnet")
    assert {"best_over_time", "own-per_class"} <= set(shown)


@pytest.mark.django_db(transaction=True)  # the job's heartbeat thread writes too
def test_the_cartoonization_grid_shows_development_photos_through_the_top_entries(boards, boards_root, keeper) -> None:  # type: ignore[no-untyped-def]
    cartoons = boards["cartoonization"]
    identity = cartoon_baseline(keeper, cartoons, "cartoon-identity")
    stylized = cartoon_baseline(keeper, cartoons, "cartoon-opencv-stylization")
    built = load_built("cartoonization", boards_root)
    ranked = [row.submission.pk for row in anonymous_board(cartoons).rows]
    assert sorted(ranked) == sorted([identity.pk, stylized.pk])

    (grid,) = [f for f in board_figures(anonymous_board(cartoons), AnonymousUser()) if f.name == "samples"]

    train_photos = {item.id: item for item in built.train_items() if item.domain == "photo"}
    held_out = {item.id for item in built.test_items()}
    photo_ids = [photo_id for photo_id, _ in grid.data["photos"]]
    assert len(photo_ids) == 4 and set(photo_ids) <= set(train_photos) and not set(photo_ids) & held_out
    assert photo_ids == sorted(train_photos)[:4]
    labels = {identity.pk: "Identity (input photo) (baseline)", stylized.pk: "OpenCV stylization (baseline)"}
    assert [row["label"] for row in grid.data["rows"]] == [labels[pk] for pk in ranked]
    (identity_row,) = [row for row in grid.data["rows"] if row["label"] == labels[identity.pk]]
    for photo_id, name in zip(photo_ids, identity_row["outputs"]):
        with default_storage.open(name, "rb") as kept:
            output = np.asarray(Image.open(kept).convert("RGB"))
        photo = np.asarray(Image.open(built.folder / train_photos[photo_id].path).convert("RGB"))
        assert np.array_equal(output, photo)  # the identity baseline returns each photo unchanged

    shown = page_figures(Client(), "cartoonization")
    assert {"samples", "best_over_time"} <= set(shown)
    assert ", ".join(photo_ids) in shown["samples"][1] and "Identity (input photo)" in shown["samples"][1]
    assert png_of(Client(), shown["samples"][0]).size[1] > 300
