"""Uploads reserve their bytes: per user, in total and against the free space of a small disk, through the real API.

The disk is simulated at the one place the site measures it (``shutil.disk_usage``):
a 12 MB disk holding the test's upload and media folders, whose free space is
what the files in them leave, 2 MB of it kept free for the database and
results. Before, an upload was only checked against the free space when it was
opened, never reserved, so two accounts (or one with parallel requests) could
open uploads adding up to several times the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections import namedtuple
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from datasets.build import BuiltBenchmark
from live_site import served, site_environment, user_token
from site_helpers import npy_bytes, zip_bytes
from maintenance import tasks
from submissions.models import Submission
from uploads.models import ChunkedUpload
from test_quota_race import postgres_url  # noqa: F401  (the throwaway PostgreSQL cluster)
from toonnet_outputs import seeded_scores

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
CHUNK_TYPE = "application/offset+octet-stream"
DiskUsage = namedtuple("DiskUsage", "total used free")


class SmallDisk:
    """``shutil.disk_usage`` of a disk of ``size`` bytes that holds ``folders``; ``pause`` s per call widens races."""

    def __init__(self, size: int, folders: list[Path], pause: float = 0.0) -> None:
        self.size, self.folders, self.pause = size, folders, pause

    def __call__(self, path: object) -> DiskUsage:
        time.sleep(self.pause)
        used = sum(file.stat().st_size for folder in self.folders if folder.exists()
                   for file in folder.rglob("*") if file.is_file())
        return DiskUsage(self.size, used, self.size - used)


@pytest.fixture
def upload_dir(site, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    site.TOONBENCH_UPLOAD_DIR = tmp_path / "uploads"
    return site.TOONBENCH_UPLOAD_DIR


@pytest.fixture
def small_disk(site, upload_dir: Path, monkeypatch: pytest.MonkeyPatch) -> SmallDisk:  # type: ignore[no-untyped-def]
    """12 MB, 2 MB of it kept free: room for 10 MB of uploads."""
    site.TOONBENCH_UPLOAD_DISK_RESERVE_MB = 2
    disk = SmallDisk(12 * MB, [upload_dir, Path(site.MEDIA_ROOT)])
    monkeypatch.setattr(shutil, "disk_usage", disk)
    return disk


def auth(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def open_upload(client: Client, user: User, total_bytes: int, **fields: object):  # type: ignore[no-untyped-def]
    body = {"benchmark": "toonnet", "kind": "tarball", "filename": "model.tar", "total_bytes": total_bytes, **fields}
    return client.post("/api/uploads/", json.dumps(body), content_type="application/json", **auth(user))


def send(client: Client, user: User, upload_id: str, offset: int, chunk: bytes):  # type: ignore[no-untyped-def]
    return client.patch(f"/api/uploads/{upload_id}/", chunk, content_type=CHUNK_TYPE, HTTP_UPLOAD_OFFSET=str(offset),
                        **auth(user))


def part_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.part"))


def disk_refusal(room_mb: float, free_mb: float, owed_mb: float, size_mb: float) -> str:
    return (f"model.tar: the server's disk has room for {room_mb:.1f} MB of uploads now ({free_mb:.1f} MB free, "
            f"less 2.0 MB kept for the database and results and {owed_mb:.1f} MB promised to open uploads), "
            f"not {size_mb:.1f} MB; try again later")


def test_two_users_cannot_open_more_than_the_disk_has_room_for(
    client, toonnet, alice, bob, upload_dir, small_disk  # type: ignore[no-untyped-def]
) -> None:
    first = open_upload(client, alice, 6 * MB)
    assert first.status_code == 201, first.content
    refused = open_upload(client, bob, 6 * MB)
    assert refused.status_code == 507
    assert refused.json() == {"error": disk_refusal(4, 12, 6, 6), "field": None}
    assert list(ChunkedUpload.objects.values_list("owner__username", flat=True)) == ["alice"]
    assert part_files(upload_dir) == [f"{first.json()['id'].replace('-', '')}.part"]

    # Received bytes take disk space and are no longer owed: the room stays the same.
    assert send(client, alice, first.json()["id"], 0, os.urandom(3 * MB)).status_code == 204
    assert open_upload(client, bob, 6 * MB).json() == {"error": disk_refusal(4, 9, 3, 6), "field": None}
    assert open_upload(client, bob, 4 * MB).status_code == 201
    assert open_upload(client, bob, 1).status_code == 507


def test_one_user_cannot_reserve_past_the_per_user_budget_and_deleting_releases(
    client, toonnet, alice, bob, upload_dir, site  # type: ignore[no-untyped-def]
) -> None:
    site.TOONBENCH_UPLOAD_USER_BUDGET_MB = 5
    first = open_upload(client, alice, 3 * MB)
    assert first.status_code == 201
    refused = open_upload(client, alice, 3 * MB)
    assert refused.status_code == 507
    assert refused.json()["error"] == (
        "model.tar: 3.0 MB more would bring your open uploads to 6.0 MB, over the per-user upload budget of 5.0 MB; "
        "complete or delete one of your open uploads first")
    assert ChunkedUpload.objects.count() == 1
    assert open_upload(client, bob, 3 * MB).status_code == 201
    assert client.delete(f"/api/uploads/{first.json()['id']}/", **auth(alice)).status_code == 204
    assert open_upload(client, alice, 3 * MB).status_code == 201


def test_all_open_uploads_together_stay_within_the_total_budget(
    client, toonnet, alice, bob, upload_dir, site  # type: ignore[no-untyped-def]
) -> None:
    site.TOONBENCH_UPLOAD_TOTAL_BUDGET_MB = 5
    assert open_upload(client, alice, 3 * MB).status_code == 201
    refused = open_upload(client, bob, 3 * MB)
    assert refused.status_code == 507
    assert refused.json()["error"] == (
        "model.tar: open uploads already hold 3.0 MB of the server's 5.0 MB upload budget, so 3.0 MB more do not fit; "
        "try again later")
    assert list(ChunkedUpload.objects.values_list("owner__username", flat=True)) == ["alice"]


def test_completing_an_upload_releases_its_reservation(
    client, toonnet, alice, upload_dir, site, toonnet_built: BuiltBenchmark  # type: ignore[no-untyped-def]
) -> None:
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    site.TOONBENCH_UPLOAD_USER_BUDGET_MB = 1.5 * len(archive) / MB
    created = open_upload(client, alice, len(archive), kind="predictions", filename="out.zip",
                          sha256=hashlib.sha256(archive).hexdigest())
    assert created.status_code == 201
    assert open_upload(client, alice, len(archive)).status_code == 507
    upload_id = created.json()["id"]
    assert send(client, alice, upload_id, 0, archive).status_code == 204
    done = client.post(f"/api/uploads/{upload_id}/complete/", json.dumps({"method_name": "reserved"}),
                       content_type="application/json", **auth(alice))
    assert done.status_code == 201, done.content
    assert open_upload(client, alice, len(archive)).status_code == 201


def test_the_sweep_of_abandoned_uploads_releases_their_reservation(
    client, toonnet, alice, upload_dir, site  # type: ignore[no-untyped-def]
) -> None:
    site.TOONBENCH_UPLOAD_USER_BUDGET_MB = 5
    abandoned = open_upload(client, alice, 3 * MB).json()["id"]
    assert open_upload(client, alice, 3 * MB).status_code == 507
    long_ago = timezone.now() - timedelta(seconds=site.TOONBENCH_UPLOAD_EXPIRY_S + 60)
    ChunkedUpload.objects.filter(pk=abandoned).update(updated=long_ago)
    assert tasks.sweep_stale_jobs()["removed_uploads"] == [abandoned]
    assert open_upload(client, alice, 3 * MB).status_code == 201


def test_a_one_shot_upload_is_refused_when_open_uploads_hold_the_disk(
    client, toonnet, alice, bob, upload_dir, small_disk, toonnet_built: BuiltBenchmark  # type: ignore[no-untyped-def]
) -> None:
    archive = zip_bytes({"scores.npy": npy_bytes(seeded_scores(toonnet_built))})
    held = open_upload(client, alice, 10 * MB)
    assert held.status_code == 201

    def post_predictions(path: str):  # type: ignore[no-untyped-def]
        return client.post(path, {"benchmark": "toonnet", "kind": "predictions", "method_name": "one shot",
                                  "artefact": SimpleUploadedFile("p.zip", archive, content_type="application/zip")},
                           **auth(bob))

    refused = post_predictions("/api/submissions/")
    assert refused.status_code == 507
    reason = refused.json()["error"]
    assert reason.startswith("the server's disk has room for 0.0 MB of uploads now (12.0 MB free, less 2.0 MB kept "
                             "for the database and results and 10.0 MB promised to open uploads), not ")
    assert reason.endswith(" KB; try again later")
    client.force_login(bob)
    page = post_predictions("/submit/")
    assert page.status_code == 507 and "promised to open uploads" in page.content.decode()
    assert not Submission.objects.exists()

    assert client.delete(f"/api/uploads/{held.json()['id']}/", **auth(alice)).status_code == 204
    assert post_predictions("/api/submissions/").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_uploads_opened_at_once_never_reserve_more_than_the_disk_has(
    toonnet, upload_dir, small_disk, django_user_model  # type: ignore[no-untyped-def]
) -> None:
    """Eight users open 3 MB each at the same moment on 10 MB of room: three get in. The simulated disk
    pauses when measured, between reading the reservations and recording one, where a race would show."""
    small_disk.pause = 0.05
    users = [django_user_model.objects.create_user(f"racer{index}", password="correct horse battery")
             for index in range(8)]
    headers = [auth(user) for user in users]
    start = threading.Barrier(len(users))
    statuses: list[int] = []

    def open_at_once(index: int) -> None:
        start.wait()
        body = {"benchmark": "toonnet", "kind": "tarball", "filename": "model.tar", "total_bytes": 3 * MB}
        response = Client().post("/api/uploads/", json.dumps(body), content_type="application/json", **headers[index])
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=open_at_once, args=(index,)) for index in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 3 + [507] * 5
    assert ChunkedUpload.objects.count() == 3
    assert len(part_files(upload_dir)) == 3


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_parallel_opens_on_the_served_site_reserve_at_most_the_budget(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, data_root: Path
) -> None:
    """gunicorn with three worker processes; twelve opens of 3 MB by one user with a 10 MB budget: three get in."""
    env = site_environment(tmp_path, data_root, request.getfixturevalue("postgres_url") if database == "postgresql"
                           else "")
    env.update(TOONBENCH_WEB_WORKERS="3", TOONBENCH_UPLOAD_USER_BUDGET_MB="10", TOONBENCH_UPLOAD_MAX_OPEN="12")
    token = user_token(env)
    start = threading.Barrier(12)
    statuses: list[int] = []

    def open_at_once(base: str) -> None:
        start.wait()
        statuses.append(requests.post(f"{base}/api/uploads/", headers={"Authorization": f"Token {token}"}, timeout=120,
                                      json={"benchmark": "toonnet", "kind": "tarball", "filename": "model.tar",
                                            "total_bytes": 3 * MB}).status_code)

    with served(env, tmp_path / "site.log") as base:
        threads = [threading.Thread(target=open_at_once, args=(base,)) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [201] * 3 + [507] * 9
    assert len(list((tmp_path / "var" / "uploads").glob("*.part"))) == 3
