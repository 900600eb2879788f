"""One input check for every way in: the submit form, the API and a completed chunked upload refuse the same
bad artefact with the same one line, and store nothing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from submissions.models import Submission
from submissions.services import open_upload
from uploads.chunked import UploadError
from uploads.models import ChunkedUpload

pytestmark = pytest.mark.django_db

REFUSAL = "model.tar: no manifest.json at the top level; expected the output of `docker save IMAGE`"


@pytest.fixture
def no_manifest() -> bytes:
    """A tar that is no ``docker save`` output: one layer and no manifest.json."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("layer/layer.tar")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"data"))
    return buffer.getvalue()


@pytest.fixture
def upload_dir(site, tmp_path):  # type: ignore[no-untyped-def]
    site.TOONBENCH_UPLOAD_DIR = tmp_path / "uploads"
    return site.TOONBENCH_UPLOAD_DIR


def token_header(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def test_the_submit_form_refuses_it(client: Client, toonnet: Benchmark, alice: User, no_manifest: bytes) -> None:
    client.force_login(alice)
    response = client.post("/submit/", {"benchmark": "toonnet", "kind": "tarball", "method_name": "m",
                                        "artefact": SimpleUploadedFile("model.tar", no_manifest)})
    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert Submission.objects.count() == 0


def test_the_api_refuses_it(client: Client, toonnet: Benchmark, alice: User, no_manifest: bytes) -> None:
    response = client.post("/api/submissions/", {"benchmark": "toonnet", "kind": "tarball", "method_name": "m",
                                                 "artefact": SimpleUploadedFile("model.tar", no_manifest)},
                           **token_header(alice))
    assert (response.status_code, response.json()) == (400, {"error": f"artefact: {REFUSAL}", "field": "artefact"})
    assert Submission.objects.count() == 0


def test_a_completed_chunked_upload_is_refused_the_same_way_and_discarded(
    client: Client, toonnet: Benchmark, alice: User, no_manifest: bytes, upload_dir
) -> None:  # type: ignore[no-untyped-def]
    body = {"benchmark": "toonnet", "kind": "tarball", "filename": "model.tar", "total_bytes": len(no_manifest),
            "sha256": hashlib.sha256(no_manifest).hexdigest()}
    created = client.post("/api/uploads/", json.dumps(body), content_type="application/json", **token_header(alice))
    upload_id = created.json()["id"]
    sent = client.patch(f"/api/uploads/{upload_id}/", no_manifest, content_type="application/offset+octet-stream",
                        HTTP_UPLOAD_OFFSET="0", **token_header(alice))
    assert sent.status_code == 204
    response = client.post(f"/api/uploads/{upload_id}/complete/", json.dumps({"method_name": "m"}),
                           content_type="application/json", **token_header(alice))
    assert (response.status_code, response.json()) == (400, {"error": REFUSAL, "field": None})
    assert Submission.objects.count() == 0 and ChunkedUpload.objects.count() == 0
    assert list(upload_dir.iterdir()) == []


def test_an_image_reference_is_not_uploaded_in_chunks(
    toonnet: Benchmark, alice: User, upload_dir
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UploadError) as refused:
        open_upload(alice, toonnet, "image", "model.tar", 10)
    assert str(refused.value) == "kind 'image' is not uploaded in chunks (expected one of tarball, predictions)"
    assert ChunkedUpload.objects.count() == 0
