#!/usr/bin/env python3
"""Soak: the bot in its own process against the Gerrit emulator, under faults, for a while.

Reviews arrive at a steady rate (default 20/s) on a set of changes; now and then a core
reviewer gives a change Code-Review+2, and the bot's plugin (like governance: its vote
follows from the change, one per change) votes Verified+1 on it. Meanwhile, at random:
the SSH stream is cut, the REST API answers 500 for a few seconds, the bot is SIGKILLed
and started again, or stopped with SIGTERM and started again. Every minute it prints the
events sent and handled, the votes, and the bot's RSS; at the end (faults off, the bot
given time to catch up, then stopped cleanly) the totals:

- sent: review events the emulator emitted; handled: those the bot's inbox marks done
  (the same semantic event ids); lost = sent - handled;
- votes: changes with a +2 that got the bot's vote; votes missing; votes doubled (a
  change voted more than once).

Lost, missing and doubled must be 0 (exit 1 otherwise).
Run: `python benchmarks/soak.py [--minutes 10] [--rate 20] [--seed 1]`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "soak/project"


def bot_main(settings: str) -> int:
    """The bot process: the daemon with a plugin that votes once a change has a +2."""
    from govbot.actions import Action, Vote
    from govbot.daemon import Daemon, _main
    from govbot.gerrit import events as ev
    from govbot.logs import setup_logging
    from govbot.plugin import Plugin, PluginContext
    from govbot.settings import load_settings

    class Approver(Plugin):
        name = "approver"
        emits = (Vote,)

        def handlers(self) -> dict[type, Any]:
            return {ev.CommentAdded: self.on_comment}

        async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext
                             ) -> Sequence[Action]:
            if event.patch_set is None:
                return ()
            # Read the change as governance does: a 5xx here is a transient failure.
            info = await ctx.gerrit.get_change(event.change.key)
            if not info or "approved" not in info.get("labels", {}).get("Code-Review", {}):
                return ()
            return [Vote(change=event.change.key, patchset=event.patch_set.number,
                         labels={"Verified": 1}, message="Approved by a core reviewer.",
                         fingerprint="approved")]

    setup_logging(level=os.environ.get("GOVBOT_SOAK_LOG", "ERROR"))
    return asyncio.run(_main(Daemon(load_settings(Path(settings)), plugins=[Approver()])))


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    sent: int = 0
    kills: int = 0
    restarts: int = 0
    drops: int = 0
    rest_faults: int = 0
    rss_mb: list[float] = field(default_factory=list)


class Bot:
    def __init__(self, settings: Path) -> None:
        self.settings = settings
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--bot", str(self.settings), cwd=ROOT)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)

    def rss_mb(self) -> float:
        if self.proc is None or self.proc.returncode is not None:
            return 0.0
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def done_ids(database: Path) -> set[str]:
    if not database.exists():
        return set()
    db = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in db.execute("SELECT event_id FROM inbox WHERE done_at IS NOT NULL")}
    except sqlite3.OperationalError:  # not created yet, or busy for longer than 30 s
        return set()
    finally:
        db.close()


async def soak(minutes: float, rate: float, changes: int, seed: int) -> int:
    from govbot.gerrit.events import EventParser
    from govbot.testing.gerrit import GerritEmulator, Grant
    from govbot.testing.gerrit.model import code_review_label, verified_label

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="govbot-soak-"))
    tally = Tally()
    try:
        async with GerritEmulator(tmp / "gerrit") as emu:
            bot_account = emu.add_account("govbot", groups=["bots"])
            alice = emu.add_account("alice", groups=["core"])
            bob = emu.add_account("bob", groups=["core"])
            await emu.create_project(PROJECT, labels=[code_review_label(), verified_label()],
                                     grants={"Code-Review": [Grant("core", -2, 2)],
                                             "Verified": [Grant("bots", -1, 1)]})
            items = [await emu.create_change(PROJECT, "master", alice, f"Change {i}",
                                             {f"f{i}": "x\n"}) for i in range(changes)]
            settings = await _settings(emu, bot_account, tmp)
            database = tmp / "state.db"
            bot = Bot(settings)
            await bot.start()
            await emu.wait_for(lambda: emu.stream_count >= 1, timeout=60)
            approved: set[int] = set()
            deadline = time.monotonic() + minutes * 60
            next_fault = time.monotonic() + rng.uniform(5, 15)
            next_report = time.monotonic() + 60
            parser = EventParser()

            def sent_ids() -> list[str]:
                ids = []
                for event in emu.events_of("comment-added"):
                    if event.get("author", {}).get("username") == "govbot":
                        continue
                    parsed = parser.parse(_json(event))
                    if parsed is not None:
                        ids.append(parsed.id)
                return ids

            def report(final: bool = False) -> None:
                minute = (time.monotonic() - tally.started) / 60
                handled = len(set(sent_ids()) & done_ids(database))
                rss = bot.rss_mb()
                tally.rss_mb.append(rss)
                print(f"{'end' if final else f'{minute:4.1f} min'}: sent {tally.sent}, "
                      f"handled {handled}, votes {len(voted(emu))}/{len(approved)}, bot RSS "
                      f"{rss:.0f} MB; {tally.drops} stream drops, {tally.rest_faults} REST "
                      f"fault windows, {tally.kills} SIGKILLs, {tally.restarts} restarts",
                      flush=True)

            i = 0
            start = time.perf_counter()
            while time.monotonic() < deadline:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                change = items[i % changes]
                if rng.random() < 0.05 and change.number not in approved:
                    approved.add(change.number)
                    await emu.review(change, bob, {"Code-Review": 2}, f"soak {i} +2")
                else:
                    await emu.review(change, alice, {"Code-Review": 1}, f"soak {i}")
                tally.sent += 1
                i += 1
                now = time.monotonic()
                if now >= next_fault:
                    await _fault(rng, emu, bot, tally)
                    next_fault = now + rng.uniform(5, 20)
                if now >= next_report:
                    report()
                    next_report = now + 60
            # Faults off; the bot catches up; a clean stop drains and flushes the inbox.
            emu.faults.clear()
            if bot.proc is None or bot.proc.returncode is not None:
                await bot.start()
            await emu.wait_for(lambda: emu.stream_count >= 1, timeout=60)
            want = set(sent_ids())
            settle = time.monotonic() + 120
            # Polled: the inbox is another process's database, nothing here is woken by it.
            while time.monotonic() < settle and not (  # noqa: ASYNC110
                    want <= done_ids(database) and approved <= set(voted(emu))):
                await asyncio.sleep(1)
            report(final=True)
            status = await bot.stop()
            handled = want & done_ids(database)
            votes = voted(emu)
            lost = len(want - handled)
            missing = len(approved - set(votes))
            doubled = sum(n - 1 for n in votes.values())
            extra = len(set(votes) - approved)
            print(f"\n{minutes:g} min at {rate:g} reviews/s: sent {len(want)}, handled "
                  f"{len(handled)}, lost {lost}; votes {len(votes)} of {len(approved)}, "
                  f"missing {missing}, doubled {doubled}, unwarranted {extra}; "
                  f"{tally.drops} stream drops, {tally.rest_faults} REST 500 windows, "
                  f"{tally.kills} SIGKILLs, {tally.restarts} clean restarts; bot RSS "
                  f"max {max(tally.rss_mb or [0]):.0f} MB; last stop exit {status}")
            return 0 if lost == missing == doubled == extra == 0 and status == 0 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def voted(emu: Any) -> collections.Counter[int]:
    return collections.Counter(
        int(c.path.rsplit("~", 1)[1].split("/")[0])
        for c in emu.rest_calls(method="POST", path_contains="/review", status=200))


async def _fault(rng: random.Random, emu: Any, bot: Bot, tally: Tally) -> None:
    kind = rng.choice(("drop", "drop", "rest", "kill", "restart"))
    if kind == "drop":
        tally.drops += 1
        emu.drop_streams()
    elif kind == "rest":
        tally.rest_faults += 1
        emu.faults.fail_rest_for(rng.uniform(2, 8), status=500)
    elif kind == "kill":
        tally.kills += 1
        await bot.kill()
        await asyncio.sleep(rng.uniform(0.5, 3))  # events go on while it is dead
        await bot.start()
    else:
        tally.restarts += 1
        await bot.stop()
        await bot.start()


def _json(event: dict[str, Any]) -> str:
    import json

    return json.dumps(event)


async def _settings(emu: Any, bot: Any, tmp: Path) -> Path:
    key = emu.generate_ssh_key(bot)
    key.write_private_key(str(tmp / "key"))
    (tmp / "pw").write_text(bot.http_password)
    repo = tmp / "governance"
    repo.mkdir()
    (repo / "people.yaml").write_text("[]\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@e",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@e"}
    for cmd in (["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-qm", "x"]):
        await asyncio.to_thread(subprocess.run, ["git", *cmd], cwd=repo, check=True, env=env)
    settings = tmp / "govbot.yaml"
    settings.write_text(
        f"governance: {{repo: {repo}, poll_interval: 0}}\n"
        f"gerrit:\n  url: {emu.http_url}\n  retry_delay: 0.05\n  catchup_max_delay: 2\n"
        f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot, "
        f"key_file: {tmp}/key, known_hosts_file: {emu.known_hosts_path}, "
        f"reconnect_min_delay: 0.1, reconnect_max_delay: 1}}\n"
        f"  http: {{username: govbot, password: {{file: {tmp}/pw}}}}\n"
        f"dispatcher: {{retry_attempts: 100, retry_min_delay: 0.2, retry_max_delay: 2}}\n"
        f"state: {{path: {tmp}/state.db, workdir: {tmp}/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n")
    return settings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    ap.add_argument("--rate", type=float, default=20.0, help="reviews per second")
    ap.add_argument("--changes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bot", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bot:
        return bot_main(args.bot)
    return asyncio.run(soak(args.minutes, args.rate, args.changes, args.seed))


if __name__ == "__main__":
    raise SystemExit(main())
