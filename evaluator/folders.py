"""Scratch folders of evaluation jobs: created, removed whatever a submission left in them, swept.

A container may leave anything in its output: folders nested a thousand
deep, folders of mode 000, names that are links. ``remove_tree`` removes
all of it iteratively (no recursion, one open folder at a time, so neither
the stack nor the file-descriptor table limits the depth), making each
folder writable before it empties it and never following a link.
File systems still mounted below the folder (a worker that died while a
capped ``/output`` was mounted) are unmounted first.

``sweep_scratch_folders`` removes the scratch folders (``toonbench-job-*``)
of jobs that are no longer running; the caller passes the ids of the
jobs that are.
"""

from __future__ import annotations

import errno
import os
import re
import time
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from evaluator.mounts import detach

SCRATCH_PREFIX = "toonbench-job-"
OWNER_ALL = stat.S_IRWXU
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# tempfile.mkdtemp appends 8 characters of [a-z0-9_] to the prefix.
_SCRATCH_NAME = re.compile(rf"^{SCRATCH_PREFIX}(?P<job>.+)-[a-z0-9_]{{8}}$")


def scratch_name_prefix(job_id: str) -> str:
    return f"{SCRATCH_PREFIX}{job_id}-"


@contextmanager
def scratch_folder(job_id: str, work_root: Path | None) -> Iterator[Path]:
    """A fresh folder for one job, removed afterwards whatever it holds."""
    folder = Path(tempfile.mkdtemp(prefix=scratch_name_prefix(job_id), dir=work_root))
    try:
        yield folder
    finally:
        remove_tree(folder)


def remove_tree(root: Path) -> None:
    """Delete ``root`` and everything below it; links are removed, never followed."""
    root = Path(root)
    unmount_below(root)
    try:
        fd = _open_root(root)
    except FileNotFoundError:
        return
    if fd is None:  # a link or a plain file
        os.unlink(root)
        return
    names: list[str] = []
    pending: list[list[str]] = []
    try:
        pending.append(_clear_files(fd))
        while True:
            if pending[-1]:
                name = pending[-1].pop()
                child = _open_child(fd, name)
                if child is None:
                    continue
                os.close(fd)
                fd = child
                names.append(name)
                pending.append(_clear_files(fd))
            elif names:
                parent = os.open("..", DIRECTORY_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = parent
                pending.pop()
                os.rmdir(names.pop(), dir_fd=fd)
            else:
                break
    finally:
        os.close(fd)
    try:
        os.rmdir(root)
    except FileNotFoundError:  # removed meanwhile by someone else
        pass


def _open_root(root: Path) -> int | None:
    try:
        return os.open(root, DIRECTORY_FLAGS)
    except PermissionError:
        os.chmod(root, OWNER_ALL)
        return os.open(root, DIRECTORY_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return None
        raise


def _clear_files(fd: int) -> list[str]:
    """Unlink every non-folder in the open folder; returns the names of its subfolders."""
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                _unlink_quietly(entry.name, fd)
    return folders


def _open_child(fd: int, name: str) -> int | None:
    """Open a subfolder for emptying, making it readable first if the container locked it."""
    try:
        return os.open(name, DIRECTORY_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        return None
    except PermissionError:
        os.chmod(name, OWNER_ALL, dir_fd=fd)
        return os.open(name, DIRECTORY_FLAGS, dir_fd=fd)


def _unlink_quietly(name: str, fd: int) -> None:
    try:
        os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass


def mounts_below(root: Path) -> list[Path]:
    """Mount points at or below ``root`` (deepest first), from /proc/self/mountinfo."""
    prefix = os.path.realpath(root)
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix.rstrip("/") + "/"):
            points.append(Path(point))
    return sorted(points, key=lambda path: len(path.parts), reverse=True)


def unmount(point: Path) -> None:
    """Detach a file system (lazily, so a reader that still holds it open cannot block the worker).

    With the system call (``evaluator.mounts``), so a worker with CAP_SYS_ADMIN need not be root; a
    point that is no longer mounted is no error.
    """
    detach(point)


def unmount_below(root: Path) -> None:
    for point in mounts_below(root):
        unmount(point)


def scratch_job_id(name: str) -> str | None:
    """The job id in a scratch folder's name (``toonbench-job-<id>-<random>``), or None."""
    match = _SCRATCH_NAME.match(name)
    return match.group("job") if match else None


def sweep_scratch_folders(work_root: Path, running_job_ids: Iterable[str], min_age_s: float = 0.0) -> list[str]:
    """Remove scratch folders of jobs not in ``running_job_ids``; returns the removed folders' names.

    Folders younger than ``min_age_s`` are kept: a job claimed after the
    caller listed the running ones may have just created its folder.
    """
    work_root = Path(work_root)
    running = {str(job_id) for job_id in running_job_ids}
    if not work_root.is_dir():
        return []
    cutoff = time.time() - min_age_s
    removed = []
    for entry in os.scandir(work_root):
        job_id = scratch_job_id(entry.name)
        if job_id is None or job_id in running or not entry.is_dir(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_mtime > cutoff:
            continue
        remove_tree(Path(entry.path))
        removed.append(entry.name)
    return sorted(removed)
