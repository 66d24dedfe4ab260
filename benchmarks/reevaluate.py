#!/usr/bin/env python3
"""Re-evaluating every open governed change after a config reload.

Serves N synthetic open changes (default 5,000; TC changes of every category with
member votes, and per-path compute changes) from a small Gerrit-shaped REST
endpoint on loopback with Gerrit's paging (`n`, `S`, `_more_changes`) and `)]}'`
prefix; then times the governance plugin's reaction to `ConfigReloaded`: the
paged query through govbot's REST client (aiohttp on the loop), one evaluation
per change, one vote action each, taken one by one as the plugin yields them (what
the dispatcher does: each action is reported and let go). Prints the wall time, the
REST calls made, and the peak memory traced (a second run: tracing slows it).
The stand-in Gerrit runs in a process of its own, so the peak RSS printed is the
bot's side alone (taken after the untraced run).
Run: `python benchmarks/reevaluate.py [--changes N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _load import load

from govbot.actions import Vote
from govbot.config.loader import load_config
from govbot.events import ConfigReloaded
from govbot.gerrit.rest import GerritRest
from govbot.plugin import MemoryState, PluginContext, PluginRegistry
from govbot.plugin_loader import load_plugins
from govbot.plugins.governance.plugin import GovernancePlugin

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("formal-vote", "charter-change", "code-change", "typo-fix", "goal-update",
              "documentation-change", "election-results")
TC = [("ada", 1000001), ("bokafor", 1000002), ("chiara", 1000003), ("dvolk", 1000004),
      ("eunji", 1000005), ("farah", 1000006), ("greis", 1000007), ("hnovak", 1000008),
      ("ivo", 1000009)]
NOVA = [("praman", 1000014), ("qmoreau", 1000015), ("rosaj", 1000016), ("sven", 1000017)]


def gerrit_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.000000000")


def synthetic_changes(count: int, now: dt.datetime, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    changes = []
    for number in range(1, count + 1):
        governance = number % 3 != 0
        created = now - dt.timedelta(days=rng.randrange(0, 20), hours=rng.randrange(24))
        voters = TC if governance else NOVA
        label = "Rollcall-Vote" if governance else "Code-Review"
        votes = [{"_account_id": aid, "username": user, "value": rng.choice((-1, 0, 1, 1, 2))
                  if not governance else rng.choice((-1, 0, 1, 1)),
                  "date": gerrit_time(created + dt.timedelta(hours=rng.randrange(48)))}
                 for user, aid in rng.sample(voters, rng.randrange(len(voters)))]
        files: dict[str, dict[str, Any]] = ({f"resolutions/r{number}.rst": {}} if governance
                 else {rng.choice(["nova/virt/libvirt/driver.py", "nova/virt/xenapi/vm.py",
                                   "nova/compute/api.py"]): {}})
        owner = rng.choice(voters)
        revision = f"{number:040x}"
        changes.append({
            "id": f"example~{number}", "project": "example/governance" if governance
            else "example/compute", "branch": "master", "_number": number,
            "subject": f"Change {number}", "status": "NEW",
            "owner": {"_account_id": owner[1], "username": owner[0]},
            "created": gerrit_time(created), "updated": gerrit_time(now),
            "hashtags": [rng.choice(CATEGORIES)] if governance else [],
            "labels": {label: {"all": votes}},
            "current_revision": revision,
            "revisions": {revision: {"_number": 1, "created": gerrit_time(created),
                                     "files": files}},
        })
    return changes


async def serve(count: int, now: dt.datetime) -> None:
    """The stand-in Gerrit (run as `--serve N` in its own process): prints its URL, then
    answers paged queries until stdin closes. Apart from the bot's process so that the
    bot's peak RSS is its own, not the served changes'."""
    changes = synthetic_changes(count, now)

    async def query(request: web.Request) -> web.Response:
        limit = int(request.query.get("n", "500"))
        start = int(request.query.get("S", "0"))
        page = changes[start:start + limit]
        if start + limit < len(changes) and page:
            page[-1] = {**page[-1], "_more_changes": True}
        return web.Response(body=b")]}'\n" + msgspec.json.encode(page),
                            content_type="application/json")

    app = web.Application()
    app.router.add_get("/a/changes/", query)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes it
    await runner.cleanup()


class Counting(GerritRest):
    """The bot's REST client, counting the pages it was given."""

    pages = 0

    async def get(self, endpoint: str, **kwargs: Any) -> Any:
        self.pages += endpoint == "/changes/"
        return await super().get(endpoint, **kwargs)


async def consume(plugin: GovernancePlugin, ctx: PluginContext) -> int:
    """The reload's actions as the dispatcher takes them: one by one as the plugin yields
    them (each reported and let go), counting the votes."""
    votes = 0
    async for action in plugin.on_reload(ConfigReloaded("old", "new"), ctx):
        votes += isinstance(action, Vote)
    return votes


async def run(count: int) -> None:
    now = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    plugin = GovernancePlugin()
    sections = PluginRegistry(load_plugins(["governance"])).config_sections()
    config = load_config(ROOT / "etc" / "governance", sections).config
    assert config is not None
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", str(count), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    assert server.stdin is not None and server.stdout is not None
    try:
        url = (await asyncio.wait_for(server.stdout.readline(), 120)).decode().strip()
        if not url.startswith("http://"):
            raise SystemExit(f"reevaluate.py: the stand-in Gerrit did not start ({url!r})")
        rest = Counting(url, username="govbot", password="secret")
        try:
            ctx = PluginContext("governance", "bench", config, rest, MemoryState(), now)
            started = time.perf_counter()
            votes = await consume(plugin, ctx)
            elapsed = time.perf_counter() - started
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            pages = rest.pages
            tracemalloc.start()  # a second run, traced: tracing slows it several times
            await consume(GovernancePlugin(), ctx)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        finally:
            await rest.close()
    finally:
        server.stdin.close()
        await asyncio.wait_for(server.wait(), 30)
    print(f"{count} open changes re-evaluated after a config reload in {elapsed:.2f} s "
          f"({pages} paged REST queries, {votes} votes decided)")
    print(f"peak traced memory of the re-evaluation: {peak / 1e6:.1f} MB; peak RSS of the "
          f"bot's process {rss:.0f} MB (the stand-in Gerrit runs in another); {load()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=5000)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)))
    else:
        asyncio.run(run(args.changes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
