"""ConfigRepo and ConfigHolder against real git repositories made in tmp_path."""

from __future__ import annotations

import logging
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import PEOPLE

import govbot.config.repo as repo_module
from govbot.config.model import EMPTY_CONFIG, GovernanceConfig
from govbot.config.repo import ConfigHolder, ConfigRepo
from govbot.config.sections import ConfigSection

BODIES = "tc:\n  members: [alice, bob]\n"


class Upstream:
    """A repository standing in for the config repo on the Gerrit server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.git("init", "-q", "-b", "master")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
             "-c", "commit.gpgsign=false", *args],
            cwd=self.path, check=True, capture_output=True, text=True).stdout.strip()

    def commit(self, message: str, **files: str) -> str:
        for name, text in files.items():
            target = self.path / name.replace("__", "/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "upstream")


@pytest.fixture
def holder(tmp_path: Path, upstream: Upstream) -> ConfigHolder:
    repo = ConfigRepo(str(upstream.path), "master", "", tmp_path / "work" / "checkout")
    return ConfigHolder(repo, [])


async def test_good_then_broken_then_fixed(upstream: Upstream, holder: ConfigHolder,
                                           caplog: pytest.LogCaptureFixture) -> None:
    swaps: list[tuple[GovernanceConfig, GovernanceConfig]] = []

    async def on_swap(old: GovernanceConfig, new: GovernanceConfig) -> None:
        swaps.append((old, new))

    holder.add_listener(on_swap)
    good = upstream.commit("good", **{"people.yaml": PEOPLE, "bodies.yaml": BODIES})
    result = await holder.reload()
    assert result.ok and holder.revision == good and holder.last_error_count == 0
    assert holder.config.bodies["tc"].members == ("alice", "bob")
    assert holder.config.revision == good
    assert len(swaps) == 1 and swaps[0][0] is EMPTY_CONFIG and swaps[0][1] is holder.config
    first = holder.config

    caplog.clear()
    upstream.commit("broken", **{"bodies.yaml": "tc:\n  members: [alice, zed]\n  label: 3\n"})
    with caplog.at_level(logging.ERROR, logger="govbot.config.repo"):
        result = await holder.reload()
    assert result.config is None
    assert [str(e) for e in result.errors] == [
        "bodies.yaml:2: unknown person 'zed' in body 'tc'; add them to people.yaml or fix "
        "the id",
        "bodies.yaml:3: 'label' must be a Gerrit label name like 'Code-Review', got an integer",
    ]
    assert holder.config is first and holder.revision == good
    assert holder.last_error_count == 2 and len(swaps) == 1
    logged = [r.getMessage() for r in caplog.records]
    assert sum("bodies.yaml:2: unknown person 'zed'" in line for line in logged) == 1
    assert sum("bodies.yaml:3: 'label'" in line for line in logged) == 1

    # Polling the same broken commit returns the same result without logging it again.
    caplog.clear()
    assert await holder.reload() is result
    assert caplog.records == []

    fixed = upstream.commit("fixed", **{"bodies.yaml": "tc:\n  members: [alice, carol]\n"})
    result = await holder.reload()
    assert result.ok and holder.revision == fixed and holder.last_error_count == 0
    assert holder.config.bodies["tc"].members == ("alice", "carol")
    assert len(swaps) == 2 and swaps[1] == (first, holder.config)


async def test_refresh_follows_force_pushes_and_removes_stray_files(
        upstream: Upstream, holder: ConfigHolder) -> None:
    upstream.commit("one", **{"people.yaml": PEOPLE})
    await holder.reload()
    stray = holder.repo.root / "stray.yaml"
    stray.write_text("a: 1\n")
    upstream.git("commit", "-q", "--amend", "-m", "rewritten")
    rewritten = upstream.git("rev-parse", "HEAD")
    assert await holder.repo.refresh() == rewritten
    assert not stray.exists()


async def test_subdir(tmp_path: Path, upstream: Upstream) -> None:
    sha = upstream.commit("sub", **{"governance__people.yaml": PEOPLE, "README": "x"})
    repo = ConfigRepo(str(upstream.path), "master", "governance", tmp_path / "co")
    holder = ConfigHolder(repo, [])
    result = await holder.reload()
    assert result.ok and set(holder.config.people) == {"alice", "bob", "carol"}
    assert holder.revision == sha


async def test_check_ref_validates_a_proposal_without_applying_it(
        upstream: Upstream, holder: ConfigHolder) -> None:
    good = upstream.commit("good", **{"people.yaml": PEOPLE, "bodies.yaml": BODIES})
    await holder.reload()
    # A proposed change lives under refs/changes/, not on the branch.
    upstream.commit("proposal", **{"bodies.yaml": "tc:\n  members: [alice, mallory]\n"})
    upstream.git("update-ref", "refs/changes/01/1/1", "HEAD")
    upstream.git("reset", "-q", "--hard", good)
    result = await holder.check_ref("refs/changes/01/1/1")
    assert [str(e) for e in result.errors] == [
        "bodies.yaml:2: unknown person 'mallory' in body 'tc'; add them to people.yaml or "
        "fix the id"]
    assert holder.revision == good and holder.config.bodies["tc"].members == ("alice", "bob")


async def test_checkout_tree(tmp_path: Path, upstream: Upstream, holder: ConfigHolder) -> None:
    first = upstream.commit("one", **{"people.yaml": PEOPLE, "rules__a.yaml": "a: 1\n"})
    upstream.commit("two", **{"rules__a.yaml": "a: 2\n"})
    await holder.repo.refresh()
    dest = await holder.repo.checkout_tree(first, tmp_path / "tree")
    assert (dest / "rules" / "a.yaml").read_text() == "a: 1\n"
    assert not (dest / ".git").exists()


async def test_unreachable_repo_is_an_error_not_a_crash(tmp_path: Path) -> None:
    holder = ConfigHolder(ConfigRepo(str(tmp_path / "nowhere"), "master", "", tmp_path / "w"),
                          [])
    result = await holder.reload()
    assert result.config is None and holder.last_error_count == 1
    assert result.errors[0].message.startswith("cannot update the config repo:")
    assert holder.config is EMPTY_CONFIG and not holder.loaded


async def test_listener_failure_does_not_stop_the_others(
        upstream: Upstream, holder: ConfigHolder) -> None:
    called: list[str] = []

    def bad(old: GovernanceConfig, new: GovernanceConfig) -> None:
        raise RuntimeError("boom")

    holder.add_listener(bad)
    holder.add_listener(lambda old, new: called.append(new.revision))
    sha = upstream.commit("x", **{"people.yaml": PEOPLE})
    await holder.reload()
    assert called == [sha]


async def test_sections_are_loaded_from_the_checkout(upstream: Upstream,
                                                     tmp_path: Path) -> None:
    upstream.commit("x", **{"announce.yaml": "'#chan': {projects: [a]}\n"})
    section = ConfigSection("announce.yaml", lambda files, ctx: dict(files[0].data))
    holder = ConfigHolder(ConfigRepo(str(upstream.path), "master", "", tmp_path / "c"),
                          [("announce", section)])
    await holder.reload()
    assert holder.config.section("announce") == {"#chan": {"projects": ["a"]}}


async def test_git_and_loading_run_off_the_event_loop(
        upstream: Upstream, holder: ConfigHolder, monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    refresh, load = ConfigRepo._refresh, repo_module.load_config

    def spy_refresh(self: ConfigRepo) -> str:
        threads.append(threading.get_ident())
        return refresh(self)

    def spy_load(*args: object, **kw: object) -> object:
        threads.append(threading.get_ident())
        return load(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ConfigRepo, "_refresh", spy_refresh)
    monkeypatch.setattr(repo_module, "load_config", spy_load)
    upstream.commit("x", **{"people.yaml": PEOPLE})
    await holder.reload()
    assert len(threads) == 2 and loop_thread not in threads


async def test_check_files_loads_a_draft_over_the_merged_tree_and_writes_nowhere_else(
        tmp_path: Path, upstream: Upstream, holder: ConfigHolder) -> None:
    upstream.commit("good", **{"people.yaml": PEOPLE, "bodies.yaml": BODIES})
    outside = tmp_path / "outside"
    outside.mkdir()
    (upstream.path / "notes").symlink_to(outside)  # a link in the merged tree
    upstream.git("add", "-A")
    upstream.git("commit", "-q", "-m", "a link")
    await holder.reload()
    merged = holder.revision
    draft = await holder.check_files({"bodies.yaml": "tc:\n  members: [alice, mallory]\n"})
    assert [str(e) for e in draft.errors] == [
        "bodies.yaml:2: unknown person 'mallory' in body 'tc'; add them to people.yaml or "
        "fix the id"]  # people.yaml is the merged one
    fine = await holder.check_files({"bodies.yaml": "tc:\n  members: [alice]\n"})
    assert fine.config is not None and fine.config.bodies["tc"].members == ("alice",)
    assert holder.revision == merged and holder.config.bodies["tc"].members == ("alice", "bob")
    for path in ("../escape.yaml", "/etc/x.yaml", ".git/config", "notes/x.yaml"):
        refused = await holder.check_files({path: "x: 1\n"})
        assert refused.config is None and refused.errors, path
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape.yaml").exists()


async def test_a_merged_symlink_out_of_the_repo_is_refused_not_followed(
        upstream: Upstream, holder: ConfigHolder, tmp_path: Path) -> None:
    """`people.yaml -> /etc/passwd` merged upstream: the file is an error, never read."""
    outside = tmp_path / "secret.yaml"
    outside.write_text(PEOPLE)  # valid YAML: following it would load without error
    upstream.commit("good", **{"people.yaml": PEOPLE, "bodies.yaml": BODIES})
    assert (await holder.reload()).config is not None
    good = holder.revision
    (upstream.path / "people.yaml").unlink()
    (upstream.path / "people.yaml").symlink_to(outside)
    (upstream.path / "meetings").mkdir()
    (upstream.path / "meetings" / "x.yaml").symlink_to("/etc/passwd")
    (upstream.path / "bodies2.yaml").symlink_to("bodies.yaml")  # inside: fine
    upstream.commit("a link out")
    result = await holder.reload()
    lines = [str(e) for e in result.errors]
    assert result.config is None and holder.revision == good
    assert lines[0].startswith("people.yaml:1: a symlink out of the config repository")
    assert str(outside) in lines[0]


def test_links_out_and_special_files_are_errors_of_their_file(tmp_path: Path) -> None:
    import os

    from govbot.config.loader import load_config

    root = tmp_path / "repo"
    root.mkdir()
    (root / "people.yaml").write_text(PEOPLE)
    (root / "bodies.yaml").write_text(BODIES)
    (root / "rules").mkdir()
    os.mkfifo(root / "rules" / "fifo.yaml")  # reading it would block the loader forever
    (root / "rules" / "passwd.yaml").symlink_to("/etc/passwd")
    (root / "rules" / "ok.yaml").write_text("{}\n")
    (root / "rules" / "alias.yaml").symlink_to("ok.yaml")
    seen: list[str] = []

    def parse(files, ctx):  # type: ignore[no-untyped-def]
        seen.extend(f.path for f in files)
        return {}

    result = load_config(root, [("x", ConfigSection("rules/*.yaml", parse, "rules"))])
    assert sorted(str(e) for e in result.errors) == [
        "rules/fifo.yaml:1: not a regular file (a FIFO, socket or device); config files "
        "must be files",
        "rules/passwd.yaml:1: a symlink out of the config repository (to /etc/passwd); "
        "config files must be regular files inside it"]
    assert result.config is None and seen == ["rules/alias.yaml", "rules/ok.yaml"]
