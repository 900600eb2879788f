"""Uploads are checked before anything is stored: archive safety, size limits, image references."""

from __future__ import annotations

import html
import io
import os
import tarfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from submissions.models import Submission
from submissions.inputs import check_image_reference
from site_helpers import npy_bytes, zip_bytes
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def submit_page(client, kind: str, upload=None, image_ref: str = ""):  # type: ignore[no-untyped-def]
    form = {"benchmark": "toonnet", "kind": kind, "method_name": "upload check", "image_ref": image_ref}
    if upload is not None:
        form["artefact"] = upload
    return client.post("/submit/", form)


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def set_upload_limit(benchmark: Benchmark, megabytes: int) -> None:
    benchmark.spec = dict(benchmark.spec, limits=dict(benchmark.spec["limits"], upload_mb=megabytes))
    benchmark.save()


@pytest.fixture
def alice_client(client, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    return client


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../escape.npy": b"x"}, "unsafe path"),
        ({"/etc/cron.d/evil": b"x"}, "unsafe path"),
        ({"scores.npy": bytes(4 * MB)}, "zip bomb"),
    ],
    ids=["dot-dot", "absolute", "bomb"],
)
def test_unsafe_predictions_archives_are_refused_at_upload(alice_client, toonnet, members, message) -> None:  # type: ignore[no-untyped-def]
    response = submit_page(alice_client, "predictions", SimpleUploadedFile("p.zip", zip_bytes(members)))
    assert response.status_code == 400
    assert message in page_text(response)
    assert not Submission.objects.exists()


def test_a_predictions_file_that_is_not_a_zip_is_refused_with_its_name(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    response = submit_page(alice_client, "predictions", SimpleUploadedFile("mine.zip", b"not a zip at all"))
    assert "mine.zip: not a readable zip archive" in page_text(response)
    assert not Submission.objects.exists()


def test_an_archive_with_more_files_than_the_protocol_needs_is_refused(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    limit = toonnet.current_version().test_items + 16
    archive = zip_bytes({f"images/{index}.png": b"x" for index in range(limit + 1)})
    response = submit_page(alice_client, "predictions", SimpleUploadedFile("many.zip", archive))
    assert f"{limit + 1} files in the archive, expected at most {limit}" in page_text(response)


def test_an_upload_over_the_benchmark_limit_is_refused_with_the_limit(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    set_upload_limit(toonnet, 1)
    roomy = {**toonnet.spec, "slug": "roomy", "limits": {**toonnet.spec["limits"], "upload_mb": 64}}
    Benchmark.objects.create(slug="roomy", title="Roomy", task="classification", spec=roomy)
    big = zip_bytes({"scores.npy": os.urandom(MB + MB // 4)})
    response = submit_page(alice_client, "predictions", SimpleUploadedFile("big.zip", big))
    assert response.status_code == 400
    assert "over toonnet's upload limit of 1 MB (limits.upload_mb)" in page_text(response)
    assert not Submission.objects.exists()


def test_a_body_bigger_than_every_limit_stops_streaming_with_413(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    set_upload_limit(toonnet, 1)
    response = submit_page(alice_client, "predictions", SimpleUploadedFile("huge.zip", os.urandom(2 * MB)))
    assert response.status_code == 413
    assert "over the limit of 1 MB" in page_text(response)
    assert not Submission.objects.exists()


def test_an_announced_length_over_the_limit_is_refused_before_reading(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    response = alice_client.post("/submit/", {"benchmark": "toonnet"}, CONTENT_LENGTH=str(10 * 1024 * MB))
    assert response.status_code == 413
    assert "the upload is 10240.0 MB, over the limit of 2048 MB" in page_text(response)


def test_an_image_tarball_must_be_a_docker_save_archive(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    not_tar = submit_page(alice_client, "tarball", SimpleUploadedFile("image.tar", b"plain bytes" * 100))
    assert "image.tar: not a readable tar archive" in page_text(not_tar)
    escaping = submit_page(alice_client, "tarball", SimpleUploadedFile("image.tar", tar_bytes({"../x": b"1"})))
    assert "member '../x' has an unsafe path" in page_text(escaping)
    no_manifest = submit_page(alice_client, "tarball", SimpleUploadedFile("image.tar", tar_bytes({"a": b"1"})))
    assert "no manifest.json at the top level" in page_text(no_manifest)
    assert not Submission.objects.exists()
    saved = tar_bytes({"manifest.json": b"[]", "blobs/sha256/ab": b"layer"})
    assert submit_page(alice_client, "tarball", SimpleUploadedFile("image.tar", saved)).status_code == 302
    assert Submission.objects.get().kind == "tarball"


@pytest.mark.parametrize("reference", ["not a reference!", "UPPER/case:1", "a/b:tag with space", ""])
def test_a_malformed_image_reference_is_refused(alice_client, toonnet, reference) -> None:  # type: ignore[no-untyped-def]
    response = submit_page(alice_client, "image", image_ref=reference)
    assert response.status_code == 400
    assert "is not a container image reference" in page_text(response)


@pytest.mark.parametrize("reference", ["model:1", "registry.example.org:5000/team/model:1.0",
                                       "team/model@sha256:" + "a" * 64])
def test_well_formed_image_references_pass_the_syntax_check(alice_client, toonnet, reference) -> None:  # type: ignore[no-untyped-def]
    """Well-formed, so the form takes them; none can be pinned here (no registry host, or one that does not
    resolve), so the page refuses them for that reason instead. tests/registry submits pinnable ones."""
    assert check_image_reference(f"  {reference} ") == reference
    response = submit_page(alice_client, "image", image_ref=reference)
    assert response.status_code == 400
    text = page_text(response)
    assert "is not a container image reference" not in text
    assert "names no registry host" in text or "is unreachable" in text
    assert not Submission.objects.exists()


def test_the_api_refuses_a_traversal_archive_and_an_oversized_body(client, toonnet, alice, toonnet_built) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=alice)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    evil = SimpleUploadedFile("p.zip", zip_bytes({"../scores.npy": npy_bytes(seeded_scores(toonnet_built))}))
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "predictions", "artefact": evil,
                                                 "method_name": "evil", "is_public": "true"}, **headers)
    assert response.status_code == 400 and response.json()["field"] == "artefact"
    assert response.json()["error"].startswith("artefact: ") and "unsafe path" in response.json()["error"]
    set_upload_limit(toonnet, 1)
    huge = SimpleUploadedFile("huge.zip", os.urandom(2 * MB))
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "predictions", "artefact": huge,
                                                 "method_name": "huge", "is_public": "true"}, **headers)
    assert response.status_code == 413 and "over the limit of 1 MB" in response.json()["error"]
    assert not Submission.objects.exists()
