"""Resumable chunked uploads through the real API: create, chunks at offsets, status, complete, sweep."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from site_helpers import npy_bytes, zip_bytes
from saved_image import docker_saved_tarball
from maintenance import tasks
from submissions.models import Submission
from uploads.models import ChunkedUpload
from toonbench_cli import resumable
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
CHUNK_TYPE = "application/offset+octet-stream"


@pytest.fixture(scope="module")
def image_tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return docker_saved_tarball(tmp_path_factory.mktemp("image") / "model.tar")


@pytest.fixture
def upload_dir(site, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    site.TOONBENCH_UPLOAD_DIR = tmp_path / "uploads"
    return site.TOONBENCH_UPLOAD_DIR


def auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def create(client, user, data: bytes | None = None, **fields):  # type: ignore[no-untyped-def]
    body = {"benchmark": "toonnet", "kind": "tarball", "filename": "model.tar"}
    if data is not None:
        body.update(total_bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    body.update(fields)
    return client.post("/api/uploads/", json.dumps(body), content_type="application/json", **auth(user))


def send(client, user, upload_id: str, offset: int, chunk: bytes, **headers):  # type: ignore[no-untyped-def]
    return client.patch(f"/api/uploads/{upload_id}/", chunk, content_type=headers.pop("content_type", CHUNK_TYPE),
                        HTTP_UPLOAD_OFFSET=str(offset), **auth(user), **headers)


def send_all(client, user, upload_id: str, data: bytes, chunk_bytes: int, first: int = 0) -> list[int]:  # type: ignore[no-untyped-def]
    """Send ``data`` from offset ``first`` on in chunks; returns the offsets the server answered."""
    offsets = []
    for start in range(first, len(data), chunk_bytes):
        response = send(client, user, upload_id, start, data[start:start + chunk_bytes])
        assert response.status_code == 204, response.content
        offsets.append(int(response["Upload-Offset"]))
    return offsets


def complete(client, user, upload_id: str, method: str = "chunked model"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/uploads/{upload_id}/complete/", json.dumps({"method_name": method}),
                       content_type="application/json", **auth(user))


def tar_without_manifest() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        layer = os.urandom(5000)
        info = tarfile.TarInfo("layer/layer.tar")
        info.size = len(layer)
        archive.addfile(info, io.BytesIO(layer))
    return buffer.getvalue()


def stored_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def test_a_docker_saved_image_sent_in_chunks_becomes_a_byte_identical_artefact(
    client, toonnet, alice, upload_dir, image_tarball, site  # type: ignore[no-untyped-def]
) -> None:
    data = image_tarball.read_bytes()
    created = create(client, alice, data)
    assert created.status_code == 201, created.content
    upload_id = created.json()["id"]
    assert created.json()["offset"] == 0 and created.json()["total_bytes"] == len(data)
    assert created["Location"].endswith(f"/api/v1/uploads/{upload_id}/")

    first = send(client, alice, upload_id, 0, data[:MB])
    assert first.status_code == 204 and first["Upload-Offset"] == str(MB)
    status = client.head(f"/api/uploads/{upload_id}/", **auth(alice))
    assert status.status_code == 200 and status["Upload-Offset"] == str(MB) and status["Upload-Length"] == str(len(data))
    assert client.get(f"/api/uploads/{upload_id}/", **auth(alice)).json()["offset"] == MB
    offsets = send_all(client, alice, upload_id, data, MB, first=MB)
    assert offsets == [min(end, len(data)) for end in range(2 * MB, len(data) + MB, MB)]
    assert len(offsets) + 1 >= 4

    done = complete(client, alice, upload_id)
    assert done.status_code == 201, done.content
    submission = Submission.objects.get(pk=done.json()["id"])
    assert submission.kind == "tarball" and submission.method_name == "chunked model" and submission.owner == alice
    with submission.artefact.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not ChunkedUpload.objects.exists()
    assert stored_files(upload_dir) == []


def test_a_predictions_archive_in_chunks_is_checked_and_submitted(
    client, toonnet, alice, upload_dir, toonnet_built  # type: ignore[no-untyped-def]
) -> None:
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    upload_id = create(client, alice, archive, kind="predictions", filename="out.zip").json()["id"]
    send_all(client, alice, upload_id, archive, len(archive) // 2 + 1)
    done = complete(client, alice, upload_id)
    assert done.status_code == 201, done.content
    submission = Submission.objects.get(pk=done.json()["id"])
    assert submission.kind == "predictions" and submission.artefact.name.endswith(".zip")
    with submission.artefact.open("rb") as stored:
        assert stored.read() == archive


def test_a_chunk_at_the_wrong_offset_answers_409_with_the_offset_and_changes_nothing(
    client, toonnet, alice, upload_dir  # type: ignore[no-untyped-def]
) -> None:
    data = os.urandom(3000)
    upload_id = create(client, alice, data).json()["id"]
    assert send(client, alice, upload_id, 0, data[:1000]).status_code == 204
    for wrong in (0, 500, 2000):
        response = send(client, alice, upload_id, wrong, data[wrong:wrong + 1000])
        assert response.status_code == 409
        assert response["Upload-Offset"] == "1000" and response.json()["field"] is None
        assert "is at offset 1000, not" in response.json()["error"]
    assert ChunkedUpload.objects.get().received_bytes == 1000
    assert (upload_dir / f"{upload_id.replace('-', '')}.part").read_bytes() == data[:1000]


def test_a_chunk_that_would_end_past_the_total_is_refused(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(3000)
    upload_id = create(client, alice, data).json()["id"]
    response = send(client, alice, upload_id, 0, data + b"extra")
    assert response.status_code == 400
    assert response.json()["error"] == (
        "a chunk of 3005 bytes at offset 0 would end past the upload's total of 3000 bytes")
    assert ChunkedUpload.objects.get().received_bytes == 0


def test_a_chunk_must_be_raw_bytes_with_an_offset_and_under_the_chunk_cap(
    client, toonnet, alice, upload_dir, site  # type: ignore[no-untyped-def]
) -> None:
    data = os.urandom(300_000)
    upload_id = create(client, alice, data).json()["id"]
    as_form = send(client, alice, upload_id, 0, data[:1000], content_type="application/octet-stream")
    assert as_form.status_code == 415 and "application/offset+octet-stream" in as_form.json()["error"]
    no_offset = client.patch(f"/api/uploads/{upload_id}/", data[:1000], content_type=CHUNK_TYPE, **auth(alice))
    assert no_offset.status_code == 400 and "Upload-Offset" in no_offset.json()["error"]
    site.TOONBENCH_UPLOAD_CHUNK_MB = 0.25
    too_big = send(client, alice, upload_id, 0, data)
    assert too_big.status_code == 413 and "over the limit of 262144 bytes per request" in too_big.json()["error"]
    assert ChunkedUpload.objects.get().received_bytes == 0


def test_an_upload_over_the_benchmark_cap_is_refused_at_create(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    cap_mb = toonnet.typed_spec.limits.upload_mb
    response = create(client, alice, total_bytes=cap_mb * MB + 1)
    assert response.status_code == 413
    assert response.json()["error"] == (
        f"model.tar: {(cap_mb * MB + 1) / MB:.1f} MB, over toonnet's upload limit of {cap_mb} MB (limits.upload_mb)")
    assert not ChunkedUpload.objects.exists() and stored_files(upload_dir) == []
    assert create(client, alice, total_bytes=cap_mb * MB).status_code == 201


def test_create_refuses_bad_fields_with_the_field_named(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    assert create(client, alice, total_bytes=0).json()["field"] == "total_bytes"
    assert create(client, alice, total_bytes=10, sha256="abc").json() == {
        "error": "sha256: expected 64 hexadecimal digits", "field": "sha256"}
    assert create(client, alice, total_bytes=10, kind="image").json()["field"] == "kind"
    assert create(client, alice, total_bytes=10, benchmark="nonesuch").json()["field"] == "benchmark"
    assert not ChunkedUpload.objects.exists()


def test_unfinished_uploads_per_user_are_capped(client, toonnet, alice, upload_dir, site) -> None:  # type: ignore[no-untyped-def]
    for _ in range(site.TOONBENCH_UPLOAD_MAX_OPEN):
        assert create(client, alice, total_bytes=10).status_code == 201
    refused = create(client, alice, total_bytes=10)
    assert refused.status_code == 429 and "unfinished uploads" in refused.json()["error"]


def test_another_users_upload_answers_404_and_stays_untouched(client, toonnet, alice, bob, upload_dir) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(2000)
    upload_id = create(client, alice, data).json()["id"]
    assert send(client, alice, upload_id, 0, data[:1000]).status_code == 204
    url = f"/api/uploads/{upload_id}/"
    assert client.head(url, **auth(bob)).status_code == 404
    assert client.get(url, **auth(bob)).status_code == 404
    assert send(client, bob, upload_id, 1000, data[1000:]).status_code == 404
    assert complete(client, bob, upload_id).status_code == 404
    assert client.delete(url, **auth(bob)).status_code == 404
    assert client.get(url).status_code == 401
    assert ChunkedUpload.objects.get().received_bytes == 1000


def test_a_sha256_mismatch_is_refused_at_completion_and_nothing_is_stored(
    client, toonnet, alice, upload_dir, image_tarball, site  # type: ignore[no-untyped-def]
) -> None:
    data = image_tarball.read_bytes()
    declared = hashlib.sha256(b"another file").hexdigest()
    upload_id = create(client, alice, data, sha256=declared).json()["id"]
    send_all(client, alice, upload_id, data, 2 * MB)
    response = complete(client, alice, upload_id)
    assert response.status_code == 400
    reason = response.json()["error"]
    assert reason == (f"model.tar: the bytes received have sha256 {hashlib.sha256(data).hexdigest()}, not the "
                      f"declared {declared}; the upload was discarded, send the file again")
    assert "\n" not in reason
    assert not Submission.objects.exists() and not ChunkedUpload.objects.exists()
    assert stored_files(upload_dir) == [] and stored_files(Path(site.MEDIA_ROOT)) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"plain bytes, no archive " * 100, "model.tar: not a readable tar archive"),
     (None, "model.tar: no manifest.json at the top level")],
    ids=["not-a-tar", "no-manifest"],
)
def test_a_tarball_that_is_not_an_image_is_refused_at_completion(
    client, toonnet, alice, upload_dir, site, data, reason  # type: ignore[no-untyped-def]
) -> None:
    data = data if data is not None else tar_without_manifest()
    upload_id = create(client, alice, data).json()["id"]
    send_all(client, alice, upload_id, data, 1000)
    response = complete(client, alice, upload_id)
    assert response.status_code == 400 and response.json()["error"].startswith(reason)
    assert not Submission.objects.exists() and not ChunkedUpload.objects.exists()
    assert stored_files(upload_dir) == [] and stored_files(Path(site.MEDIA_ROOT)) == []


def test_an_incomplete_upload_cannot_be_completed_and_stays_resumable(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(3000)
    upload_id = create(client, alice, data).json()["id"]
    send(client, alice, upload_id, 0, data[:1000])
    response = complete(client, alice, upload_id)
    assert response.status_code == 409 and response["Upload-Offset"] == "1000"
    assert "has 1000 of 3000 bytes; send the rest from offset 1000" in response.json()["error"]
    assert send(client, alice, upload_id, 1000, data[1000:]).status_code == 204
    assert ChunkedUpload.objects.get().received_bytes == 3000


def test_an_exhausted_quota_refuses_completion_and_keeps_the_upload(
    client, toonnet, alice, upload_dir, image_tarball  # type: ignore[no-untyped-def]
) -> None:
    data = image_tarball.read_bytes()
    upload_id = create(client, alice, data).json()["id"]
    send_all(client, alice, upload_id, data, 2 * MB)
    for index in range(toonnet.typed_spec.limits.submissions_per_day):
        Submission.objects.create(owner=alice, benchmark=toonnet, protocol=toonnet.current_version(),
                                  kind="image", image_ref=f"model:{index}", method_name=f"earlier {index}")
    response = complete(client, alice, upload_id)
    assert response.status_code == 429
    assert f"you have used all {toonnet.typed_spec.limits.submissions_per_day} submissions to toonnet" in response.json()["error"]
    kept = ChunkedUpload.objects.get()
    assert kept.received_bytes == len(data) and kept.completed_at is None
    Submission.objects.filter(method_name="earlier 0").update(status="failed")
    assert complete(client, alice, upload_id).status_code == 201


def test_the_sweep_removes_abandoned_uploads_and_leftover_part_files(
    client, toonnet, alice, upload_dir, site  # type: ignore[no-untyped-def]
) -> None:
    data = os.urandom(3000)
    abandoned = create(client, alice, data).json()["id"]
    send(client, alice, abandoned, 0, data[:1000])
    fresh = create(client, alice, data).json()["id"]
    long_ago = timezone.now() - timedelta(seconds=site.TOONBENCH_UPLOAD_EXPIRY_S + 60)
    ChunkedUpload.objects.filter(pk=abandoned).update(updated=long_ago)
    leftover = upload_dir / ("0" * 32 + ".part")
    leftover.write_bytes(b"left by a crash")
    os.utime(leftover, (time.time() - site.TOONBENCH_UPLOAD_EXPIRY_S - 60,) * 2)

    report = tasks.sweep_stale_jobs()

    assert report["removed_uploads"] == [abandoned]
    assert client.get(f"/api/uploads/{abandoned}/", **auth(alice)).status_code == 404
    assert [str(pk) for pk in ChunkedUpload.objects.values_list("pk", flat=True)] == [fresh]
    assert stored_files(upload_dir) == [upload_dir / f"{fresh.replace('-', '')}.part"]


def test_deleting_an_upload_removes_its_bytes(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(2000)
    upload_id = create(client, alice, data).json()["id"]
    send(client, alice, upload_id, 0, data[:1000])
    assert client.delete(f"/api/uploads/{upload_id}/", **auth(alice)).status_code == 204
    assert not ChunkedUpload.objects.exists() and stored_files(upload_dir) == []


def test_a_logged_in_session_can_upload_too(client, toonnet, alice, upload_dir) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    data = os.urandom(2000)
    created = client.post("/api/uploads/", {"benchmark": "toonnet", "kind": "tarball", "filename": "m.tar",
                                            "total_bytes": len(data)}, content_type="application/json")
    assert created.status_code == 201
    response = client.patch(f"/api/uploads/{created.json()['id']}/", data, content_type=CHUNK_TYPE,
                            HTTP_UPLOAD_OFFSET="0")
    assert response.status_code == 204 and response["Upload-Offset"] == "2000"


def test_the_submit_page_sends_large_files_to_the_cli(client, toonnet, alice) -> None:  # type: ignore[no-untyped-def]
    client.force_login(alice)
    page = client.get("/submit/").content.decode()
    assert f"files over {resumable.CHUNKED_ABOVE_MB} MB go through the command line" in page
    assert "toonbench submit toonnet --tarball image.tar" in page
