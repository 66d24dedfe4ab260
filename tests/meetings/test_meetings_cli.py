"""`govbot minutes JOURNAL_OR_LOG`: minutes rendered again from a journal or a raw log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from govbot.actions import Append
from govbot.cli_context import CoreCliContext
from govbot.plugins.meetings import cli
from govbot.state.reporter import StateReporter
from govbot.state.store import StateStore
from tests.clikit import run_cli
from tests.meetings.kit import CHANNEL, Bot, file_of, minutes


def main(argv: list[str]) -> int:
    return run_cli("minutes", *argv)


def minutes_command(path: Path, out: Path, *, date: dt.date | None = None,
                    name: str | None = None) -> int:
    return main([str(path), "--out", str(out), *(["--date", date.isoformat()] if date else []),
                 *(["--name", name] if name else [])])


async def export_journal(db: Path, journal: str | None = None) -> str:
    async with CoreCliContext("meetings").state(db) as journals:
        return await cli.export_journal(journals, journal)

STEM = "meetings/tc/2026/tc.2026-11-19-16.00"

LOG = """\
15:58:01 <ada> hello, early
16:00:30 <ada> #startmeeting tc
16:00:30 <govbot> Meeting started Thu Nov 19 16:00:30 2026 UTC. The chair is ada.
16:01:00 <ada> #topic Roll call
16:01:10 <farah> o/
16:01:20 * chiara waves
16:02:00 <ada> #chair farah
16:02:30 <farah> #agreed logs can be recovered
16:03:00 <mallory> #agreed trolls cannot decide
16:03:30 <chiara> #action chiara to check the <script> tag
16:04:00 <ada> #action someone to archive this
16:05:00 <farah> #endmeeting
16:05:00 <govbot> Meeting ended Thu Nov 19 16:05:00 2026 UTC.
16:06:00 <ada> after the meeting
"""


async def test_from_an_exported_journal_the_minutes_are_the_same(tmp_path: Path) -> None:
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#topic Journals")
    await bot.say("farah", "#action farah to export it")
    live = minutes(await bot.say("ada", "#endmeeting"))
    (journal,) = bot.state.journals
    exported = tmp_path / "journal.jsonl"
    exported.write_text(bot.state.jsonl(journal))
    out = tmp_path / "out"
    assert await cli.minutes_command(CoreCliContext("meetings"), exported, out,
                                     url_base="https://meetings.example.org") == 0
    for rel, content in live.files.items():
        assert (out / rel).read_text() == content
    assert CHANNEL in file_of(live, "html")


def test_from_a_raw_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tc.2026-11-19-16.00.log.txt"
    log.write_text(LOG)
    out = tmp_path / "out"
    assert main([str(log), "--out", str(out), "--channel", "#example-tc"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(printed) == sorted(str(out / f"{STEM}.{e}")
                                     for e in ("html", "txt", "log.html", "log.txt"))
    text = (out / f"{STEM}.txt").read_text()
    assert "* Roll call  (ada, 16:01:00)\n  * AGREED: logs can be recovered  (farah," in text
    assert "trolls cannot decide" not in text  # mallory was never a chair
    assert "* UNASSIGNED\n  * someone to archive this\n" in text
    assert "* chiara\n  * chiara to check the <script> tag\n" in text
    log_txt = (out / f"{STEM}.log.txt").read_text().splitlines()
    assert log_txt[0] == "16:00:30 <ada> #startmeeting tc"
    assert "16:01:20 * chiara waves" in log_txt
    assert log_txt[-1] == "16:05:00 <govbot> Meeting ended Thu Nov 19 16:05:00 2026 UTC."
    assert "&lt;script&gt;" in (out / f"{STEM}.html").read_text()


def test_a_log_without_startmeeting_and_across_midnight(tmp_path: Path) -> None:
    log = tmp_path / "irc.log"
    log.write_text("[23:59] <ada> #topic late\n[00:01] <ada> #agreed past midnight\n"
                   "[00:02] <bob> #info bob here\n")
    out = tmp_path / "out"
    assert minutes_command(log, out, date=dt.date(2026, 11, 19), name="Late Night") == 0
    text = (out / "meetings/late_night/2026/late_night.2026-11-19-23.59.txt").read_text()
    assert "  * AGREED: past midnight  (ada, 00:01:00)" in text


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert minutes_command(tmp_path / "missing.jsonl", tmp_path) == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "line"\n')
    assert minutes_command(bad, tmp_path) == 2
    empty = tmp_path / "empty.log"
    empty.write_text("nothing like a log\n")
    assert minutes_command(empty, tmp_path) == 1
    assert "no meeting found" in capsys.readouterr().err


async def test_export_a_journal_from_the_state_database(tmp_path: Path) -> None:
    bot = Bot()
    await bot.say("ada", "#startmeeting tc")
    await bot.say("ada", "#endmeeting")
    async with StateStore(tmp_path / "state.db") as store:
        reporter = StateReporter(store)
        for action in bot.actions:
            if isinstance(action, Append):
                await reporter.report(dataclasses.replace(action, plugin="meetings"))
    (name,) = bot.state.journals
    assert await export_journal(tmp_path / "state.db") == f"{name}\n"
    exported = await export_journal(tmp_path / "state.db", name)
    assert [json.loads(line) for line in exported.splitlines()] == bot.state.journals[name]


def test_minutes_straight_from_the_state_database(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    async def fill() -> str:
        bot = Bot()
        await bot.say("ada", "#startmeeting tc")
        await bot.say("ada", "#info from the database")
        async with StateStore(tmp_path / "state.db") as store:
            reporter = StateReporter(store)
            for action in bot.actions:
                if isinstance(action, Append):
                    await reporter.report(dataclasses.replace(action, plugin="meetings"))
        return next(iter(bot.state.journals))

    name = asyncio.run(fill())
    db = str(tmp_path / "state.db")
    assert main(["list", "--state", db]) == 0
    assert capsys.readouterr().out == f"{name} (open)\n"
    assert main([name, "--state", db, "--out", str(tmp_path / "out")]) == 0
    assert "from the database" in (tmp_path / f"out/{STEM}.txt").read_text()
    assert main(["#nope/x", "--state", db]) == 1


def test_a_url_base_ending_in_meetings_is_warned_about(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tc.2026-11-19-16.00.log.txt"
    log.write_text(LOG)
    assert main([str(log), "--out", str(tmp_path / "out"), "--url-base",
                 "https://example.org/meetings"]) == 0
    err = capsys.readouterr().err
    assert "warning: --url-base 'https://example.org/meetings' ends in /meetings" in err
    assert "https://example.org/meetings/meetings/" in err


def test_a_log_whose_startmeeting_has_no_name(tmp_path: Path) -> None:
    # Older MeetBots allowed `#startmeeting` alone; recovery names it after the channel.
    log = tmp_path / "x.2026-11-19-16.00.log.txt"
    log.write_text("16:00:30 <ada> #startmeeting\n16:01:00 <ada> #info recovered anyway\n"
                   "16:02:00 <ada> #endmeeting\n")
    out = tmp_path / "out"
    assert main([str(log), "--out", str(out), "--channel", "#example-tc"]) == 0
    [text] = [p for p in out.rglob("*.txt") if not p.name.endswith(".log.txt")]
    assert "example_tc" in text.name and "INFO: recovered anyway" in text.read_text()
