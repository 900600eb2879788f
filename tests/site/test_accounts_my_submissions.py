"""My submissions: pages of 25, newest first, filtered by benchmark and status, filters kept across pages."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from benchmarks.models import Benchmark, ProtocolVersion
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other(toonnet: Benchmark) -> Benchmark:
    """A second benchmark (toonnet's spec under another slug), with a current protocol."""
    copy = Benchmark.objects.create(slug="toonnet-copy", title="ToonNet copy", task=toonnet.task, spec=toonnet.spec)
    ProtocolVersion.objects.create(benchmark=copy, version=1, spec_hash="1" * 64, protocol_hash="2" * 64,
                                   spec=toonnet.spec, is_current=True)
    return copy


def submit(owner: User, benchmark: Benchmark, status: str, minute: int) -> int:
    submission = Submission.objects.create(owner=owner, benchmark=benchmark, protocol=benchmark.current_version(),
                                           kind="predictions", method_name=f"m{minute}", status=status)
    Submission.objects.filter(pk=submission.pk).update(created=timezone.now() - timedelta(minutes=1000 - minute))
    return submission.pk


@pytest.fixture
def made(toonnet: Benchmark, other: Benchmark, alice: User, bob: User) -> dict[tuple[str, str], list[int]]:
    """alice: 20 finished and 10 failed on toonnet, 5 queued on the copy, interleaved in time; bob: 3.
    Returns alice's ids per (benchmark, status), newest first."""
    plan = [(toonnet, Status.FINISHED)] * 20 + [(toonnet, Status.FAILED)] * 10 + [(other, Status.QUEUED)] * 5
    made: dict[tuple[str, str], list[int]] = {}
    for minute, (benchmark, status) in enumerate(plan[0::2] + plan[1::2]):
        made.setdefault((benchmark.slug, status), []).insert(0, submit(alice, benchmark, status, minute))
    for minute in range(3):
        submit(bob, toonnet, Status.FAILED, 100 + minute)
    return made


def rows(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<td><a href="/submissions/(\d+)/">', page)]


def next_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next">', page)
    return html.unescape(found.group(1)) if found else None


def walk(client: Client, query: str) -> tuple[list[list[int]], list[str]]:
    """Every page of "my submissions" for ``query``, following the next links; (rows per page, links)."""
    pages, followed, url = [], [], f"/submissions/{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        pages.append(rows(page))
        link = next_link(page)
        url = f"/submissions/{link}" if link else ""
        followed += [link] if link else []
    return pages, followed


def newest_first(made: dict[tuple[str, str], list[int]], *keys: tuple[str, str]) -> list[int]:
    return sorted((pk for key in keys for pk in made[key]), reverse=True)


@pytest.fixture
def client(alice: User) -> Client:
    signed = Client()
    signed.force_login(alice)
    return signed


def test_all_submissions_come_25_a_page_newest_first(client: Client, made: dict) -> None:
    pages, _ = walk(client, "")
    everything = newest_first(made, ("toonnet", "finished"), ("toonnet", "failed"), ("toonnet-copy", "queued"))
    assert [len(page) for page in pages] == [25, 10]
    assert sum(pages, []) == everything


def test_a_benchmark_filter_is_kept_across_pages(client: Client, made: dict) -> None:
    pages, links = walk(client, "?benchmark=toonnet")
    assert [len(page) for page in pages] == [25, 5]
    assert links == ["?benchmark=toonnet&page=2"]
    assert sum(pages, []) == newest_first(made, ("toonnet", "finished"), ("toonnet", "failed"))


@pytest.mark.parametrize(("query", "keys"), [
    ("?status=failed", [("toonnet", "failed")]),
    ("?benchmark=toonnet&status=finished", [("toonnet", "finished")]),
    ("?benchmark=toonnet-copy", [("toonnet-copy", "queued")]),
    ("?benchmark=toonnet-copy&status=failed", []),
])
def test_filters_return_exactly_the_matching_submissions(client: Client, made: dict, query: str, keys: list) -> None:
    pages, _ = walk(client, query)
    assert sum(pages, []) == newest_first(made, *keys)


@pytest.mark.parametrize(("query", "refusal"), [
    ("?status=bogus", "status: expected one of queued, "),
    ("?benchmark=nope", "benchmark: expected the slug of a benchmark, got &#x27;nope&#x27;"),
])
def test_an_unknown_filter_value_is_refused_in_one_line(client: Client, made: dict, query: str, refusal: str) -> None:
    response = client.get(f"/submissions/{query}")
    assert response.status_code == 400
    page = response.content.decode()
    assert refusal in page and rows(page) == []
