"""/readyz through the daemon with a real ngircd: IRC named while the server is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from govbot.daemon import Daemon
from govbot.settings import parse_settings
from govbot.testing.ircd import NgircdServer, require_binaries
from tests.gerrit.harness import governance_repo

pytestmark = pytest.mark.irc


@pytest.fixture
async def ircd(tmp_path: Path) -> AsyncIterator[NgircdServer]:
    require_binaries("ngircd")
    async with NgircdServer(tmp_path / "ircd") as server:
        yield server


async def readyz(daemon: Daemon) -> tuple[int, Any]:
    assert daemon.web is not None
    url = f"http://127.0.0.1:{daemon.web.bound_port}/readyz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_readyz_names_irc_while_its_server_is_down(tmp_path: Path,
                                                        ircd: NgircdServer) -> None:
    settings = parse_settings(
        f"governance: {{repo: {governance_repo(tmp_path)}, poll_interval: 0}}\n"
        f"irc: {{host: 127.0.0.1, port: {ircd.port}, tls: false, nick: readygov, "
        "channels: ['#ready'], rate: {burst: 10, per_second: 50}}\n"
        f"state: {{path: {tmp_path}/state/govbot.db, workdir: {tmp_path}/state/work}}\n"
        "web: {listen: '127.0.0.1:0'}\n", str(tmp_path / "govbot.yaml"), base=tmp_path)
    daemon = Daemon(settings, plugins=[])
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.started.wait(), 15)
    assert daemon.irc is not None
    await daemon.irc.health.wait_until(lambda s: s.ready, timeout=15)
    status, body = await readyz(daemon)
    assert status == 200 and set(body["parts"]) == {"config", "irc"}, body

    await ircd.stop()
    await daemon.irc.health.wait_until(lambda s: not s.ready, timeout=15)
    status, body = await readyz(daemon)
    assert status == 503 and body["not_ready"] == ["irc"], body
    assert body["parts"]["irc"]["reason"].startswith("disconnected")

    await ircd.start()  # the bot reconnects and rejoins: ready again
    await daemon.irc.health.wait_until(lambda s: s.ready, timeout=20)
    status, body = await readyz(daemon)
    assert status == 200, body
    daemon.stop()
    assert await asyncio.wait_for(task, 15) == 0
