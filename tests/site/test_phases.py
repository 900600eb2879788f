"""Competition phases on the site: synced once from the spec and then the hosts', run through the API and the
admin, shown on the benchmark page; a hidden part's images reach no bundle and no page."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.test import Client

import datasets.spec
from benchmarks.models import Benchmark, Phase
from benchmarks.phases import current_phase
from benchmarks.sync import sync_benchmarks
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.spec import load_spec
from organisers.hosts import phase_leaderboard_visible
from toonnet_outputs import copy_specs

pytestmark = pytest.mark.django_db

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SECRET = "phase-tests-build-secret-" + "5d" * 16


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).isoformat()


PHASES = [
    {"slug": "dev", "title": "Development", "split": "dev", "opens": day(-10), "closes": day(10),
     "submissions_per_day": 5, "leaderboard": "public", "entry": "best"},
    {"slug": "final", "title": "Final test", "split": "final", "opens": day(10), "closes": day(20),
     "submissions_total": 3, "leaderboard": "hidden_until_close", "entry": "chosen"},
]


def write_phased_spec(folder: Path, phases: list[dict]) -> None:
    path = folder / "toonnet.yaml"
    document = yaml.safe_load(path.read_text())
    document["heldout_parts"] = [{"name": "dev", "fraction": 0.5},
                                 {"name": "final", "fraction": 0.5, "inputs": "hidden"}]
    document["phases"] = phases
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_specs(tmp_path / "benchmarks")
    monkeypatch.setattr(datasets.spec, "BENCHMARKS_DIR", folder)
    write_phased_spec(folder, PHASES)
    return folder


@pytest.fixture
def phased_root(specs: Path, site, tmp_path: Path) -> Path:
    root = tmp_path / "phased-data"
    build_benchmark("toonnet", root, profile="tiny", secret=SECRET)
    (root / ".build-secret").write_text(SECRET + "\n")
    site.TOONBENCH_DATA_ROOT = root
    return root


@pytest.fixture
def phased(phased_root: Path) -> Benchmark:
    sync_benchmarks(phased_root, specs=[load_spec("toonnet", "tiny")])
    return Benchmark.objects.get(slug="toonnet")


@pytest.fixture
def host(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("hostess", "host@example.org", "correct horse battery", is_staff=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot(benchmark: Benchmark) -> list[tuple]:
    return list(Phase.objects.filter(benchmark=benchmark).order_by("slug").values_list(
        "slug", "opens", "closes", "submissions_per_day", "submissions_total", "leaderboard", "revealed_at"))


# ---------------------------------------------------------------- sync


def test_sync_creates_the_spec_phases_once_and_never_overwrites_a_hosts_changes(
    phased: Benchmark, phased_root: Path, specs: Path
) -> None:
    assert snapshot(phased) == [
        ("dev", NOW - timedelta(days=10), NOW + timedelta(days=10), 5, None, "public", None),
        ("final", NOW + timedelta(days=10), NOW + timedelta(days=20), None, 3, "hidden_until_close", None),
    ]
    Phase.objects.filter(slug="dev").update(submissions_per_day=9, leaderboard="private", title="Warm-up")
    changed_in_spec = [{**PHASES[0], "submissions_per_day": 1, "closes": day(9)}, PHASES[1],
                       {"slug": "extra", "title": "Extra", "split": "final", "opens": day(30), "closes": day(40)}]
    write_phased_spec(specs, changed_in_spec)
    report = sync_benchmarks(phased_root, specs=[load_spec("toonnet", "tiny")])
    dev = Phase.objects.get(slug="dev")
    assert (dev.submissions_per_day, dev.leaderboard, dev.title) == (9, "private", "Warm-up")
    assert dev.closes == NOW + timedelta(days=10)
    assert report.new_phases == ["toonnet/extra"] and "new phase toonnet/extra" in report.lines()
    assert report.new_versions == []  # a phase is a setting: the protocol stays


# ---------------------------------------------------------------- helpers for the other parts


def test_the_current_phase_and_who_sees_its_leaderboard(phased: Benchmark, host: User, alice: User) -> None:
    dev, final = Phase.objects.get(slug="dev"), Phase.objects.get(slug="final")
    assert current_phase(phased, NOW) == dev
    assert current_phase(phased, NOW + timedelta(days=15)) == final
    assert current_phase(phased, NOW + timedelta(days=25)) is None
    assert phase_leaderboard_visible(dev, AnonymousUser(), NOW)
    assert not phase_leaderboard_visible(final, alice, NOW + timedelta(days=15))
    assert phase_leaderboard_visible(final, host, NOW + timedelta(days=15))
    assert phase_leaderboard_visible(final, alice, NOW + timedelta(days=20))
    Phase.objects.filter(pk=dev.pk).update(leaderboard="private")
    dev.refresh_from_db()
    assert not phase_leaderboard_visible(dev, alice, NOW) and phase_leaderboard_visible(dev, host, NOW)


def test_a_phase_on_a_hidden_part_takes_containers_only(phased: Benchmark) -> None:
    dev, final = Phase.objects.get(slug="dev"), Phase.objects.get(slug="final")
    assert (dev.inputs, final.inputs) == ("public", "hidden")
    assert dev.accepts("predictions") and dev.accepts("image")
    assert not final.accepts("predictions") and final.accepts("image") and final.accepts("tarball")


# ---------------------------------------------------------------- the API


def test_anyone_lists_the_phases_with_dates_and_state(phased: Benchmark) -> None:
    response = Client().get("/api/benchmarks/toonnet/phases/")
    assert response.status_code == 200
    body = response.json()
    assert [(p["slug"], p["state"], p["inputs"], p["leaderboard"]) for p in body] == [
        ("dev", "open", "public", "public"), ("final", "upcoming", "hidden", "hidden_until_close")]
    assert body[1]["opens"] == (NOW + timedelta(days=10)).isoformat().replace("+00:00", "Z")


def test_a_host_reveals_a_hidden_board_before_its_close(phased: Benchmark, host: User, alice: User) -> None:
    response = signed_in(host).post("/api/benchmarks/toonnet/phases/final/", {"action": "reveal"},
                                    content_type="application/json")
    assert response.status_code == 200 and response.json()["revealed_at"] is not None
    final = Phase.objects.get(slug="final")
    assert phase_leaderboard_visible(final, alice, NOW + timedelta(days=15))


def test_a_non_host_reveal_is_refused_in_one_line_and_changes_nothing(phased: Benchmark, alice: User) -> None:
    before = snapshot(phased)
    response = signed_in(alice).post("/api/benchmarks/toonnet/phases/final/", {"action": "reveal"},
                                     content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"error": "only the hosts of toonnet may open, close, extend or reveal its phases",
                               "field": None}
    anonymous = Client().post("/api/benchmarks/toonnet/phases/final/", {"action": "reveal"},
                              content_type="application/json")
    assert anonymous.status_code == 401
    assert snapshot(phased) == before


def test_an_action_on_an_unknown_phase_is_a_404_in_one_line(phased: Benchmark, host: User) -> None:
    before = snapshot(phased)
    response = signed_in(host).post("/api/benchmarks/toonnet/phases/finale/", {"action": "close"},
                                    content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"error": "toonnet has no phase 'finale' (its phases: dev, final)", "field": None}
    assert snapshot(phased) == before


def test_a_host_closes_opens_and_extends(phased: Benchmark, host: User) -> None:
    client = signed_in(host)
    closed = client.post("/api/benchmarks/toonnet/phases/dev/", {"action": "close"}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    opened = client.post("/api/benchmarks/toonnet/phases/final/", {"action": "open"}, content_type="application/json")
    assert opened.status_code == 200 and opened.json()["state"] == "open"
    extended = client.post("/api/benchmarks/toonnet/phases/final/", {"action": "extend", "closes": day(30)},
                           content_type="application/json")
    assert extended.status_code == 200
    assert Phase.objects.get(slug="final").closes == NOW + timedelta(days=30)


REFUSED_ACTIONS = [
    ("dev", {"action": "open"}, "phase 'dev' is open; only an upcoming phase can open"),
    ("final", {"action": "close"}, "phase 'final' is upcoming; only an open phase can close"),
    ("dev", {"action": "reveal"}, "phase 'dev' has a public leaderboard; only a hidden_until_close one is revealed"),
    ("dev", {"action": "extend"}, "closes: extend needs the new close date (UTC)"),
    ("dev", {"action": "extend", "closes": day(-20)},
     f"closes: {day(-20)} must be after the phase opens ({day(-10)}) and after now"),
    ("dev", {"action": "extend", "closes": day(15)},
     f"phase 'final' opens ({day(10)}) before phase 'dev' closes ({day(15)}); phases must not overlap"),
    ("dev", {"action": "pause"}, "action: expected one of open, close, extend, reveal, got 'pause'"),
    ("dev", {"action": "extend", "closes": "soon"},
     "closes: Datetime has wrong format. Use one of these formats instead: "
     "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."),
]


@pytest.mark.parametrize(("phase", "body", "expected"), REFUSED_ACTIONS,
                         ids=[f"{phase}-{body['action']}-{n}" for n, (phase, body, _) in enumerate(REFUSED_ACTIONS)])
def test_an_action_that_cannot_apply_is_refused_in_one_line_and_changes_nothing(
    phased: Benchmark, host: User, phase: str, body: dict, expected: str
) -> None:
    before = snapshot(phased)
    response = signed_in(host).post(f"/api/benchmarks/toonnet/phases/{phase}/", body, content_type="application/json")
    assert response.status_code == 400
    named = expected.split(":")[0]
    assert response.json() == {"error": expected, "field": named if named in ("action", "closes") else None}
    assert snapshot(phased) == before


def test_the_admin_reveals_a_phase(phased: Benchmark, host: User) -> None:
    host.is_superuser = True
    host.save()
    final = Phase.objects.get(slug="final")
    response = signed_in(host).post("/admin/benchmarks/phase/", {
        "action": "reveal_phase", "_selected_action": [final.pk]}, follow=True)
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == ["toonnet/final: reveal done"]
    assert Phase.objects.get(slug="final").revealed_at is not None


def test_the_admin_form_refuses_an_overlapping_close_in_one_line(phased: Benchmark) -> None:
    dev = Phase.objects.get(slug="dev")
    dev.closes = NOW + timedelta(days=15)
    with pytest.raises(ValidationError) as caught:
        dev.full_clean()
    assert caught.value.message_dict == {"closes": [
        f"phase 'final' opens ({day(10)}) before phase 'dev' closes ({day(15)}); phases must not overlap"]}
    assert Phase.objects.get(slug="dev").closes == NOW + timedelta(days=10)


# ---------------------------------------------------------------- pages and bundles


def test_the_benchmark_page_shows_each_phase_with_its_utc_dates_and_state(phased: Benchmark) -> None:
    page = Client().get("/benchmarks/toonnet/").content.decode()
    assert 'id="phase-dev"' in page and 'id="phase-final"' in page
    assert (NOW + timedelta(days=10)).strftime("%Y-%m-%d %H:%M") in page
    assert ">open<" in page and ">upcoming<" in page
    assert "hidden inputs: containers only" in page


def hidden_items(root: Path) -> list:
    from datasets.build import load_built

    built: BuiltBenchmark = load_built("toonnet", root)
    return [item for item in built.test_items() if item.part == "final"]


def test_a_hidden_parts_images_are_in_no_bundle_and_no_page(phased: Benchmark, phased_root: Path, host: User) -> None:
    hidden = hidden_items(phased_root)
    assert hidden
    response = Client().get("/benchmarks/toonnet/bundle/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert not {f"toonnet/{item.path}" for item in hidden} & names
    text = "".join(archive.read(name).decode() for name in names if not name.endswith(".png"))
    pages = [signed_in(host).get(url).content.decode() for url in
             ("/", "/benchmarks/toonnet/", "/api/benchmarks/toonnet/", "/api/benchmarks/toonnet/phases/")]
    for item in hidden:
        assert item.id not in text and all(item.id not in page for page in pages)
