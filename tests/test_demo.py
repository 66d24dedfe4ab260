"""The README's demo runs end to end: emulator, real ngircd, the bot, the story."""

from __future__ import annotations

import asyncio
import sys

import pytest

from govbot.testing.ircd import require_binaries
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
