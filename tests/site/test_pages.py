"""Server-rendered pages: home, benchmark protocol and leaderboard, bundle, submission, submit, my submissions."""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from sklearn.metrics import top_k_accuracy_score

from benchmarks.models import ProtocolVersion
from submissions.models import Status, Submission
from site_helpers import finished_submission, predictions_upload
from toonnet_outputs import seeded_scores, true_class_indices

pytestmark = pytest.mark.django_db

LEADERBOARD_ROW = re.compile(r'<td class="rank">(.*?)</td>\s*<td class="method"><a href="/submissions/(\d+)/">')


def leaderboard_rows(html: str) -> list[tuple[str, int]]:
    """(rank cell, submission id) for each leaderboard row, top to bottom."""
    return [(re.sub(r"<[^>]+>", "", rank).strip(), int(pk)) for rank, pk in LEADERBOARD_ROW.findall(html)]


def sklearn_error(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    return 1 - top_k_accuracy_score(truth, scores, k=k, labels=list(range(scores.shape[1])))


def perfect_scores(built) -> np.ndarray:  # type: ignore[no-untyped-def]
    truth = true_class_indices(built)
    scores = np.full((len(truth), len(built.spec.classes)), 0.01, dtype=np.float32)
    scores[np.arange(len(truth)), truth] = 1.0
    return scores


def manifest_counts(built) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = {"train": 0, "test": 0}
    for line in (built.folder / "manifest.jsonl").read_text().splitlines():
        counts[json.loads(line)["split"]] += 1
    return counts


def test_home_lists_the_benchmark_with_its_metric_and_current_best(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    finished_submission(alice, toonnet, toonnet_built, seed=3, method="worse")
    finished_submission(alice, toonnet, toonnet_built, scores=perfect_scores(toonnet_built), method="oracle")
    html = client.get("/").content.decode()
    assert "ToonNet cartoon object classification" in html
    assert "top1_error" in html and "↓ lower is better" in html
    best = re.search(r"Current best</dt><dd><a href=\"/submissions/\d+/\">([^<]+)</a>: <strong>([^<]+)</strong>", html)
    assert best is not None and best.groups() == ("oracle", "0.000")


def test_the_benchmark_page_states_the_protocol_with_sizes_from_the_manifest(client, toonnet, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    counts = manifest_counts(toonnet_built)
    html = client.get("/benchmarks/toonnet/").content.decode()
    assert f"{counts['train']} training items, {counts['test']} test items" in html
    assert "30% held out for test" in html
    assert "<code>top1_error</code> <span class=\"arrow\" title=\"lower is better\">↓</span>" in html
    assert "12: android robot, car, elephant" in html
    assert 'href="/benchmarks/toonnet/bundle/"' in html


def test_the_leaderboard_ranks_by_the_spec_metric_and_sorts_by_any_other(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    truth = true_class_indices(toonnet_built)
    expected = {}
    for seed in (11, 12, 13, 14):
        scores = seeded_scores(toonnet_built, seed)
        submission = finished_submission(alice, toonnet, toonnet_built, scores=scores, seed=seed, method=f"m{seed}")
        expected[submission.pk] = (sklearn_error(scores, truth, 1), sklearn_error(scores, truth, 3))
    by_top1 = [pk for pk, _ in sorted(expected.items(), key=lambda item: (item[1][0], item[0]))]
    by_top3 = [pk for pk, _ in sorted(expected.items(), key=lambda item: (item[1][1], item[0]))]

    html = client.get("/benchmarks/toonnet/?view=all").content.decode()
    assert [pk for _, pk in leaderboard_rows(html)] == by_top1
    sorted_html = client.get("/benchmarks/toonnet/?sort=top3_error&view=all").content.decode()
    assert [pk for _, pk in leaderboard_rows(sorted_html)] == by_top3
    assert "top1_error ↓" in sorted_html and "top3_error ↓" in sorted_html
    top = by_top3[0]
    assert f"{expected[top][1]:.3f}" in sorted_html


def test_a_rank_whose_interval_overlaps_the_one_above_is_marked_as_a_tie(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    oracle = finished_submission(alice, toonnet, toonnet_built, scores=perfect_scores(toonnet_built), method="oracle")
    first = finished_submission(alice, toonnet, toonnet_built, seed=5, method="first")
    twin = finished_submission(alice, toonnet, toonnet_built, seed=5, method="twin")
    rows = leaderboard_rows(client.get("/benchmarks/toonnet/?view=all").content.decode())
    assert rows == [("1", oracle.pk), ("2", first.pk), ("=2", twin.pk)]
    low, high = first.result.ci95["top1_error"]
    assert low > 0.0 and high >= low


def test_the_leaderboard_shows_every_metric_with_its_interval_and_a_baseline_badge(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=8, method="base", is_baseline=True,
                                     paper_url="https://example.org/paper", code_url="https://example.org/code")
    html = client.get("/benchmarks/toonnet/").content.decode()
    for name in ("top1_error", "top3_error"):
        value = submission.result.metrics[name]
        low, high = submission.result.ci95[name]
        assert f"{value:.3f}<span class=\"ci\">[{low:.3f}, {high:.3f}]</span>" in html
    assert "baseline-badge" in html
    assert 'href="https://example.org/paper"' in html and 'href="https://example.org/code"' in html


def test_private_and_unfinished_submissions_stay_off_the_leaderboard(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    public = finished_submission(alice, toonnet, toonnet_built, seed=1, method="public one")
    finished_submission(alice, toonnet, toonnet_built, seed=2, method="private one", is_public=False)
    Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                              kind="image", image_ref="x/y:1", method_name="still queued")
    html = client.get("/benchmarks/toonnet/").content.decode()
    assert [pk for _, pk in leaderboard_rows(html)] == [public.pk]
    assert "private one" not in html and "still queued" not in html


def test_an_older_protocol_version_is_shown_only_when_selected(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    current = toonnet.current_version()
    old = ProtocolVersion.objects.create(benchmark=toonnet, version=1, spec_hash="0" * 64, protocol_hash="a" * 64,
                                         spec=current.spec, test_items=10, train_items=20)
    on_current = finished_submission(alice, toonnet, toonnet_built, seed=1, method="on current")
    on_old = finished_submission(alice, toonnet, toonnet_built, seed=2, method="on old")
    Submission.objects.filter(pk=on_old.pk).update(protocol=old)
    on_old.metric_values.update(protocol=old)
    assert [pk for _, pk in leaderboard_rows(client.get("/benchmarks/toonnet/").content.decode())] == [on_current.pk]
    html = client.get("/benchmarks/toonnet/?version=aaaaaaaaaaaa").content.decode()
    assert [pk for _, pk in leaderboard_rows(html)] == [on_old.pk]
    assert "older protocol version" in html
    assert client.get("/benchmarks/toonnet/?version=ffffffff").status_code == 404


def test_the_leaderboard_csv_holds_every_metric_and_interval(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=4, method="csv one")
    response = client.get("/benchmarks/toonnet/leaderboard.csv")
    assert response["Content-Type"].startswith("text/csv")
    header, row = response.content.decode().strip().splitlines()
    record = dict(zip(header.split(","), row.split(",")))
    assert record["method"] == "csv one" and record["rank"] == "1"
    assert float(record["top3_error"]) == pytest.approx(submission.result.metrics["top3_error"])
    assert float(record["top1_error_ci_high"]) == pytest.approx(submission.result.ci95["top1_error"][1])


def test_the_protocol_bundle_downloads_without_test_labels_and_is_cached(client, toonnet, toonnet_built, site) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/benchmarks/toonnet/bundle/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    payload = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(payload)) as bundle:
        record = json.loads(bundle.read("toonnet/protocol.json"))
        public = [json.loads(line) for line in bundle.read("toonnet/manifest.public.jsonl").splitlines()]
    assert record["protocol_hash"] == toonnet_built.protocol_hash
    test_records = [item for item in public if item["split"] == "test"]
    assert len(test_records) == len(toonnet_built.test_items())
    assert all("label" not in item for item in test_records)
    cached = list((site.MEDIA_ROOT / "bundles").glob("*.zip"))
    assert len(cached) == 1 and cached[0].read_bytes() == payload
    stamp = cached[0].stat().st_mtime_ns
    assert b"".join(client.get("/benchmarks/toonnet/bundle/").streaming_content) == payload
    assert cached[0].stat().st_mtime_ns == stamp


def test_the_submission_page_shows_metrics_intervals_and_figures(client, toonnet, alice, toonnet_built, django_user_model) -> None:  # type: ignore[no-untyped-def]
    scores = seeded_scores(toonnet_built, 9)
    submission = finished_submission(alice, toonnet, toonnet_built, scores=scores, seed=9)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    top1 = sklearn_error(scores, true_class_indices(toonnet_built), 1)
    low, high = submission.result.ci95["top1_error"]
    assert f"<strong>{top1:.3f}</strong>" in html and f"[{low:.3f}, {high:.3f}]" in html
    assert "/plots/" not in html  # classification figures show test truth: staff only
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    for name in ("confusion", "per_class"):
        assert f"/submissions/{submission.pk}/plots/{name}.png" in html
        response = client.get(f"/submissions/{submission.pk}/plots/{name}.png")
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert response["Content-Type"] == "image/png" and image.format == "PNG" and image.width > 200
    assert client.get(f"/submissions/{submission.pk}/plots/cmc.png").status_code == 404


def test_the_status_endpoint_reports_the_job_state(client, toonnet, alice) -> None:  # type: ignore[no-untyped-def]
    submission = Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                           kind="image", image_ref="x/y:1", method_name="running",
                                           status=Status.RUNNING, status_reason="")
    state = client.get(f"/submissions/{submission.pk}/status.json").json()
    assert state["status"] == "running" and state["is_final"] is False and state["status_display"] == "Running"
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-final="0"' in html and f'data-status-url="/submissions/{submission.pk}/status.json"' in html


def test_submitting_a_predictions_archive_stores_it_before_queueing(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    upload = predictions_upload(seeded_scores(toonnet_built))
    sent = upload.read()
    upload.seek(0)
    response = client.post("/submit/", {
        "benchmark": "toonnet", "kind": "predictions", "artefact": upload, "method_name": "from the form",
        "paper_url": "https://example.org/p", "is_public": "on",
    })
    submission = Submission.objects.get(method_name="from the form")
    assert response.status_code == 302 and response["Location"] == f"/submissions/{submission.pk}/"
    assert submission.status == Status.QUEUED and submission.owner == alice and submission.is_public
    assert submission.protocol == toonnet.current_version()
    with submission.artefact.open("rb") as stored:
        assert stored.read() == sent


def test_the_daily_limit_is_enforced_with_a_clear_message_and_failures_are_free(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    limit = toonnet.typed_spec.limits.submissions_per_day
    for index in range(limit):
        status = Status.FAILED if index == 0 else Status.FINISHED
        Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                  kind="image", image_ref="x/y:1", method_name=f"s{index}", status=status)
    client.force_login(alice)
    form = {"benchmark": "toonnet", "kind": "predictions", "method_name": "n"}
    scores = seeded_scores(toonnet_built)
    assert client.post("/submit/", dict(form, artefact=predictions_upload(scores))).status_code == 302
    response = client.post("/submit/", dict(form, method_name="one too many", artefact=predictions_upload(scores)))
    assert response.status_code == 400
    assert f"you have used all {limit} submissions to toonnet" in response.content.decode()
    assert not Submission.objects.filter(method_name="one too many").exists()
    assert "0 of 5" in client.get("/submit/").content.decode()


def test_my_submissions_lists_only_mine_with_their_actions(client, toonnet, alice, bob, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    mine = finished_submission(alice, toonnet, toonnet_built, seed=1, method="alice's method")
    finished_submission(bob, toonnet, toonnet_built, seed=2, method="bob's method")
    client.force_login(alice)
    html = client.get("/submissions/").content.decode()
    assert "alice&#x27;s method" in html and "bob&#x27;s method" not in html
    assert f'action="/submissions/{mine.pk}/rerun/"' in html and f'action="/submissions/{mine.pk}/visibility/"' in html


def test_cancel_rerun_and_visibility_buttons_act_on_the_submission(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    queued = Submission.objects.create(
        owner=alice, benchmark=toonnet, protocol=toonnet.current_version(), kind="predictions", method_name="q",
        artefact=SimpleUploadedFile("p.zip", b"zip bytes"),
    )
    client.post(f"/submissions/{queued.pk}/cancel/", {"next": "/submissions/"})
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    response = client.post(f"/submissions/{queued.pk}/rerun/")
    again = Submission.objects.exclude(pk=queued.pk).get(method_name="q")
    assert response["Location"] == f"/submissions/{again.pk}/" and again.status == Status.QUEUED
    with again.artefact.open("rb") as copy:
        assert copy.read() == b"zip bytes"
    assert again.artefact.name != queued.artefact.name
    client.post(f"/submissions/{again.pk}/visibility/", {"public": "0"})
    again.refresh_from_db()
    assert again.is_public is False


def test_results_made_with_non_standard_weights_are_marked_not_comparable(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=6, method="odd weights")
    weights = "ab" * 32
    type(submission.result).objects.filter(pk=submission.result.pk).update(
        extractor_name="inception-v3-pool3", extractor_weights_sha256=weights, comparable=False)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert weights in page and "inception-v3-pool3" in page and "badge warn\">not comparable" in page
    board = client.get("/benchmarks/toonnet/").content.decode()
    assert "not comparable</span>" in board


def test_paging_keeps_ranks_and_marks_a_tie_across_the_page_boundary(toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    from leaderboards.table import leaderboard_table

    oracle = finished_submission(alice, toonnet, toonnet_built, scores=perfect_scores(toonnet_built), method="oracle")
    first = finished_submission(alice, toonnet, toonnet_built, seed=5, method="first")
    twin = finished_submission(alice, toonnet, toonnet_built, seed=5, method="twin")
    pages = [leaderboard_table(toonnet, page=number, page_size=1, view="all") for number in (1, 2, 3)]
    assert [(p.rows[0].submission.pk, p.rows[0].rank, p.rows[0].tied_with_above) for p in pages] == [
        (oracle.pk, 1, False), (first.pk, 2, False), (twin.pk, 2, True)]
    assert all(p.total == 3 and p.pages == 3 for p in pages)
