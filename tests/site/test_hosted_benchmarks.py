"""Benchmarks a host uploads: refusals through the API (one line, nothing changed), the worker's build, sync."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from benchmarks.models import Benchmark, BuildState, Origin, ProtocolVersion
from benchmarks.sync import sync_benchmarks
from benchmarks.tasks import build_uploaded_benchmark
from datasets.spec import load_spec
from hosted_specs import dataset_zip, spec_bytes, spec_document, write_dataset
from hostile_archives import MB, gzip_tar_bomb, tar_member, tar_of, zip_entries, zip_lying_about_size
from organisers.models import BenchmarkHost

pytestmark = pytest.mark.django_db


@pytest.fixture
def hosting(site, tmp_path, monkeypatch, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A data root and specs folder of this test's own; queued builds are recorded instead of sent (the
    callbacks a commit runs run as each upload's transaction ends)."""
    global capture_commits
    capture_commits = django_capture_on_commit_callbacks
    site.TOONBENCH_DATA_ROOT = tmp_path / "data"
    site.TOONBENCH_DATA_ROOT.mkdir()
    monkeypatch.setenv("TOONBENCH_SPECS_DIR", str(tmp_path / "specs"))
    sent: list[tuple[list[int], str]] = []
    monkeypatch.setattr(build_uploaded_benchmark, "apply_async",
                        lambda args, queue: sent.append((args, queue)))
    return sent


@pytest.fixture
def staff(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("hostess", "host@example.org", "correct horse battery", is_staff=True)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset")


def post(user: User, spec: bytes, archive: bytes | None = None, **fields: str):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    body: dict[str, object] = {"spec": io.BytesIO(spec), **fields}
    if archive is not None:
        body["archive"] = io.BytesIO(archive)
        body["archive"].name = "data.tar" if archive[:2] != b"PK" else "data.zip"
    with capture_commits(execute=True):
        return client.post("/api/benchmarks/", body, format="multipart")


def assert_nothing_changed(data_root: Path, specs: Path) -> None:
    assert not Benchmark.objects.filter(origin=Origin.UPLOADED).exists()
    assert not (data_root / "uploaded").exists() or not any((data_root / "uploaded").iterdir())
    assert not specs.exists() or not any(specs.iterdir())


def test_an_upload_is_queued_on_the_maintenance_queue_then_built_and_published(  # type: ignore[no-untyped-def]
    hosting, staff, dataset, site, tmp_path
) -> None:
    response = post(staff, spec_bytes(spec_document()), dataset_zip(dataset))
    assert response.status_code == 201, response.content
    assert response.json() == {"slug": "shapes", "origin": "uploaded", "build_state": "queued",
                               "build_message": "waiting for a worker", "published": False}
    benchmark = Benchmark.objects.get(slug="shapes")
    assert hosting == [([benchmark.pk], "maintenance")]
    assert sorted(p.name for p in (site.TOONBENCH_DATA_ROOT / "uploaded" / "shapes").iterdir()) == ["car", "cat"]
    assert load_spec("shapes").data_root() == site.TOONBENCH_DATA_ROOT / "uploaded" / "shapes"
    assert BenchmarkHost.objects.get(benchmark=benchmark).user == staff

    assert build_uploaded_benchmark(benchmark.pk) == "built"
    benchmark.refresh_from_db()
    assert benchmark.build_state == BuildState.BUILT and not benchmark.is_active
    version = ProtocolVersion.objects.get(benchmark=benchmark, is_current=True)
    assert (version.source, version.test_items, version.train_items) == ("real", 6, 6)
    assert benchmark.build_message.startswith(f"built: 6 test and 6 training items, protocol {version.short_hash}")
    assert build_uploaded_benchmark(benchmark.pk) == "not queued"  # a redelivered message does nothing

    anyone = APIClient()
    assert "shapes" not in [row["slug"] for row in anyone.get("/api/benchmarks/").json()]
    for hidden in ("/api/benchmarks/shapes/", "/api/benchmarks/shapes/bundle/", "/benchmarks/shapes/bundle/",
                   "/benchmarks/shapes/", "/benchmarks/shapes/leaderboard.csv", "/api/benchmarks/shapes/leaderboard/"):
        assert anyone.get(hidden).status_code == 404, hidden
    client = APIClient()
    client.force_authenticate(staff)
    assert client.post("/api/benchmarks/shapes/publish/").json()["published"] is True
    assert "shapes" in [row["slug"] for row in anyone.get("/api/benchmarks/").json()]
    assert anyone.get("/api/benchmarks/shapes/").json()["current_protocol"]["protocol_hash"] == version.protocol_hash


def test_a_data_folder_under_the_data_root_is_used_in_place(hosting, staff, site) -> None:  # type: ignore[no-untyped-def]
    folder = write_dataset(site.TOONBENCH_DATA_ROOT / "incoming" / "shapes")
    response = post(staff, spec_bytes(spec_document()), data_folder="incoming/shapes")
    assert response.status_code == 201, response.content
    assert Benchmark.objects.get(slug="shapes").data_folder == str(folder.resolve())
    assert build_uploaded_benchmark(Benchmark.objects.get(slug="shapes").pk) == "built"


def test_a_failed_build_says_why(hosting, staff, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = write_dataset(site.TOONBENCH_DATA_ROOT / "incoming")
    (folder / "dog").mkdir()
    assert post(staff, spec_bytes(spec_document()), data_folder="incoming").status_code == 201
    assert build_uploaded_benchmark(Benchmark.objects.get(slug="shapes").pk) == "failed"
    benchmark = Benchmark.objects.get(slug="shapes")
    assert benchmark.build_state == BuildState.FAILED
    assert "folder 'dog' is not a class of this benchmark" in benchmark.build_message
    assert "\n" not in benchmark.build_message


def zip_with_link() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("car/0.png")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


SPEC_REFUSALS = [
    ("unknown-adapter", {"dataset": {**spec_document()["dataset"], "adapter": "folder_per_klass"}},
     "spec: dataset.adapter: unknown adapter 'folder_per_klass'"),
    ("unknown-split", {"split": {"method": "stratifed", "seed": 0}}, "spec: split.method: unknown split method 'stratifed'"),
    ("unknown-metric", {"metrics": [{"name": "top1_error", "fn": "top_error", "higher_is_better": False}]},
     "spec: metrics.0.fn: "),
    ("repository-slug", {"slug": "toonnet"}, "spec: slug: 'toonnet' is a repository benchmark; choose another slug"),
]


@pytest.mark.parametrize(("changes", "expected"), [case[1:] for case in SPEC_REFUSALS],
                         ids=[case[0] for case in SPEC_REFUSALS])
def test_a_bad_spec_is_refused_in_one_line(hosting, staff, dataset, site, tmp_path, changes, expected) -> None:  # type: ignore[no-untyped-def]
    response = post(staff, spec_bytes(spec_document(**changes)), dataset_zip(dataset))
    assert response.status_code == 400
    detail = response.json()["error"]
    assert detail.startswith(expected) and "\n" not in detail, detail
    assert response.json()["field"] == "spec"
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")
    assert hosting == []


def test_a_slug_the_site_has_is_refused(hosting, staff, dataset, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert post(staff, spec_bytes(spec_document()), dataset_zip(dataset)).status_code == 201
    response = post(staff, spec_bytes(spec_document(title="Again")), dataset_zip(dataset))
    assert response.status_code == 400
    assert response.json()["error"] == "spec: slug: a benchmark 'shapes' already exists; choose another slug"
    assert Benchmark.objects.get(slug="shapes").title == "Two cartoon shapes"
    assert len(hosting) == 1


ARCHIVE_REFUSALS = [
    ("lying-size", zip_lying_about_size(b"x" * 1000, 4_000_000_000), "inflates more than 200-fold"),
    ("ratio-bomb", None, "inflates more than 200-fold; refusing a possible zip bomb"),
    ("traversal", zip_entries(["car/0.png", "../escape.png"]), "member '../escape.png' has an unsafe path"),
    ("absolute", zip_entries(["/tmp/escape.png"]), "member '/tmp/escape.png' has an unsafe path"),
    ("link", zip_with_link(), "member 'car/0.png' is a link; only plain files are allowed"),
    ("not-an-archive", b"not an archive at all", "not a readable tar archive"),
    ("tar-traversal", tar_of(lambda t: tar_member(t, "../escape.png", data=b"x")), "member '../escape.png' has an unsafe path"),
    ("tar-link", tar_of(lambda t: tar_member(t, "car/0.png", type=tarfile.SYMTYPE, linkname="1.png")),
     "member 'car/0.png' is a link; only plain files are allowed"),
    ("tar-link-out", tar_of(lambda t: tar_member(t, "car/0.png", type=tarfile.SYMTYPE, linkname="/etc/passwd")),
     "member 'car/0.png' links outside the archive"),
    ("tar-device", tar_of(lambda t: tar_member(t, "car/0.png", type=tarfile.CHRTYPE)), "is a device, fifo or other special file"),
]


def ratio_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("car/0.png", bytes(4 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(("archive", "expected"), [case[1:] for case in ARCHIVE_REFUSALS],
                         ids=[case[0] for case in ARCHIVE_REFUSALS])
def test_a_hostile_archive_is_refused_in_one_line(hosting, staff, site, tmp_path, archive, expected) -> None:  # type: ignore[no-untyped-def]
    response = post(staff, spec_bytes(spec_document()), archive if archive is not None else ratio_bomb())
    assert response.status_code == 400
    detail = response.json()["error"]
    assert detail.startswith("data: ") and expected in detail and "\n" not in detail, detail
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")
    assert not (tmp_path / "escape.png").exists()


@pytest.mark.parametrize(("cap", "value", "expected"), [
    ("TOONBENCH_DATA_ARCHIVE_MAX_FILES", 5, "data: data.zip: 12 files in the archive, expected at most 5"),
    ("TOONBENCH_DATA_ARCHIVE_MAX_MB", 1 / 256, "data: data.zip: unpacks to 0.0 MB, over the limit of 0.00390625 MB"),
])
def test_an_archive_over_the_caps_is_refused(hosting, staff, dataset, site, tmp_path, cap, value, expected) -> None:  # type: ignore[no-untyped-def]
    setattr(site, cap, value)
    response = post(staff, spec_bytes(spec_document()), dataset_zip(dataset))
    assert response.json() == {"error": expected, "field": None}
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")


def test_a_tar_bomb_is_refused_at_the_size_cap(hosting, staff, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site.TOONBENCH_DATA_ARCHIVE_MAX_MB = 1
    response = post(staff, spec_bytes(spec_document()), gzip_tar_bomb(8 * MB))
    detail = response.json()["error"]
    assert response.status_code == 400 and detail.startswith("data: data.tar: ") and "1 MB" in detail, detail
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")


def test_a_tar_archive_is_unpacked_and_built(hosting, staff, dataset, site) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(dataset, arcname=".")
    assert post(staff, spec_bytes(spec_document()), buffer.getvalue()).status_code == 201
    assert build_uploaded_benchmark(Benchmark.objects.get(slug="shapes").pk) == "built"


@pytest.mark.parametrize("name", ["..", "../elsewhere", "/etc", "."])
def test_a_data_folder_outside_the_data_root_is_refused(hosting, staff, site, tmp_path, name) -> None:  # type: ignore[no-untyped-def]
    write_dataset(tmp_path / "elsewhere")
    response = post(staff, spec_bytes(spec_document()), data_folder=name)
    assert response.status_code == 400
    assert response.json() == {"error": f"data_folder: {name!r} is outside the data root; name a folder under it",
                               "field": "data_folder"}
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")


def test_archive_and_data_folder_together_are_refused(hosting, staff, dataset, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    response = post(staff, spec_bytes(spec_document()), dataset_zip(dataset), data_folder="incoming")
    assert response.json() == {"error": "data: send either a data archive or a data_folder, not both or neither",
                               "field": None}
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")


def test_only_staff_upload_and_only_hosts_see_the_build(hosting, staff, alice, dataset, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    response = post(alice, spec_bytes(spec_document()), dataset_zip(dataset))
    assert response.status_code == 403
    assert response.json() == {"error": "only the site's staff may upload a benchmark", "field": None}
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")
    anonymous = APIClient().post("/api/benchmarks/", {"spec": io.BytesIO(b"slug: x")}, format="multipart")
    assert anonymous.status_code == 401

    assert post(staff, spec_bytes(spec_document()), dataset_zip(dataset)).status_code == 201
    client = APIClient()
    client.force_authenticate(alice)
    for response in (client.get("/api/benchmarks/shapes/build/"), client.post("/api/benchmarks/shapes/publish/")):
        assert response.status_code == 403
        assert response.json() == {"error": "only the hosts of shapes may see its build or publish it",
                                   "field": None}
    assert not Benchmark.objects.get(slug="shapes").is_active


def test_publishing_before_the_build_is_refused(hosting, staff, dataset) -> None:  # type: ignore[no-untyped-def]
    assert post(staff, spec_bytes(spec_document()), dataset_zip(dataset)).status_code == 201
    client = APIClient()
    client.force_authenticate(staff)
    response = client.post("/api/benchmarks/shapes/publish/")
    assert response.json() == {"error": "shapes: is queued; publish it once built", "field": None}
    assert not Benchmark.objects.get(slug="shapes").is_active


def test_sync_never_deactivates_an_uploaded_benchmark(hosting, staff, dataset, site) -> None:  # type: ignore[no-untyped-def]
    assert post(staff, spec_bytes(spec_document()), dataset_zip(dataset)).status_code == 201
    benchmark = Benchmark.objects.get(slug="shapes")
    build_uploaded_benchmark(benchmark.pk)
    Benchmark.objects.filter(pk=benchmark.pk).update(is_active=True)
    report = sync_benchmarks(site.TOONBENCH_DATA_ROOT, specs=[])
    assert report.deactivated == []
    assert Benchmark.objects.get(slug="shapes").is_active


def test_the_admin_uploads_a_benchmark_and_refuses_a_bad_one_in_one_line(  # type: ignore[no-untyped-def]
    hosting, client, django_user_model, dataset, site, tmp_path
) -> None:
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "pw"))
    bad = client.post("/admin/benchmarks/benchmark/add/", {
        "spec_file": io.BytesIO(spec_bytes(spec_document(slug="toonnet"))), "archive": io.BytesIO(dataset_zip(dataset)),
    })
    assert bad.status_code == 200
    assert "spec: slug: &#x27;toonnet&#x27; is a repository benchmark; choose another slug" in bad.content.decode()
    assert_nothing_changed(site.TOONBENCH_DATA_ROOT, tmp_path / "specs")

    spec, archive = io.BytesIO(spec_bytes(spec_document())), io.BytesIO(dataset_zip(dataset))
    spec.name, archive.name = "shapes.yaml", "data.zip"
    with capture_commits(execute=True):
        added = client.post("/admin/benchmarks/benchmark/add/", {"spec_file": spec, "archive": archive})
    benchmark = Benchmark.objects.get(slug="shapes")
    assert added.status_code == 302 and added["Location"] == "/admin/benchmarks/benchmark/"
    assert (benchmark.origin, benchmark.build_state, benchmark.is_active) == (Origin.UPLOADED, BuildState.QUEUED, False)
    assert hosting == [([benchmark.pk], "maintenance")]
    page = client.get(f"/admin/benchmarks/benchmark/{benchmark.pk}/change/").content.decode()
    assert "waiting for a worker" in page
