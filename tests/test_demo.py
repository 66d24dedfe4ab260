"""The README's demo runs end to end: emulator, real ngircd, the bot, the story."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from govbot.testing.ircd import IrcTestClient, require_binaries
from tests.gerrit.harness import ROOT

pytestmark = pytest.mark.irc


async def test_the_demo_tells_its_story() -> None:
    require_binaries("ngircd")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", "demo", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "Governance-Check+1  «Governance check: READY — rule formal-vote»" in text
    assert "Governance-Check-1  «Governance check: BLOCKED — category hashtag check»" in text
    assert "the proposed config does not load" in text
    assert "irc #example-tc | " in text  # the announcements reached the channel
    assert text.rstrip().endswith("done")


async def _line(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    """Read the demo's output until a line matches `pattern` (bounded by the caller)."""
    while True:
        raw = await stream.readline()
        assert raw, "the demo ended early:\n" + "".join(seen)
        seen.append(raw.decode())
        found = re.search(pattern, seen[-1])
        if found:
            return found


def _read(path: str) -> str:
    return Path(path).read_text()


def _exists(path: str) -> bool:
    return Path(path).exists()


def _processes_under(path: str) -> list[int]:
    """Processes whose command line names `path` (the demo's ngircd runs from there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if path in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
    return found


async def test_the_front_door_instructions_work_and_sigterm_cleans_up() -> None:
    require_binaries("ngircd")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "govbot", "demo", "--keep-running", cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    seen: list[str] = []
    tmp = "/nonexistent"
    try:
        async with asyncio.timeout(120):
            web = (await _line(proc.stdout, r"web server: .*?(http://[\d.]+:\d+)/readyz", seen))[1]
            irc = await _line(proc.stdout, r"IRC server: ([\d.]+):(\d+) .*channel (#\S+);", seen)
            await _line(proc.stdout, r"meetings\.trust_nicks: true", seen)
            change = (await _line(proc.stdout, r"Gerrit emulator: (\S+)", seen))[1]
            settings = (await _line(proc.stdout, r"settings written to (\S+);", seen))[1]
            await _line(proc.stdout, r"running until Ctrl-C or SIGTERM", seen)
        tmp = str(Path(settings).parent)
        assert "trust_nicks: true" in _read(settings)  # really written
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{web}/readyz") as response:
                assert response.status == 200, await response.text()
                ready = await response.json()
                assert ready["not_ready"] == [] and set(ready["parts"]) == {
                    "config", "gerrit", "irc"}, ready
            async with http.get(f"{web}/metrics") as response:
                assert response.status == 200 and "govbot_ready" in await response.text()
            async with http.get(change) as response:
                assert response.status == 200
                assert "Adopt the 2027 cycle goals" in await response.text()
        host, port, channel = irc[1], int(irc[2]), irc[3]
        async with IrcTestClient(host, port, "visitor") as visitor:
            await visitor.join(channel)

            def said(text: str) -> Callable[[Any], bool]:
                return lambda m: m.command == "PRIVMSG" and m.nick == "govbot" and \
                    text in m.text

            await visitor.privmsg(channel, "#startmeeting demo")
            await visitor.wait_for(said("Meeting started"), timeout=15)
            async with aiohttp.ClientSession() as http, http.get(f"{web}/metrics") as got:
                assert 'govbot_journals_open{plugin="meetings"} 1.0' in await got.text()
            await visitor.privmsg(channel, "#agreed the demo works")
            await visitor.privmsg(channel, "#endmeeting")
            await visitor.wait_for(said("Meeting ended"), timeout=15)
        assert _processes_under(tmp)  # ngircd, until the end
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, "".join(seen) + rest.decode()
    assert not _exists(tmp)
    assert _processes_under(tmp) == []
