"""A participant's profile lists their public entries only, and no number a phase keeps from the visitor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from benchmarks.models import Benchmark, Phase
from datasets.build import BuiltBenchmark
from site_helpers import finished_submission
from submissions.models import Submission

pytestmark = pytest.mark.django_db(transaction=True)


def shown(submission: Submission) -> str:
    """The headline number as the profile prints it (three decimals)."""
    return f"{submission.result.metrics['top1_error']:.3f}"


def listed(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<td><a href="/submissions/(\d+)/">', page)]


def test_the_profile_lists_public_entries_and_hides_private_ones_and_hidden_phase_numbers(
    site: object, toonnet: Benchmark, toonnet_built: BuiltBenchmark, alice: User, bob: User
) -> None:
    now = timezone.now()
    private_board = Phase.objects.create(benchmark=toonnet, slug="final", title="Final", split="test",
                                         leaderboard="private", opens=now - timedelta(days=1),
                                         closes=now + timedelta(days=1))
    public = finished_submission(alice, toonnet, toonnet_built, seed=7, method="public method")
    private = finished_submission(alice, toonnet, toonnet_built, seed=11, method="private method", is_public=False)
    in_phase = finished_submission(alice, toonnet, toonnet_built, seed=23, method="phase method", phase=private_board)
    finished_submission(bob, toonnet, toonnet_built, seed=5, method="bob method")
    assert shown(in_phase) != shown(public)

    page = Client().get("/users/alice/").content.decode()
    assert listed(page) == [in_phase.pk, public.pk]
    assert "private method" not in page and "bob method" not in page
    assert shown(public) in page and shown(in_phase) not in page
    assert "hidden by the phase" in page

    own = Client()
    own.force_login(alice)
    mine = own.get("/users/alice/").content.decode()
    assert listed(mine) == [in_phase.pk, public.pk] and shown(in_phase) in mine  # her team sees its own
    assert private.pk not in listed(mine)
    assert 'href="/users/alice/"' in own.get("/accounts/").content.decode()


def test_an_unknown_participant_is_a_404() -> None:
    assert Client().get("/users/nobody/").status_code == 404
