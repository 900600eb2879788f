"""Benchmarks are listed in the order their specs declare (``order``), on the home page, in the API and the admin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from benchmarks.models import Benchmark
from benchmarks.sync import sync_benchmarks
from datasets.spec import BENCHMARKS_DIR

pytestmark = pytest.mark.django_db

# The specs' own ``order`` values: toonnet 1, illustration 2, icartoonface 3, cartoonization 4.
SPEC_ORDER = ["toonnet", "illustration", "icartoonface", "cartoonization"]


def declared_order() -> list[str]:
    """The slugs sorted by the ``order`` their YAML files declare, read without the spec loader."""
    specs = [yaml.safe_load(path.read_text()) for path in Path(BENCHMARKS_DIR).glob("*.yaml")]
    return [spec["slug"] for spec in sorted(specs, key=lambda spec: spec["order"])]


def order_of_links(html: str, pattern: str) -> list[str]:
    """The slugs in the order ``pattern`` (with one group, the slug) first finds them on the page."""
    seen: list[str] = []
    for slug in re.findall(pattern, html):
        if slug not in seen:
            seen.append(slug)
    return seen


@pytest.fixture
def synced(site: Settings, data_root: Path) -> list[Benchmark]:
    sync_benchmarks(data_root)
    return list(Benchmark.objects.all())


def test_the_specs_declare_the_papers_order() -> None:
    assert declared_order() == SPEC_ORDER


def test_sync_stores_each_specs_order(synced: list[Benchmark]) -> None:
    assert {benchmark.slug: benchmark.order for benchmark in synced} == {
        "toonnet": 1, "illustration": 2, "icartoonface": 3, "cartoonization": 4}


def test_the_home_page_lists_benchmarks_in_spec_order(client: Client, synced: list[Benchmark]) -> None:
    html = client.get("/").content.decode()
    assert order_of_links(html, r'href="/benchmarks/([\w-]+)/"') == SPEC_ORDER


def test_the_api_lists_benchmarks_in_spec_order(client: Client, synced: list[Benchmark]) -> None:
    response = client.get("/api/benchmarks/")
    assert [(row["slug"], row["order"]) for row in response.json()] == list(zip(SPEC_ORDER, [1, 2, 3, 4]))


def test_the_admin_lists_benchmarks_in_spec_order(
    client: Client, synced: list[Benchmark], django_user_model: type[User]
) -> None:
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    html = client.get("/admin/benchmarks/benchmark/").content.decode()
    slug_of = {str(benchmark.pk): benchmark.slug for benchmark in synced}
    pks = order_of_links(html, r'href="/admin/benchmarks/benchmark/(\d+)/change/')
    assert [slug_of[pk] for pk in pks] == SPEC_ORDER


def test_a_benchmark_without_an_order_comes_last(synced: list[Benchmark]) -> None:
    Benchmark.objects.filter(slug="illustration").update(order=None)
    assert list(Benchmark.objects.values_list("slug", flat=True)) == [
        "toonnet", "icartoonface", "cartoonization", "illustration"]
