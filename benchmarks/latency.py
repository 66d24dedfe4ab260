#!/usr/bin/env python3
"""Latency from Gerrit emitting an event to the bot's vote arriving over REST.

Starts the Gerrit emulator (SSH stream + REST on loopback) and govbot in its own
process, connected with nothing but settings. A reviewer comments on changes at a
steady rate (default 200 events/s); for every comment the bot posts a vote whose
message names the comment, so each POST can be matched to the event that caused
it. Prints p50/p90/p99/max of (POST received) - (event emitted), settle delay off.
`--busy` keeps one core busy with a CPU-bound process while measuring (another
tenant of the machine). Each run prints the machine's load.

It also prints the bot's CPU (user + system, from each thread's schedstat) and its
threads' wake-ups from the first event sent to the last vote, per event. Start-up
(imports, config, connecting; here also compiling every module, as this machine sets
PYTHONDONTWRITEBYTECODE) is not in it: the events start once the bot has settled (two
quarter-seconds in a row under 2 ms of CPU). The idle rate (timers, polls; measured for
GOVBOT_IDLE_SECONDS, default 2, before the first event) is printed apart and is
included in the per-event figure, as it is in production.
Run: `python benchmarks/latency.py [--rate 200] [--seconds 10] [--busy]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from _load import busy_core, load  # noqa: E402

PROJECT = "bench/project"
#: Seconds the settled bot is watched idle before the first event (its timers, polls).
IDLE_SECONDS = float(os.environ.get("GOVBOT_IDLE_SECONDS", "2"))


def bot_main(settings: str) -> int:
    """The bot process: the daemon with a plugin that votes on every comment."""
    from govbot.actions import Action, Vote
    from govbot.daemon import Daemon, _main
    from govbot.gerrit import events as ev
    from govbot.logs import setup_logging
    from govbot.plugin import Plugin, PluginContext
    from govbot.settings import load_settings

    class Echo(Plugin):
        name = "echo"
        emits = (Vote,)

        def handlers(self) -> dict[type, Any]:
            return {ev.CommentAdded: self.on_comment}

        async def on_comment(self, event: ev.CommentAdded, ctx: PluginContext
                             ) -> Sequence[Action]:
            if not event.text.startswith("bench ") or event.patch_set is None:
                return ()
            return [Vote(change=event.change.key, patchset=event.patch_set.number,
                         labels={"Verified": 1}, message=f"seen {event.text}",
                         fingerprint=event.text)]

    setup_logging(level="WARNING")
    if os.environ.get("GOVBOT_SWITCH"):
        sys.setswitchinterval(float(os.environ["GOVBOT_SWITCH"]))
    return asyncio.run(_main(Daemon(load_settings(Path(settings)), plugins=[Echo()])))


@dataclass(frozen=True)
class Sample:
    """A process's CPU seconds (user + system) and how often its threads were woken."""

    cpu: float
    wakeups: int  # times a thread was scheduled in (0 where the kernel does not say)

    def __sub__(self, other: Sample) -> Sample:
        return Sample(self.cpu - other.cpu, self.wakeups - other.wakeups)


def sample(pid: int) -> Sample:
    """The bot's CPU so far (Linux /proc), zero where unknown.

    From each thread's schedstat (nanoseconds, and times scheduled in) where the
    kernel keeps it: clock ticks (10 ms) are too coarse for a second of idling. Threads
    that ended are not in it; the bot's threads live as long as it does."""
    try:
        stats = [(task / "schedstat").read_text().split()
                 for task in Path(f"/proc/{pid}/task").iterdir()]
        return Sample(sum(int(s[0]) for s in stats) / 1e9, sum(int(s[2]) for s in stats))
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return Sample(0.0, 0)
    return Sample((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 0)


@dataclass(frozen=True)
class BotCpu:
    """The bot's CPU, split so that start-up is never charged to the events."""

    startup: float  # seconds from process start until settled (imports, config, connect)
    idle: Sample  # per second, settled with no event flowing (timers, polls)
    run: Sample  # from the first event sent until the last vote arrived


async def settled(pid: int, *, window: float = 0.25, quiet: float = 0.002,
                  limit: float = 10.0) -> Sample:
    """Wait (at most `limit` s) until the bot spends under `quiet` CPU seconds in each of
    two `window`s in a row: start-up is over. Returns its CPU so far."""
    deadline = time.monotonic() + limit
    before = sample(pid)
    calm = 0
    while True:
        await asyncio.sleep(window)
        now = sample(pid)
        calm = calm + 1 if (now - before).cpu < quiet else 0
        if calm >= 2 or time.monotonic() > deadline:
            return now
        before = now


async def measure(rate: float, seconds: float, changes: int
                  ) -> tuple[list[tuple[float, float]], BotCpu]:
    """(seconds into the run its event was sent, latency) of every vote, and the bot's
    CPU seconds (start-up, idle, the run)."""
    from govbot.testing.gerrit import GerritEmulator, Grant
    from govbot.testing.gerrit.model import code_review_label, verified_label

    tmp = Path(tempfile.mkdtemp(prefix="govbot-latency-"))
    try:
        async with GerritEmulator(tmp / "gerrit", meta_ref_events=True) as emu:
            bot = emu.add_account("govbot", groups=["bots"])
            human = emu.add_account("reviewer", groups=["core"])
            await emu.create_project(PROJECT, labels=[code_review_label(), verified_label()],
                                     grants={"Code-Review": [Grant("core", -2, 2)],
                                             "Verified": [Grant("bots", -1, 1)]})
            items = [await emu.create_change(PROJECT, "master", human, f"Change {i}",
                                             {f"f{i}": "x\n"}) for i in range(changes)]
            key = emu.generate_ssh_key(bot)
            key.write_private_key(str(tmp / "key"))
            (tmp / "pw").write_text(bot.http_password)
            repo = tmp / "governance"
            repo.mkdir()
            (repo / "people.yaml").write_text("[]\n")
            env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@e",
                   "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@e"}
            for cmd in (["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-qm", "x"]):
                await asyncio.to_thread(subprocess.run, ["git", *cmd], cwd=repo, check=True,
                                        env=env)
            settings = tmp / "govbot.yaml"
            settings.write_text(
                f"governance: {{repo: {repo}, poll_interval: 0}}\n"
                f"gerrit:\n  url: {emu.http_url}\n"
                f"  ssh: {{host: 127.0.0.1, port: {emu.ssh_port}, username: govbot, "
                f"key_file: {tmp}/key, known_hosts_file: {emu.known_hosts_path}}}\n"
                f"  http: {{username: govbot, password: {{file: {tmp}/pw}}}}\n"
                f"state: {{path: {tmp}/state.db, workdir: {tmp}/work}}\n"
                "web: {listen: '127.0.0.1:0'}\n")
            # GOVBOT_PROFILE=FILE: profile the bot's main thread with cProfile.
            out = os.environ.get("GOVBOT_PROFILE")
            profile = ["-m", "cProfile", "-o", out] if out else []
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *profile, __file__, "--bot", str(settings), cwd=ROOT)
            try:
                await emu.wait_for(lambda: emu.stream_count >= 1, timeout=30)
                startup = (await settled(proc.pid)).cpu
                idle_from, idle_start = time.perf_counter(), sample(proc.pid)
                await asyncio.sleep(IDLE_SECONDS)
                idle, took = sample(proc.pid) - idle_start, time.perf_counter() - idle_from
                before = sample(proc.pid)
                emitted: dict[str, float] = {}
                total = int(rate * seconds)
                start, first = time.perf_counter(), time.time()
                for i in range(total):
                    slot = start + i / rate
                    delay = slot - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    text = f"bench {i}"
                    emitted[text] = time.time()
                    await emu.review(items[i % changes], human, {"Code-Review": 1}, text)

                def posts() -> list[Any]:
                    return emu.rest_calls(method="POST", path_contains="/review", status=200)

                await emu.wait_for(lambda: len(posts()) >= total, timeout=60)
                cpu = BotCpu(startup, Sample(idle.cpu / took, round(idle.wakeups / took)),
                             sample(proc.pid) - before)
                return [(emitted[text] - first, c.time - emitted[text]) for c in posts()
                        for text in [c.body["message"].removeprefix("seen ")]], cpu
            finally:
                proc.send_signal(2)
                await proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="events per second")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--changes", type=int, default=50)
    ap.add_argument("--busy", action="store_true",
                    help="keep one core busy with a CPU-bound process while measuring")
    ap.add_argument("--bot", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bot:
        return bot_main(args.bot)
    with busy_core(args.busy):
        found, cpu = asyncio.run(measure(args.rate, args.seconds, args.changes))
        loaded = load()
    ms = sorted(latency * 1000 for _, latency in found)
    q = statistics.quantiles(ms, n=100)
    print(f"{len(ms)} events at {args.rate:.0f}/s over {args.seconds:.0f} s, "
          f"bot in its own process, SSH stream + REST vote on loopback"
          f"{', one core kept busy' if args.busy else ''}; {loaded}")
    print(f"latency event -> vote POST: p50 {q[49]:.1f} ms, p90 {q[89]:.1f} ms, "
          f"p99 {q[98]:.1f} ms, max {ms[-1]:.1f} ms")
    # When they came says what they were: evenly spaced is something periodic in the
    # bot (a checkpoint, a timer); the first one is a cold path; the rest the machine.
    slowest = sorted(sorted(found, key=lambda f: f[1])[-6:])
    print("slowest votes (s into the run: ms): "
          + ", ".join(f"{at:.2f}: {latency * 1000:.1f}" for at, latency in slowest))
    # Start-up (imports, config, connecting; here also compiling every module, as
    # PYTHONDONTWRITEBYTECODE may be set) is measured apart, never charged to events.
    n = len(ms)
    print(f"bot CPU (user + system) from the first event sent to the last vote: "
          f"{cpu.run.cpu:.2f} s, {cpu.run.cpu / n * 1000:.2f} ms per event, "
          f"{cpu.run.wakeups / n:.1f} thread wake-ups per event (idle: "
          f"{cpu.idle.cpu * 1000:.1f} ms/s, {cpu.idle.wakeups} wake-ups/s, included); "
          f"start-up {cpu.startup:.2f} s, not included")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
