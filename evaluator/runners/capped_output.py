"""``/output`` as a file system of the cap's size, so the kernel enforces the output cap.

The worker mounts a tmpfs of ``limits.output_mb`` (and at most
``MAX_OUTPUT_ENTRIES`` files and folders) on a private folder before the
container starts and bind-mounts that as ``/output``. Whatever the
container does (a file deleted while still open, a sparse file filled in, a
writer faster than any poll), writing stops with ENOSPC at the cap and the
host's disk never sees a byte. After the container is gone, the output is
checked and its plain files copied to the job's output folder; the tmpfs
is then unmounted, which frees whatever the container wrote whatever its
modes.

The file system counts whole pages, so each non-empty file takes at least
4 KiB of the cap. Its pages are charged to the container's memory limit.
Mounting needs root or CAP_SYS_ADMIN, nothing more: it is the mount(2)
system call (``evaluator.mounts``), not the setuid ``mount`` program that
refuses every non-root caller. A worker without either fails the job with a
reason that says so (platform/DEPLOY.md) instead of running uncapped.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evaluator import mounts
from evaluator.folders import remove_tree, unmount
from evaluator.runners.base import MAX_OUTPUT_ENTRIES, RunLimits, RunnerError

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".output-"
MOUNT_NEEDS = (
    "the worker cannot mount the size-capped /output file system (mounting a tmpfs needs root or "
    "CAP_SYS_ADMIN); run the worker as root or grant it CAP_SYS_ADMIN (see platform/DEPLOY.md)"
)


@dataclass(frozen=True)
class OutputUsage:
    """Bytes and entries in use on a capped output file system, and whether either is exhausted."""

    used_bytes: int
    full: bool


def mount_options(limits: RunLimits) -> str:
    """The tmpfs options of a capped ``/output`` (mounted nosuid, nodev, noexec)."""
    # One inode more than the entry cap: the file system's root folder takes one.
    return f"size={limits.output_bytes},nr_inodes={MAX_OUTPUT_ENTRIES + 1},mode=0777"


@contextmanager
def capped_output(parent: Path, limits: RunLimits) -> Iterator[Path]:
    """A fresh tmpfs of the output cap under ``parent``; unmounted and removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=parent))
    try:
        mount_tmpfs(folder, limits)
        yield folder
    finally:
        if os.path.ismount(folder):
            unmount(folder)
        remove_tree(folder)


def mount_tmpfs(folder: Path, limits: RunLimits) -> None:
    """Mount the capped tmpfs on ``folder``; a RunnerError with one line on failure."""
    try:
        mounts.mount_tmpfs(folder, mount_options(limits))
    except mounts.MountError as exc:
        logger.error("mounting the output file system failed: %s", exc.strerror)
        raise RunnerError(mount_refusal(exc.errno)) from None


def mount_refusal(code: int) -> str:
    """What the worker's operator should do when mount(2) failed with ``code``."""
    if code == errno.EPERM:
        return MOUNT_NEEDS
    return (
        f"the worker cannot mount the size-capped /output file system ({errno.errorcode.get(code, code)}: "
        f"{os.strerror(code)}); see platform/DEPLOY.md"
    )


def output_usage(folder: Path) -> OutputUsage:
    """What the container has used of its capped ``/output`` (deleted-but-open files included)."""
    info = os.statvfs(folder)
    used = (info.f_blocks - info.f_bfree) * info.f_frsize
    return OutputUsage(used, info.f_bavail == 0 or info.f_favail == 0)


def copy_plain_tree(source: Path, target: Path) -> None:
    """Copy the folders and regular files of a checked output (data only, fresh modes); iterative."""
    pending = [Path()]
    while pending:
        relative = pending.pop()
        (target / relative).mkdir(exist_ok=True)
        with os.scandir(source / relative) as scan:
            entries = list(scan)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append(relative / entry.name)
            elif entry.is_file(follow_symlinks=False):
                shutil.copyfile(entry.path, target / relative / entry.name, follow_symlinks=False)
