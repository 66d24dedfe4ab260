"""The proposal checkout's tar extraction: safe without `extractall(filter=...)`.

Crafted archives (absolute paths, `..`, links leaving the tree, device files)
are refused on every Python govbot supports, 3.11.2 included.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from conftest import PEOPLE
from test_config_repo import BODIES, Upstream

from govbot.config.repo import ConfigHolder, ConfigRepo
from govbot.config.safetar import UnsafeArchive, safe_extract


def _archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer


def _file(name: str, data: bytes = b"x: 1\n", mode: int = 0o644) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _special(name: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info, None


def test_plain_tree_is_extracted(tmp_path: Path) -> None:
    folder = tarfile.TarInfo("reference")
    folder.type = tarfile.DIRTYPE
    safe_extract(_archive((folder, None), _file("reference/projects.yaml"),
                          _link("teams.yaml", "reference/projects.yaml")), tmp_path)
    assert (tmp_path / "reference" / "projects.yaml").read_bytes() == b"x: 1\n"
    assert (tmp_path / "teams.yaml").read_bytes() == b"x: 1\n"


def test_set_id_bits_are_dropped(tmp_path: Path) -> None:
    safe_extract(_archive(_file("run.sh", mode=0o4755)), tmp_path)
    assert (tmp_path / "run.sh").stat().st_mode & 0o7000 == 0


@pytest.mark.parametrize("members", [
    [_file("/etc/evil.yaml")],
    [_file("../evil.yaml")],
    [_file("a/../../evil.yaml")],
    [_link("out", "/etc/passwd")],
    [_link("out", "../../outside")],
    [_link("a/out", "../../outside")],
    [_link("hard", "../outside", tarfile.LNKTYPE)],
    [_link("up", ".."), _file("up/evil.yaml")],
    [_special("dev", tarfile.CHRTYPE)],
    [_special("blk", tarfile.BLKTYPE)],
    [_special("fifo", tarfile.FIFOTYPE)],
], ids=["absolute", "dotdot", "nested-dotdot", "symlink-absolute", "symlink-out",
        "nested-symlink-out", "hardlink-out", "through-link", "char-device", "block-device",
        "fifo"])
def test_crafted_archives_are_refused(tmp_path: Path,
                                      members: list[tuple[tarfile.TarInfo, bytes | None]]
                                      ) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafeArchive):
        safe_extract(_archive(*members), dest)
    assert not (tmp_path / "evil.yaml").exists()
    assert not (tmp_path / "outside").exists()


async def test_a_proposal_with_a_link_out_of_the_tree_is_an_error(tmp_path: Path) -> None:
    """Through git: a proposed change whose tree links outside is refused, not followed."""
    upstream = Upstream(tmp_path / "upstream")
    good = upstream.commit("good", **{"people.yaml": PEOPLE, "bodies.yaml": BODIES})
    holder = ConfigHolder(ConfigRepo(str(upstream.path), "master", "",
                                     tmp_path / "work" / "checkout"), [])
    await holder.reload()
    (upstream.path / "projects.yaml").symlink_to("/etc/passwd")
    upstream.git("add", "-A")
    upstream.git("commit", "-q", "-m", "proposal")
    upstream.git("update-ref", "refs/changes/01/1/1", "HEAD")
    upstream.git("reset", "-q", "--hard", good)
    result = await holder.check_ref("refs/changes/01/1/1")
    assert [str(e) for e in result.errors] == [
        "refs/changes/01/1/1:0: the proposed tree cannot be checked out safely: "
        "'projects.yaml': link to an absolute path '/etc/passwd'"]
    assert holder.revision == good
