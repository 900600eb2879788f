"""Unpacking a host's data archive (zip, or tar plain or compressed) with the checks of every uploaded archive.

A zip goes through ``evaluator.archives.extract_predictions`` (entry count
read before parsing, total size counted on the bytes written, ratio, unsafe
names, links, encryption). A tar is first streamed through
``evaluator.tarballs.check_image_tarball`` (decompressed bytes, members,
ratio, unsafe names, devices), then refused if it holds any link, then
unpacked with the standard library's ``data`` filter. Problems raise
``ArchiveError`` in one sentence; nothing is left in ``target`` on refusal.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

from evaluator.archives import UNPACK_ERRORS, ArchiveError, ArchiveLimits, extract_predictions, one_line
from evaluator.tarballs import TarLimits, check_image_tarball


def unpack_data_archive(archive: Path, target: Path, limits: ArchiveLimits, name: str = "data") -> None:
    """Unpack ``archive`` (zip or tar) into ``target``, refusing a hostile one; ``name`` names it in messages."""
    try:
        if zipfile.is_zipfile(archive):
            extract_predictions(archive, target, limits)
        else:
            _unpack_tar(archive, target, limits, name)
    except ArchiveError:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _unpack_tar(archive: Path, target: Path, limits: ArchiveLimits, name: str) -> None:
    check_image_tarball(archive, TarLimits(max_bytes=limits.max_bytes, max_members=limits.max_files), name)
    try:
        with tarfile.open(archive) as bundle:
            members = bundle.getmembers()
            for member in members:
                if member.issym() or member.islnk():
                    raise ArchiveError(f"{name}: member {member.name!r} is a link; only plain files are allowed")
            bundle.extractall(target, members=[m for m in members if m.isfile() or m.isdir()], filter="data")
    except ArchiveError:
        raise
    except (*UNPACK_ERRORS, tarfile.FilterError) as exc:
        raise ArchiveError(f"{name}: not a readable zip or tar archive ({one_line(exc)})") from None
