"""Extract a proposed config's tar archive safely, on every supported Python.

A proposed change to the config repo is untrusted: its tree could hold absolute
paths, `..` components, links pointing out of the checkout, or device files.
`tarfile.extractall(filter="data")` refuses those, but only from Python 3.11.4;
Debian 12 ships 3.11.2. So every member is checked here first, and only regular
files and directories are written (a config repo needs nothing else): symlinks
and hard links are extracted only when they stay inside the tree, and devices,
FIFOs and anything else are refused.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO


class UnsafeArchive(ValueError):
    """A member would leave the destination or is not a plain file, dir or link."""


def _inside(dest: Path, target: Path) -> bool:
    resolved = os.path.realpath(target)
    root = os.path.realpath(dest)
    return resolved == root or resolved.startswith(root + os.sep)


def _check(member: tarfile.TarInfo, dest: Path) -> None:
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or ".." in path.parts:
        raise UnsafeArchive(f"{name!r}: path leaves the tree")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchive(f"{name!r}: not a regular file, directory or link")
    if member.issym() or member.islnk():
        link = PurePosixPath(member.linkname)
        if link.is_absolute():
            raise UnsafeArchive(f"{name!r}: link to an absolute path {member.linkname!r}")
        # A symlink is relative to its own directory, a hard link to the archive root.
        base = dest / path.parent if member.issym() else dest
        if not _inside(dest, base / link):
            raise UnsafeArchive(f"{name!r}: link {member.linkname!r} leaves the tree")
    if not _inside(dest, dest / path):
        raise UnsafeArchive(f"{name!r}: path leaves the tree through a link")


def safe_extract(fileobj: IO[bytes], dest: Path) -> None:
    """Extract the tar archive `fileobj` into `dest`, refusing anything unsafe.

    Members are checked one by one as they are extracted, so a link created by an
    earlier member is already on disk when a later member's path is resolved
    through it.
    """
    dest = Path(dest)
    with tarfile.open(fileobj=fileobj) as tar:
        for member in tar:
            _check(member, dest)
            # Never restore owners, set-id bits or device numbers from the archive.
            member.mode = (member.mode or 0) & (stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO)
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            if hasattr(tarfile, "data_filter"):  # 3.11.4+: its checks as well as ours
                tar.extract(member, dest, set_attrs=False, filter="data")
            else:
                tar.extract(member, dest, set_attrs=False)
