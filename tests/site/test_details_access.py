"""Result details that name test truth are staff-only; owners see rounded per-class rates; the rest see metrics.

The attack this guards against: a confusion matrix counts, for each true
class, the items predicted as each class. A submission that predicts a
different class for each of a few chosen items (and class 0 for all others)
reads those items' labels off the matrix's columns, so a handful of
submissions recover every label of a small test split.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client

from leaderboards.templatetags.toonbench import metric as metric_filter
from site_helpers import finished_submission
from results.disclosure import leaderboard_precision
from submissions.models import Submission
from toonnet_outputs import true_class_indices

pytestmark = pytest.mark.django_db

USERS = ["anonymous", "alice", "bob", "staff"]
TRUTH_KEYS = ("confusion_matrix", "support", "per_class_precision")


@pytest.fixture
def staff(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("staff", "staff@example.org", "correct horse battery", is_staff=True)


def client_for(user: str, request: pytest.FixtureRequest) -> Client:
    client = Client()
    if user != "anonymous":
        client.force_login(request.getfixturevalue(user))
    return client


def api_result(client: Client, submission: Submission) -> dict[str, Any]:
    response = client.get(f"/api/submissions/{submission.pk}/")
    assert response.status_code == 200
    return response.json()["result"]


def find_key(document: Any, key: str) -> Any:
    """The first value stored under ``key`` anywhere in a JSON document, or None."""
    if isinstance(document, dict):
        if key in document:
            return document[key]
        document = list(document.values())
    if isinstance(document, list):
        for value in document:
            found = find_key(value, key)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("figure", ["confusion", "per_class"])
@pytest.mark.parametrize("public", [True, False])
def test_classification_figures_are_served_to_staff_only(
    user: str, figure: str, public: bool, toonnet, alice, toonnet_built, request
) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=3, is_public=public)
    client = client_for(user, request)
    response = client.get(f"/submissions/{submission.pk}/plots/{figure}.png")
    page = client.get(f"/submissions/{submission.pk}/")
    if user == "staff":
        assert response.status_code == 200 and response["Cache-Control"] == "private, max-age=3600"
        assert f"/plots/{figure}.png" in page.content.decode()
    else:
        assert response.status_code == 404
        assert page.status_code == 404 or "/plots/" not in page.content.decode()


# ---------------------------------------------------------------- numbers


def test_everyone_but_the_owner_and_staff_gets_only_the_leaderboard_metrics(client, toonnet, alice, bob, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=4)
    for viewer in (None, bob):
        if viewer is not None:
            client.force_login(viewer)
        result = api_result(client, submission)
        assert set(result["metrics"]) == set(result["ci95"]) == {"top1_error", "top3_error"}
        assert result["details"] == {}  # toonnet has no aggregate curve
        assert not any(key in json.dumps(result) for key in TRUTH_KEYS)
        html = client.get(f"/submissions/{submission.pk}/").content.decode()
        assert 'id="per-class"' not in html


def test_the_owner_sees_per_class_rates_at_the_leaderboard_precision_and_no_count(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=5)
    exact = submission.result.details["classification"]
    client.force_login(alice)
    result = api_result(client, submission)
    assert set(result["details"]) == {"per_class"}
    assert not any(key in json.dumps(result) for key in TRUTH_KEYS)
    rows = {row["metric"]: row for row in result["details"]["per_class"]}
    assert list(rows) == ["top1_error", "top3_error"]
    for name, k in (("top1_error", 1), ("top3_error", 3)):
        classes = [cell["class"] for cell in rows[name]["rates"]]
        assert classes == toonnet_built.spec.classes
        expected = [round(1.0 - p, 3) for p in exact["per_class_precision"][f"top{k}"]]
        assert [cell["value"] for cell in rows[name]["rates"]] == expected
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'id="per-class"' in html
    first = rows["top1_error"]["rates"][0]
    assert f"<td>{first['class']}</td><td class=\"num\">{metric_filter(first['value'])}</td>" in html


def test_staff_see_every_detail(client, toonnet, alice, staff, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    submission = finished_submission(alice, toonnet, toonnet_built, seed=6, is_public=False)
    client.force_login(staff)
    assert api_result(client, submission)["details"] == submission.result.details


@pytest.mark.parametrize("value", [0.0, 0.0004999, 0.0005, 0.12345, 0.999951, 1.0, 9.99949, 12.345, 123.456])
def test_leaderboard_precision_matches_what_the_leaderboard_prints(value: float) -> None:
    assert float(metric_filter(value)) == pytest.approx(leaderboard_precision(value), abs=1e-12)
    assert leaderboard_precision(math.nan) is None and leaderboard_precision(None) is None


# ---------------------------------------------------------------- the confusion-matrix oracle


def crafted_scores(items: int, classes: int, batch: int) -> tuple[np.ndarray, dict[int, int]]:
    """Class 0 for every item but ``classes - 1`` of them, which get classes 1, 2, ... in turn."""
    scores = np.zeros((items, classes), dtype=np.float32)
    scores[:, 0] = 1.0
    probed = {}
    for column in range(1, classes):
        row = batch * (classes - 1) + column - 1
        if row < items:
            scores[row] = 0.0
            scores[row, column] = 1.0
            probed[row] = column
    return scores, probed


def labels_from_confusion(probes: list[tuple[dict[int, int], Any]]) -> dict[int, int]:
    """Each probed item's true class: the row of the single count in the column it alone was given."""
    recovered = {}
    for probed, matrix in probes:
        if matrix is None:
            continue
        counts = np.array(matrix)
        for row, column in probed.items():
            recovered[row] = int(np.argmax(counts[:, column]))
    return recovered


@pytest.mark.parametrize("user", USERS)
def test_a_handful_of_crafted_submissions_recover_labels_for_staff_eyes_only(
    user: str, toonnet, alice, toonnet_built, request
) -> None:  # type: ignore[no-untyped-def]
    truth = true_class_indices(toonnet_built)
    items, classes = len(truth), len(toonnet_built.spec.classes)
    batches = math.ceil(items / (classes - 1))
    assert batches <= 7  # 72 items, 12 classes: a handful
    client = client_for(user, request)
    probes = []
    for batch in range(batches):
        scores, probed = crafted_scores(items, classes, batch)
        submission = finished_submission(alice, toonnet, toonnet_built, scores=scores, method=f"probe {batch}")
        shown = api_result(client, submission)
        page = client.get(f"/submissions/{submission.pk}/").content.decode()
        figure = client.get(f"/submissions/{submission.pk}/plots/confusion.png").status_code
        probes.append((probed, find_key(shown, "confusion_matrix")))
        if user != "staff":
            assert figure == 404 and "confusion" not in page.lower()
    recovered = labels_from_confusion(probes)
    if user == "staff":  # the control: the matrix really is an oracle
        assert recovered == {row: int(truth[row]) for row in range(items)}
    else:
        assert recovered == {}
