"""Minutes that cannot be written at #endmeeting are kept, retried, and announced late.

Through the whole daemon on a real ngircd: the minutes directory is a path under a
regular file (a directory that cannot be made, whoever the bot runs as: root ignores
permissions, not file types), so every write fails until the file is replaced by a
directory. The channel is told once that the minutes are delayed, no URL is said
before the files exist, and the journal stays open (a restart would write them).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from pathlib import Path

import pytest

from govbot.daemon import Daemon
from govbot.plugins.meetings.plugin import MeetingsPlugin
from govbot.settings import parse_settings
from govbot.testing.ircd import IrcTestClient, NgircdServer
from tests.gerrit.harness import governance_repo
from tests.meetings.test_meetings_irc import CHANNEL, URL, Speaker, bot_said, eventually, ircd

pytestmark = pytest.mark.irc
__all__ = ["ircd"]  # the fixture, imported


def open_journals(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        return len(conn.execute(
            "SELECT DISTINCT journal FROM journals j WHERE plugin = 'meetings' AND NOT EXISTS "
            "(SELECT 1 FROM journals_closed c WHERE c.plugin = j.plugin "
            "AND c.journal = j.journal)").fetchall())


async def test_a_full_minutes_directory_delays_the_minutes_and_loses_nothing(
        tmp_path: Path, ircd: NgircdServer) -> None:
    blocker = tmp_path / "disk"
    blocker.write_text("a file where the minutes directory's parent should be\n")
    minutes_dir = blocker / "minutes"
    db = tmp_path / "state" / "govbot.db"
    text = (f"governance: {{repo: {governance_repo(tmp_path)}, poll_interval: 0}}\n"
            f"state: {{path: {db}, workdir: {tmp_path}/work}}\n"
            "web: {listen: '127.0.0.1:0'}\n"
            f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: govbot,"
            f" channels: ['{CHANNEL}'], rate: {{burst: 20, per_second: 100}}}}\n"
            "plugins:\n  enabled: [meetings]\n  settings:\n    meetings:\n"
            f"      minutes_url: {URL}\n      trust_nicks: true\n"
            f"      minutes_dir: {minutes_dir}\n")
    settings = parse_settings(text, str(tmp_path / "govbot.yaml"), base=tmp_path)
    daemon = Daemon(settings, plugins=[MeetingsPlugin()])
    task = asyncio.create_task(daemon.run())
    say = Speaker(db)
    try:
        async with IrcTestClient(ircd.host, ircd.port, "ada") as ada:
            await ada.join(CHANNEL)
            await ada.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 30)
            await say(ada, "#startmeeting tc")
            await say(ada, "#agreed nothing is lost")
            await say(ada, "#endmeeting")
            assert await bot_said(ada, "^Meeting ended")
            delayed = await bot_said(ada, "^The minutes of the meeting 'tc' are delayed")
            assert "Not a directory" in delayed or "File exists" in delayed
            # Retries are under way (with backoff); nothing is announced meanwhile.
            await eventually(lambda: _failures(daemon) >= 2, 20, "a second failed try")
            assert not any(m.text.startswith(("Minutes", "Log:")) for m in ada.received)
            assert open_journals(db) == 1  # kept, ready to render
            # Space comes back: the file becomes the directory the minutes need.
            blocker.unlink()
            blocker.mkdir()
            html = await bot_said(ada, r"^Minutes:\s", timeout=30)
            # Said only now that the files exist.
            stem = re.sub(rf"^Minutes:\s+{URL}/", "", html).removesuffix(".html")
            files = sorted(p.name for p in minutes_dir.glob(f"{stem}.*"))
            assert len(files) == 4, files
            assert await bot_said(ada, r"^Minutes \(text\):")
            assert "nothing is lost" in (minutes_dir / f"{stem}.txt").read_text()
            await eventually(lambda: open_journals(db) == 0, 10, "the journal closed")
            delays = [m for m in ada.received if "are delayed" in m.text]
            assert len(delays) == 1  # told once, however many tries
    finally:
        daemon.stop()
        assert await asyncio.wait_for(task, 30) == 0


def _failures(daemon: Daemon) -> int:
    from govbot.minutes import MinutesReporter

    reporters = daemon.dispatcher._reporters.reporters if daemon.dispatcher else ()
    return sum(r.failures for r in reporters if isinstance(r, MinutesReporter))
