"""Hostile archives through the real submit form and API: each is refused with a one-line reason, never a 500.

The cases are the attacks tried on the site: a zip whose size header lies, a
member named ``.``, a central directory of 300,000 entries (it cost the web
process 156 MB before it was refused), a 0.3 MB gzip tarball that inflates to
0.27 GB, and the other malformed archives a participant can craft by hand.
"""

from __future__ import annotations

import html
import io
import random
import tarfile
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from benchmarks.models import Benchmark
from datasets.build import BuiltBenchmark
from hostile_archives import (
    MB,
    gzip_tar_bomb,
    tar_member,
    tar_of,
    tar_with_gzip_layer,
    zip_entries,
    zip_lying_about_size,
    zip_renamed,
    zip_with_empty_entries,
)
from site_helpers import npy_bytes, zip_bytes
from submissions.models import Submission
from submissions.inputs import UploadRejected, check_predictions_archive
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.django_db


@pytest.fixture
def scores_npy(toonnet_built: BuiltBenchmark) -> bytes:
    return npy_bytes(seeded_scores(toonnet_built))


@pytest.fixture
def alice_client(client, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    return client


@pytest.fixture
def api_headers(alice) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=alice).key}"}


def submit_page(client, kind: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post("/submit/", {"benchmark": "toonnet", "kind": kind, "method_name": "hostile",
                                    "artefact": SimpleUploadedFile(name, data)})


def page_reason(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.content.decode())


def hostile_zips(scores: bytes) -> dict[str, tuple[bytes, str]]:
    """name -> (archive, the reason it is refused with)."""
    valid = zip_bytes({"scores.npy": scores})
    lying_count = bytearray(zip_with_empty_entries(60000))
    lying_count[-12:-8] = (1).to_bytes(2, "little") * 2  # the end record claims one entry
    return {
        "size-header-smaller": (zip_lying_about_size(scores, 100), "member 'scores.npy' cannot be unpacked (Bad CRC-32"),
        "member-dot": (zip_entries([".", "scores.npy"], scores), "member '.' has a '.' path component"),
        "member-dot-slash": (zip_entries(["./", "scores.npy"], scores), "member './' has a '.' path component"),
        "empty-name": (zip_entries(["", "scores.npy"], scores), "member '' has an empty name"),
        "duplicate": (zip_entries(["scores.npy", "scores.npy"], scores), "member 'scores.npy' appears twice"),
        "nul-byte": (zip_renamed({"sco_res.npy": scores}, {b"sco_res": b"sco\x00res"}),
                     "member 'sco\\x00res.npy' has a NUL byte in its name"),
        "file-and-folder": (zip_entries(["scores.npy", "scores.npy/x"], scores),
                            "member 'scores.npy' is both a file and a folder"),
        "empty-component": (zip_entries(["out//scores.npy"], scores), "has an empty path component"),
        "name-too-long": (zip_entries(["x" * 300 + ".npy"], scores), "cannot be unpacked (File name too long)"),
        "truncated": (valid[: len(valid) // 2], "not a readable zip archive"),
        "lying-entry-count": (bytes(lying_count), "bytes, over 1024 bytes for each of at most"),
    }


CASES = sorted(hostile_zips(b"\x93NUMPY").keys())


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_zip_is_a_form_error_with_its_reason(alice_client, toonnet, scores_npy, case) -> None:  # type: ignore[no-untyped-def]
    archive, reason = hostile_zips(scores_npy)[case]
    response = submit_page(alice_client, "predictions", "p.zip", archive)
    assert response.status_code == 400
    assert reason in page_reason(response)
    assert not Submission.objects.exists()


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_zip_is_a_400_from_the_api_with_its_reason(client, api_headers, toonnet, scores_npy, case) -> None:  # type: ignore[no-untyped-def]
    archive, reason = hostile_zips(scores_npy)[case]
    response = client.post("/api/submissions/", {
        "benchmark": "toonnet", "kind": "predictions", "method_name": "hostile",
        "artefact": SimpleUploadedFile("p.zip", archive)}, **api_headers)
    assert response.status_code == 400
    message = response.json()["error"]
    assert reason in message and "\n" not in message and response.json()["field"] == "artefact"
    assert not Submission.objects.exists()


def test_300000_central_directory_entries_are_refused_before_the_directory_is_parsed(
    alice_client, toonnet: Benchmark  # type: ignore[no-untyped-def]
) -> None:
    archive = zip_with_empty_entries(300_000)
    limit = toonnet.current_version().test_items + 16 + 64
    response = submit_page(alice_client, "predictions", "many.zip", archive)
    assert response.status_code == 400
    assert f"many.zip: 300000 entries in the archive, expected at most {limit}" in page_reason(response)
    upload = SimpleUploadedFile("many.zip", archive)
    tracemalloc.start()
    try:
        with pytest.raises(UploadRejected):
            check_predictions_archive(upload, toonnet)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB  # parsing the directory with zipfile took 156 MB


def test_random_corruptions_of_a_valid_zip_are_accepted_or_refused_never_crash(toonnet, scores_npy) -> None:  # type: ignore[no-untyped-def]
    valid = zip_bytes({"scores.npy": scores_npy, "notes/readme.txt": b"seeded scores\n" * 50})
    rng = random.Random(2026)
    outcomes = {"accepted": 0, "refused": 0}
    for _ in range(300):
        corrupt = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            corrupt[rng.randrange(len(corrupt))] = rng.randrange(256)
        try:
            check_predictions_archive(SimpleUploadedFile("p.zip", bytes(corrupt)), toonnet)
        except UploadRejected as exc:
            assert str(exc).startswith("p.zip: ") and "\n" not in str(exc)
            outcomes["refused"] += 1
        else:
            outcomes["accepted"] += 1
    assert outcomes["refused"] > 100 and sum(outcomes.values()) == 300


def test_a_gzip_tarball_bomb_is_refused_at_upload(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    bomb = gzip_tar_bomb(270 * MB)
    assert len(bomb) < 0.3 * MB
    response = submit_page(alice_client, "tarball", "model.tar.gz", bomb)
    assert response.status_code == 400
    assert "model.tar.gz: the archive inflates more than 100-fold; refusing a possible tar bomb" in page_reason(response)
    assert not Submission.objects.exists()


def test_a_compressed_layer_inside_a_plain_tarball_is_bounded_too(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    response = submit_page(alice_client, "tarball", "model.tar", tar_with_gzip_layer(300 * MB))
    assert response.status_code == 400
    assert "member 'blobs/sha256/layer' inflates more than 100-fold" in page_reason(response)


def test_a_tarball_over_the_image_cap_is_refused_with_the_cap(alice_client, toonnet, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TOONBENCH_MAX_IMAGE_MB = 2
    image = tar_of(lambda archive: (tar_member(archive, "manifest.json", data=b"[]"),
                                    tar_member(archive, "layer.tar", data=random.Random(1).randbytes(3 * MB))))
    response = submit_page(alice_client, "tarball", "model.tar", image)
    assert response.status_code == 400
    assert "model.tar: unpacks to more than the limit of 2 MB" in page_reason(response)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"name": "blobs/evil", "type": tarfile.SYMTYPE, "linkname": "../../etc/passwd"},
         "member 'blobs/evil' links outside the archive ('../../etc/passwd')"),
        ({"name": "blobs/abs", "type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}, "links outside the archive"),
        ({"name": "dev/sda", "type": tarfile.BLKTYPE}, "is a device, fifo or other special file"),
        ({"name": "hard", "type": tarfile.LNKTYPE, "linkname": "nowhere"}, "is a hard link to 'nowhere'"),
        ({"name": "."}, "member '.' has a '.' path component"),
        ({"name": "a/./b"}, "has a '.' path component"),
    ],
    ids=["symlink-out", "symlink-absolute", "device", "hardlink", "dot-file", "dot-component"],
)
def test_unsafe_tarball_members_are_refused(alice_client, toonnet, extra, reason) -> None:  # type: ignore[no-untyped-def]
    fields = {key: value for key, value in extra.items() if key != "name"}
    image = tar_of(lambda archive: (tar_member(archive, "manifest.json", data=b"[]"),
                                    tar_member(archive, extra["name"], **fields)))
    response = submit_page(alice_client, "tarball", "model.tar", image)
    assert response.status_code == 400
    assert reason in page_reason(response)


def test_too_many_tarball_members_are_refused(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    def build(archive: tarfile.TarFile) -> None:
        tar_member(archive, "manifest.json", data=b"[]")
        for index in range(10_000):
            tar_member(archive, f"f{index}", data=b"")

    response = submit_page(alice_client, "tarball", "model.tar", tar_of(build))
    assert response.status_code == 400
    assert "model.tar: more than 10000 members in the archive" in page_reason(response)


def test_a_docker_save_layout_with_inner_links_and_gzip_is_accepted(alice_client, toonnet) -> None:  # type: ignore[no-untyped-def]
    def build(archive: tarfile.TarFile) -> None:
        tar_member(archive, "blobs/sha256/", type=tarfile.DIRTYPE)
        tar_member(archive, "blobs/sha256/aa", data=b"layer bytes" * 1000)
        tar_member(archive, "abc/layer.tar", type=tarfile.SYMTYPE, linkname="../blobs/sha256/aa")
        tar_member(archive, "index.json", data=b"{}")
        tar_member(archive, "manifest.json", data=b"[]")

    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as outer:
        plain = tar_of(build)
        with tarfile.open(fileobj=io.BytesIO(plain)) as inner:
            for member in inner:
                outer.addfile(member, inner.extractfile(member) if member.isfile() else None)
    response = submit_page(alice_client, "tarball", "model.tar.gz", packed.getvalue())
    assert response.status_code == 302, page_reason(response)[-500:]
    assert Submission.objects.get().kind == "tarball"
