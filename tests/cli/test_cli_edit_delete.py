"""``toonbench edit`` and ``toonbench delete`` against the live server: what the API shows afterwards."""

from __future__ import annotations

import io
import sys

import pytest
import requests
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from cli_run import login, run, run_json, server_refusal
from site_helpers import finished_submission
from submissions.models import Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def api_view(server: str, user: User, submission_id: int) -> requests.Response:
    token = Token.objects.get_or_create(user=user)[0].key
    return requests.get(f"{server}/api/v1/submissions/{submission_id}/", headers={"Authorization": f"Token {token}"},
                        timeout=30)


def test_edit_changes_the_description_and_visibility_the_api_shows(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, capsys
) -> None:
    mine = finished_submission(alice, toonnet, toonnet_built, seed=11, method="editable", description="first words")
    login(capsys, live_server.url, "alice")

    _, edited, _ = run_json(capsys, "edit", str(mine.pk), "--description", "better words", "--private")
    assert (edited["id"], edited["description"], edited["is_public"]) == (mine.pk, "better words", False)
    seen = api_view(live_server.url, alice, mine.pk).json()
    assert (seen["description"], seen["is_public"]) == ("better words", False)

    code, out, _ = run(capsys, "edit", str(mine.pk), "--public")
    assert code == 0 and out == f"#{mine.pk} updated: public; description: 'better words'\n"
    seen = api_view(live_server.url, alice, mine.pk).json()
    assert (seen["description"], seen["is_public"]) == ("better words", True)


def test_edit_refuses_nothing_to_change_others_submissions_and_unknown_ids(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, cli_config, capsys
) -> None:
    shown = finished_submission(bob, toonnet, toonnet_built, seed=12, method="bob's", description="bob's words")
    hidden = finished_submission(bob, toonnet, toonnet_built, seed=13, method="bob's secret", is_public=False)
    login(capsys, live_server.url, "alice")

    code, _, err = run(capsys, "edit", str(shown.pk))
    assert code == 2 and err == "toonbench: edit: nothing to change; give --description TEXT, --public or --private\n"
    code, _, err = run(capsys, "edit", str(shown.pk), "--public", "--private")
    assert code == 2 and "not allowed with argument --public" in err
    for pk, status, expected_code in ((shown.pk, 403, 3), (hidden.pk, 404, 4), (999999, 404, 4)):
        code, out, err = run(capsys, "edit", str(pk), "--description", "alice's words", "--json")
        assert (code, out) == (expected_code, "") and f"#{pk}" in err
        assert (status, err) == server_refusal(live_server.url, alice, "PATCH", f"submissions/{pk}/",
                                               description="alice's words")
    assert Submission.objects.get(pk=shown.pk).description == "bob's words"
    assert Submission.objects.get(pk=hidden.pk).description == ""


def test_delete_asks_first_then_removes_it_and_says_the_quota_is_kept(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, cli_config, monkeypatch, capsys
) -> None:
    kept = finished_submission(alice, toonnet, toonnet_built, seed=14, method="kept")
    gone = finished_submission(alice, toonnet, toonnet_built, seed=15, method="gone")
    login(capsys, live_server.url, "alice")

    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, err = run(capsys, "delete", str(gone.pk))
    assert code == 1 and out == ""
    assert f"delete submission #{gone.pk} (gone on toonnet, finished)?" in err and err.endswith("nothing deleted\n")
    _, listed, _ = run_json(capsys, "submissions")
    assert [s["id"] for s in listed["results"]] == [gone.pk, kept.pk]

    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = run(capsys, "delete", str(gone.pk))
    assert code == 0 and out == f"deleted submission #{gone.pk}\n"
    assert err.endswith("deleting gives no quota back: a finished submission keeps counting toward its daily limit "
                        "(a queued or running one is cancelled first, and cancelled or failed ones never count)\n")
    _, listed, _ = run_json(capsys, "submissions")
    assert listed["count"] == 1 and [s["id"] for s in listed["results"]] == [kept.pk]
    assert api_view(live_server.url, alice, gone.pk).status_code == 404
    code, _, err = run(capsys, "status", str(gone.pk))
    assert (404, err) == server_refusal(live_server.url, alice, "GET", f"submissions/{gone.pk}/") and code == 4

    _, deleted, _ = run_json(capsys, "delete", str(kept.pk), "--yes")
    assert deleted == {"id": kept.pk, "deleted": True}
    _, listed, _ = run_json(capsys, "submissions")
    assert listed == {"count": 0, "results": []}


def test_delete_refuses_others_submissions_baselines_and_unknown_ids(  # type: ignore[no-untyped-def]
    live_server, toonnet, toonnet_built, alice, bob, django_user_model, cli_config, capsys
) -> None:
    shown = finished_submission(bob, toonnet, toonnet_built, seed=16, method="bob's")
    hidden = finished_submission(bob, toonnet, toonnet_built, seed=17, method="bob's secret", is_public=False)
    maintainer = django_user_model.objects.create_user("maintainer", "m@example.org", "correct horse battery")
    baseline = finished_submission(maintainer, toonnet, toonnet_built, seed=18, method="baseline", is_baseline=True)
    login(capsys, live_server.url, "alice")

    for pk, status, expected_code in ((shown.pk, 403, 3), (hidden.pk, 404, 4), (999999, 404, 4)):
        code, out, err = run(capsys, "delete", str(pk), "--yes", "--json")
        assert (code, out) == (expected_code, "") and f"#{pk}" in err
        assert (status, err) == server_refusal(live_server.url, alice, "DELETE", f"submissions/{pk}/")

    login(capsys, live_server.url, "maintainer")
    code, out, err = run(capsys, "delete", str(baseline.pk), "--yes", "--json")
    assert (code, out) == (3, "") and "baseline" in err
    assert (403, err) == server_refusal(live_server.url, maintainer, "DELETE", f"submissions/{baseline.pk}/")
    assert Submission.objects.filter(pk__in=[shown.pk, hidden.pk, baseline.pk], deleted_at=None).count() == 3
