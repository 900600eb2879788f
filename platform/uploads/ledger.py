"""The disk budget of uploads: bytes reserved per user, in total, and against the disk's free space.

A resumable upload declares its size when it is opened; that many bytes stay
reserved for it until it completes, is deleted or is swept as abandoned. Its
row is the reservation: the ledger is the sum of the ``ChunkedUpload`` rows'
``total_bytes``, so deleting the row releases the bytes and nothing can
drift. Opening an upload reads the ledger and records the new row in one
transaction, after locking the one ``UploadLedger`` row (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the write lock every transaction takes at
``BEGIN IMMEDIATE``), so two uploads opened at once are never both granted
the same bytes.

Three budgets must each have room: ``TOONBENCH_UPLOAD_USER_BUDGET_MB`` for
one user's open uploads, ``TOONBENCH_UPLOAD_TOTAL_BUDGET_MB`` for everyone's,
and the disk that holds them: its free space, less
``TOONBENCH_UPLOAD_DISK_RESERVE_MB`` kept free for the database and results,
less what open uploads are still owed (declared bytes not received yet;
received ones already take their space). A one-shot upload lasts one request
and is not reserved, but the disk it is stored on is checked the same way
before its body is read.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from evaluator.archives import MEGABYTE
from uploads.models import ChunkedUpload, UploadLedger

INSUFFICIENT_STORAGE = 507


class StorageRefused(Exception):
    """The bytes cannot be reserved; the message names the budget, what it holds and what to do."""


@dataclass(frozen=True)
class Reserved:
    """Bytes held by open uploads: one user's (``mine``), everyone's, and those not received yet (``owed``)."""

    mine: int
    everyone: int
    owed: int


def size_text(size: int) -> str:
    """``size`` in MB, or in KB below a tenth of a MB (a one-shot form post is often a few KB)."""
    return f"{size / MEGABYTE:.1f} MB" if size >= MEGABYTE / 10 or size <= 0 else f"{size / 1024:.1f} KB"


def setting_bytes(name: str) -> int:
    return int(getattr(settings, name) * MEGABYTE)


def existing_folder(path: Path) -> Path:
    """``path`` or its nearest existing parent: the disk it is, or will be, on."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def same_disk(first: Path, second: Path) -> bool:
    return existing_folder(first).stat().st_dev == existing_folder(second).stat().st_dev


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding ``folder``: the one place the disk is measured."""
    return shutil.disk_usage(existing_folder(folder)).free


@contextmanager
def ledger_lock() -> Iterator[None]:
    """A transaction in which no other upload is reserved: read the ledger, check, record the new row."""
    with transaction.atomic():
        UploadLedger.objects.select_for_update().get_or_create(pk=1)
        yield


def owed_sum() -> Coalesce:
    return Coalesce(Sum(F("total_bytes") - F("received_bytes")), 0)


def reserved(owner: AbstractBaseUser) -> Reserved:
    totals = ChunkedUpload.objects.aggregate(
        mine=Coalesce(Sum("total_bytes", filter=Q(owner=owner)), 0),
        everyone=Coalesce(Sum("total_bytes"), 0),
        owed=owed_sum(),
    )
    return Reserved(**totals)


def check_budgets(size: int, held: Reserved) -> None:
    user_budget = setting_bytes("TOONBENCH_UPLOAD_USER_BUDGET_MB")
    if held.mine + size > user_budget:
        raise StorageRefused(
            f"{size_text(size)} more would bring your open uploads to {size_text(held.mine + size)}, over the "
            f"per-user upload budget of {size_text(user_budget)}; complete or delete one of your open uploads first"
        )
    total_budget = setting_bytes("TOONBENCH_UPLOAD_TOTAL_BUDGET_MB")
    if held.everyone + size > total_budget:
        raise StorageRefused(
            f"open uploads already hold {size_text(held.everyone)} of the server's {size_text(total_budget)} "
            f"upload budget, so {size_text(size)} more do not fit; try again later"
        )


def check_disk(size: int, folder: Path, owed: int) -> None:
    """Raise ``StorageRefused`` unless ``size`` bytes fit on ``folder``'s disk beside the reserve and ``owed``."""
    free = free_bytes(folder)
    keep = setting_bytes("TOONBENCH_UPLOAD_DISK_RESERVE_MB")
    room = free - keep - owed
    if size > room:
        raise StorageRefused(
            f"the server's disk has room for {size_text(max(room, 0))} of uploads now ({size_text(free)} free, less "
            f"{size_text(keep)} kept for the database and results and {size_text(owed)} promised to open uploads), "
            f"not {size_text(size)}; try again later"
        )


def check_room(owner: AbstractBaseUser, size: int) -> None:
    """Raise ``StorageRefused`` unless an upload of ``size`` bytes fits every budget; call under ``ledger_lock``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("check_room must run under ledger_lock, in the transaction that records the upload")
    held = reserved(owner)
    check_budgets(size, held)
    check_disk(size, Path(settings.TOONBENCH_UPLOAD_DIR), held.owed)


def check_one_shot(size: int) -> None:
    """A one-shot upload of ``size`` bytes is stored under the media root: refused when that disk has no room."""
    media = Path(settings.MEDIA_ROOT)
    owed = ChunkedUpload.objects.aggregate(owed=owed_sum())["owed"]
    check_disk(size, media, owed if same_disk(media, Path(settings.TOONBENCH_UPLOAD_DIR)) else 0)
