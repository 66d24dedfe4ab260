"""Meetings on InspIRCd + Atheme, through the whole daemon as its own process: chairs by
services account (no `trust_nicks`: a nick without its account is refused), op from
ChanServ on every join, the channel topic restored at the end, and InspIRCd's
channel history (+H, with server-time, msgid and batch) bringing back every line said
while the bot was SIGKILLed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from govbot.testing.ircd import InspircdAtheme, require_binaries
from govbot.testing.ircd import IrcMessage as Line
from tests.gerrit.harness import governance_repo
from tests.meetings.test_meetings_irc import (
    URL,
    BotProcess,
    Speaker,
    bot_said,
    eventually,
    journal_texts,
)

pytestmark = pytest.mark.irc
CHANNEL = "#example-tc"
BOT_PASSWORD = "bot-secret-7f3a"
ADA_PASSWORD = "ada-secret-1"
BRUNO_PASSWORD = "bruno-secret-2"


def services_settings(tmp_path: Path, port: int) -> Path:
    secret = tmp_path / "bot-password"
    secret.write_text(BOT_PASSWORD + "\n")
    governance = governance_repo(tmp_path)
    db = tmp_path / "state" / "govbot.db"
    settings = tmp_path / "govbot.yaml"
    settings.write_text(
        f"governance: {{repo: {governance}, poll_interval: 0}}\n"
        f"state: {{path: {db}, workdir: {tmp_path}/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n"
        f"irc: {{host: 127.0.0.1, port: {port}, tls: false, nick: govbot,"
        f" channels: ['{CHANNEL}'], rate: {{burst: 20, per_second: 100}},"
        f" sasl: {{username: govbot, password: {{file: {secret}}}}}}}\n"
        "plugins:\n  enabled: [meetings]\n  settings:\n    meetings:\n"
        f"      minutes_url: {URL}\n"
        "      channels: {default: {topic: always}}\n")
    return settings


def opped(m: Line) -> bool:
    return (m.command == "MODE" and m.nick == "ChanServ" and len(m.params) >= 3
            and m.params[1] == "+o" and m.params[2] == "govbot")


async def test_history_on_inspircd_loses_no_line_across_a_sigkill(tmp_path: Path) -> None:
    require_binaries("inspircd", "atheme-services")
    async with InspircdAtheme(tmp_path / "net") as net:
        await asyncio.gather(net.register_account("govbot", BOT_PASSWORD),
                             net.register_account("ada", ADA_PASSWORD),
                             net.register_account("bruno", BRUNO_PASSWORD))
        settings = services_settings(tmp_path, net.port)
        db = tmp_path / "state" / "govbot.db"
        minutes_dir = tmp_path / "minutes"
        bot = BotProcess(settings, minutes_dir)
        say = Speaker(db)
        ada = net.client("ada", sasl=("ada", ADA_PASSWORD), caps=("server-time",))
        bruno = net.client("bruno_o", sasl=("bruno", BRUNO_PASSWORD))
        mallory = net.client("bruno")  # bruno's account name as a nick, not logged in
        # InspIRCd completes registrations once a second: connect everyone in one tick.
        await asyncio.gather(ada.connect(), bruno.connect(), mallory.connect())
        try:
            assert ada.account == "ada" and bruno.account == "bruno" and mallory.account is None
            await ada.join(CHANNEL)  # first in: op, and the channel is +nt
            await ada.send(f"MODE {CHANNEL} +H 100:1d")
            await ada.send(f"TOPIC {CHANNEL} :Welcome to the TC")
            await ada.privmsg("ChanServ", f"REGISTER {CHANNEL}")
            await ada.wait_for(lambda m: m.nick == "ChanServ" and "registered" in m.text, 10)
            # +o: the bot may ask for op (it is not given automatically, which is +O).
            await ada.privmsg("ChanServ", f"FLAGS {CHANNEL} govbot +o")
            await ada.wait_for(lambda m: m.nick == "ChanServ" and "govbot" in m.text, 10)
            await bot.start()
            await ada.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 30)
            await ada.wait_for(opped, 15)  # asked ChanServ, on its own
            await say(ada, "#startmeeting tc")
            topic = await ada.wait_for(lambda m: m.command == "TOPIC" and m.nick == "govbot", 10)
            assert topic.text == "tc"
            await asyncio.gather(bruno.join(CHANNEL), mallory.join(CHANNEL))
            await say(ada, "#topic Before the crash")
            # Chairs are accounts: the nick "bruno" without the account is refused.
            await say(ada, "#chair bruno_o bruno")
            refused = await bot_said(ada, "^cannot make bruno a chair", 10)
            assert "not logged in to services" in refused
            assert await bot_said(ada, "^Current chairs:") == "Current chairs: ada bruno_o"
            await say(mallory, "#endmeeting")
            assert (await bot_said(ada, "^bruno: #endmeeting is for the chairs")).startswith(
                "bruno: #endmeeting is for the chairs of this meeting (ada, bruno_o)")
            await bot.kill()
            await ada.wait_for(lambda m: m.command == "QUIT" and m.nick == "govbot", 10)
            missed = ["first line while the bot is away", "#info second, an item",
                      "third: the last one"]
            for text in missed:
                await ada.privmsg(CHANNEL, text)
            await ada.send(f"PING :{len(missed)}")  # the server has them all
            await ada.wait_for(lambda m: m.command == "PONG", 5)
            await bot.start()
            await ada.wait_for(lambda m: m.command == "JOIN" and m.nick == "govbot", 30)
            resumed = await bot_said(ada, "^Resuming the meeting 'tc'", 20)
            await ada.wait_for(opped, 15)  # and op again after the restart
            assert "(started by ada; 4 lines kept)" in resumed
            await eventually(lambda: all(t in journal_texts(db) for t in missed), 15,
                             "the missed lines journaled from history")
            await say(ada, "#endmeeting")
            restored = await ada.wait_for(lambda m: m.command == "TOPIC" and m.nick == "govbot",
                                          10)
            assert restored.text == "Welcome to the TC"  # the topic it found, as MeetBot
            link = await bot_said(ada, rf"^Minutes:\s+{URL}/meetings/tc/")
        finally:
            await bot.stop()
            await asyncio.gather(ada.quit(), bruno.quit(), mallory.quit())
    stem = link.split(f"{URL}/", 1)[1].removesuffix(".html")
    await eventually(lambda: (minutes_dir / f"{stem}.log.txt").exists(), 10, "minutes")
    log = (minutes_dir / f"{stem}.log.txt").read_text()
    said = [line.split("> ", 1)[1] for line in log.splitlines() if " <ada> " in line]
    assert said == ["#startmeeting tc", "#topic Before the crash", "#chair bruno_o bruno",
                    *missed, "#endmeeting"]
    assert "not seen by the bot" not in log
    assert "INFO: second, an item" in (minutes_dir / f"{stem}.txt").read_text()
