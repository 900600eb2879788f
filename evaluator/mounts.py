"""Mounting a tmpfs and detaching it with the mount(2) and umount2(2) system calls.

Not the ``mount`` / ``umount`` programs: Debian's (util-linux, setuid root)
refuse any caller whose real user is not root ("must be superuser to use
mount") even when it holds CAP_SYS_ADMIN, while the system calls ask for
the capability only. So a worker running as an ordinary user with
CAP_SYS_ADMIN (platform/DEPLOY.md) mounts the capped ``/output`` itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from functools import lru_cache
from pathlib import Path

MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MNT_DETACH = 0x2


class MountError(OSError):
    """A mount(2) call failed; ``errno`` says why."""


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


def mount_tmpfs(target: Path, options: str, flags: int = MS_NOSUID | MS_NODEV | MS_NOEXEC) -> None:
    """Mount a new tmpfs on ``target`` with ``options`` (``size=...,nr_inodes=...,mode=...``).

    Raises ``MountError`` with the call's errno (EPERM: neither root nor CAP_SYS_ADMIN).
    """
    result = _libc().mount(b"tmpfs", os.fsencode(target), b"tmpfs", flags, options.encode())
    if result != 0:
        code = ctypes.get_errno()
        raise MountError(code, f"mount(2) of a tmpfs on {target}: {os.strerror(code)}")


def detach(target: Path) -> int:
    """Detach the file system on ``target`` lazily (a reader holding it open cannot block the caller).

    Returns 0, or the errno of the failed call (EINVAL: nothing is mounted there).
    """
    if _libc().umount2(os.fsencode(target), MNT_DETACH) == 0:
        return 0
    return ctypes.get_errno() or errno.EIO
