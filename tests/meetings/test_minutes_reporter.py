"""The minutes reporter: safe, atomic files; optional git commit and push (real git)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import git
import msgspec
import pytest

from govbot.actions import GitPublishing, MinutesFiles, WriteMinutes
from govbot.minutes import MinutesReporter, UnsafePath, safe_target
from govbot.plugins.meetings.publishing import MinutesTarget
from govbot.plugins.meetings.settings import MeetingsSettings
from govbot.reporters import describe

FILES = {"meetings/tc/2026/tc.2026-11-19-16.00.html": "<p>minutes</p>\n",
         "meetings/tc/2026/tc.2026-11-19-16.00.txt": "minutes\n"}


def action(files: dict[str, str] = FILES, **kw: object) -> WriteMinutes:
    return WriteMinutes(meeting="tc", files=files, plugin="meetings", event_id="ev-1",
                        **kw)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_writes_every_file_atomically(tmp_path: Path) -> None:
    reporter = MinutesReporter(tmp_path / "minutes")
    await reporter.report(action())
    for rel, text in FILES.items():
        target = tmp_path / "minutes" / rel
        assert target.read_text() == text and mode(target) == 0o644
    await reporter.report(action({next(iter(FILES)): "<p>v2</p>\n"}))
    html = tmp_path / "minutes" / next(iter(FILES))
    assert html.read_text() == "<p>v2</p>\n"
    leftovers = [p.name for p in html.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [] and reporter.written == 3


@pytest.mark.parametrize("bad", ["../escape.html", "/etc/govbot-test", "meetings/../../x",
                                 "meetings//x", "", "a\x00b", "meetings\\..\\x", "."])
async def test_paths_escaping_the_directory_are_refused(tmp_path: Path, bad: str) -> None:
    reporter = MinutesReporter(tmp_path / "minutes")
    await reporter.report(action({**FILES, bad: "pwned"}))
    assert reporter.refused == 1 and reporter.written == 0  # all or nothing
    assert not (tmp_path / "escape.html").exists() and not (tmp_path / "x").exists()
    assert not (tmp_path / "minutes" / "meetings" / "tc").exists()


async def test_a_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "minutes"
    root.mkdir()
    (root / "meetings").symlink_to(outside, target_is_directory=True)
    reporter = MinutesReporter(root)
    await reporter.report(action())
    assert reporter.refused == 1 and list(outside.iterdir()) == []
    with pytest.raises(UnsafePath):
        safe_target(root.resolve(), "meetings/tc/x.html")


async def test_restricted_minutes_are_owner_only(tmp_path: Path) -> None:
    reporter = MinutesReporter(tmp_path)
    await reporter.report(action(restricted=True))
    assert {mode(tmp_path / rel) for rel in FILES} == {0o600}


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout


async def test_git_publishing_commits_and_pushes(tmp_path: Path) -> None:
    remote = tmp_path / "published.git"
    _git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    root = tmp_path / "minutes"
    root.mkdir()
    git.Repo.init(root, initial_branch="main").create_remote("origin", str(remote))
    reporter = MinutesReporter(root, git=GitPublishing(remote="origin", branch="main",
                                                       author_name="govbot"))
    await reporter.report(action())
    assert reporter.commits == 1 and reporter.push_failures == 0
    listed = _git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert sorted(listed) == sorted(FILES)
    log = _git("log", "--format=%an|%s", "main", cwd=remote).splitlines()
    assert log == ["govbot|Minutes of tc"]
    # The same minutes again (a #save, a replay): no empty commit.
    await reporter.report(action())
    assert reporter.commits == 1
    # Restricted minutes are never committed.
    await reporter.report(action({"meetings/secret/2026/s.html": "x"}, restricted=True))
    assert "meetings/secret/2026/s.html" not in _git("ls-tree", "-r", "--name-only", "HEAD",
                                                      cwd=root)


async def test_a_failed_push_keeps_the_commit(tmp_path: Path) -> None:
    root = tmp_path / "minutes"
    reporter = MinutesReporter(root, git=GitPublishing(remote=str(tmp_path / "nowhere.git")))
    await reporter.report(action())  # not a repository yet: one is created
    assert reporter.commits == 1 and reporter.push_failures == 1
    assert (root / ".git").is_dir() and (root / next(iter(FILES))).exists()


def test_from_settings(tmp_path: Path) -> None:
    # The meetings plugin reads its settings; the reporter gets them in the action.
    plain = MinutesTarget.of(MeetingsSettings())
    assert plain.directory is None and plain.git is None
    versioned = MinutesTarget.of(msgspec.convert(
        {"minutes_dir": str(tmp_path / "m"), "git": {"remote": "origin", "branch": "pub"}},
        MeetingsSettings))
    assert versioned.directory == str(tmp_path / "m")
    assert versioned.git == GitPublishing(remote="origin", branch="pub")


async def test_the_action_says_where_and_how(tmp_path: Path) -> None:
    reporter = MinutesReporter(tmp_path / "default")
    await reporter.report(action())
    assert (tmp_path / "default" / next(iter(FILES))).exists()
    elsewhere = tmp_path / "elsewhere"
    await reporter.report(action(directory=str(elsewhere),
                                 git=GitPublishing(author_name="Minutes Bot")))
    assert (elsewhere / next(iter(FILES))).exists() and reporter.commits == 1
    head = git.Repo(elsewhere).head.commit
    assert head.author.name == "Minutes Bot" and not (tmp_path / "default" / ".git").exists()


def test_a_dry_run_logs_the_file_names_not_the_minutes() -> None:
    line = describe(action(MinutesFiles({**FILES, "meetings/x/2026/big.log.txt": "x" * 10**6})))
    assert "<3 files, 1,000,023 characters: meetings/tc/2026/tc.2026-11-19-16.00.html" in line
    assert "xxxxxxxx" not in line and len(line) < 400


async def test_a_failed_write_is_retried_until_there_is_a_directory(tmp_path: Path) -> None:
    """A path under a regular file: every try fails (root too) until it is a directory."""
    import asyncio

    from govbot.events import MinutesFailed, MinutesWritten

    blocker = tmp_path / "disk"
    blocker.write_text("not a directory\n")
    outcomes: list[MinutesWritten | MinutesFailed] = []
    told = asyncio.Event()

    async def on_outcome(event: MinutesWritten | MinutesFailed) -> None:
        outcomes.append(event)
        told.set()

    reporter = MinutesReporter(blocker / "minutes", on_outcome=on_outcome,
                               retry_min=0.01, retry_max=0.05)
    await reporter.report(action(key="tc/1", lane="irc:#tc"))
    while sum(isinstance(o, MinutesFailed) for o in outcomes) < 3:
        told.clear()
        await asyncio.wait_for(told.wait(), 10)
    assert reporter.retrying == 1 and not any(isinstance(o, MinutesWritten) for o in outcomes)
    first = outcomes[0]
    assert isinstance(first, MinutesFailed) and first.lane == "irc:#tc"
    assert first.retry_in is not None and first.attempts == 1 and first.key == "tc/1"
    blocker.unlink()
    blocker.mkdir()
    while not isinstance(outcomes[-1], MinutesWritten):
        told.clear()
        await asyncio.wait_for(told.wait(), 10)
    written = outcomes[-1]
    assert written.paths == tuple(FILES) and written.attempts > 3
    for rel, text in FILES.items():
        assert (blocker / "minutes" / rel).read_text() == text
    assert reporter.retrying == 0
    await reporter.aclose()


async def test_newer_minutes_replace_a_waiting_retry(tmp_path: Path) -> None:
    blocker = tmp_path / "disk"
    blocker.write_text("not a directory\n")
    reporter = MinutesReporter(blocker / "minutes", retry_min=30, retry_max=60)
    await reporter.report(action({next(iter(FILES)): "old\n"}))  # #save: fails, waits
    assert reporter.retrying == 1
    blocker.unlink()
    blocker.mkdir()
    await reporter.report(action({next(iter(FILES)): "new\n"}))  # #endmeeting: written
    assert reporter.retrying == 0  # the older retry will never overwrite it
    assert (blocker / "minutes" / next(iter(FILES))).read_text() == "new\n"
    await reporter.aclose()


async def test_without_a_key_no_outcome_is_told(tmp_path: Path) -> None:
    told: list[object] = []

    async def on_outcome(event: object) -> None:
        told.append(event)

    reporter = MinutesReporter(tmp_path / "m", on_outcome=on_outcome)  # type: ignore[arg-type]
    await reporter.report(action())
    await reporter.aclose()
    assert told == [] and reporter.written == 2
