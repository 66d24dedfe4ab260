"""`/simulate` (a form) and `POST /api/simulate` (JSON): the rule simulator, rate limited.

Both judge a described change (simulation.py) under the merged config in force, or
under a proposed one: `config_ref` (a form field, or the API's query parameter) names a
Gerrit change of the config repo, fetched and loaded as the bot checks proposals. The
limit is a token bucket per client (the reverse proxy's `X-Forwarded-For`, else the
peer address): `BURST` requests at once, then one every `1 / RATE` seconds; over it,
429 with `Retry-After`. Evaluating is cheap, but a page open to everyone must not let
one client keep the bot's event loop busy.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from govbot.config.model import GovernanceConfig
from govbot.extensions import WebRequest, WebResponse
from govbot.plugin import PluginContext

from ..ballot import PeopleIndex
from ..simulation import SimulationError, parse_spec, simulate
from .routes import People, Rules, html, json_response

__all__ = ["BURST", "EXAMPLE", "RATE", "RateLimit", "Simulator", "simulator"]

_CHANGE_REF = re.compile(r"refs/changes/\d{2}/\d+/\d+")
BURST = 10
RATE = 0.5  # requests per second, per client, after the burst
MAX_BODY = 256 * 1024
EXAMPLE = """\
project: example/governance
branch: master
owner: ada
subject: Adopt the 2027 cycle goals
files: [resolutions/2027-goals.rst]
hashtags: [formal-vote]
patchsets:
  - created: 2026-11-02T09:00:00Z
votes:
  - {who: bruno, label: Rollcall-Vote, value: 1, at: 2026-11-03T10:00:00Z}
  - {who: chiara, label: Rollcall-Vote, value: 1, at: 2026-11-03T11:00:00Z}
now: 2026-11-10T09:00:00Z
"""


@dataclass
class RateLimit:
    burst: float = BURST
    rate: float = RATE
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def wait(self, client: str) -> float:
        """0 if `client` may go now (and takes a token), else the seconds to wait."""
        now = self.clock()
        tokens, then = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self._buckets) > 10_000:
            self._buckets.clear()  # bounded memory; forgetting only forgives
        self._buckets[client] = (tokens - 1, now)
        return 0.0


def _client(request: WebRequest) -> str:
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or request.remote or "?"


class Simulator:
    def __init__(self, rules: Rules, people: People) -> None:
        self._rules = rules
        self._people = people
        self.limit = RateLimit()

    async def _judge(self, text: str, ctx: PluginContext, ref: str = "") -> dict[str, Any]:
        spec = parse_spec(text)
        config, people = ctx.config, self._people(ctx.config)
        files = spec.pop("config_files", None)
        if ref and files is not None:
            raise SimulationError("give either config_ref or config_files, not both")
        if ref:
            config = await self._proposed(ref, ctx)
            people = PeopleIndex.of(config.people)
        elif files is not None:
            config = await self._drafted(files, ctx)
            people = PeopleIndex.of(config.people)
        rules = self._rules(config)
        if rules is None:
            raise SimulationError("the config has no rules.yaml")
        result = simulate(spec, config, rules, now=ctx.now, people=people)
        result["config"] = ref or ("draft" if files is not None else "merged")
        return result

    async def _proposed(self, ref: str, ctx: PluginContext) -> GovernanceConfig:
        """The config of a Gerrit change of the config repo, or SimulationError."""
        if not _CHANGE_REF.fullmatch(ref):
            raise SimulationError(f"config_ref {ref!r}: a change ref like "
                                  "refs/changes/45/12345/2")
        if ctx.proposals is None:
            raise SimulationError("this bot has no config repo to fetch proposals from")
        try:
            config, errors = await ctx.proposals.config_at(ref)
        except Exception as exc:  # a fetch failure is the asker's answer, not a 500
            raise SimulationError(f"{ref}: cannot be fetched ({exc})") from None
        if config is None:
            listed = "; ".join(list(errors)[:10])
            raise SimulationError(f"{ref}: the proposed config does not load: {listed}")
        return config

    async def _drafted(self, files: Any, ctx: PluginContext) -> GovernanceConfig:
        """The merged config with the uploaded `config_files` over it, or SimulationError."""
        if not isinstance(files, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise SimulationError("config_files: a mapping of paths (e.g. rules.yaml) to "
                                  "their text")
        if ctx.proposals is None:
            raise SimulationError("this bot has no config repo to draft over")
        config, errors = await ctx.proposals.config_with(files)
        if config is None:
            listed = "; ".join(list(errors)[:10])
            raise SimulationError(f"the uploaded config does not load: {listed}")
        return config

    def _limited(self, request: WebRequest) -> float:
        return self.limit.wait(_client(request)) if request.method == "POST" else 0.0

    async def page(self, request: WebRequest, ctx: PluginContext) -> WebResponse:
        text, result, error, ref = EXAMPLE, None, None, ""
        if request.method == "POST":
            wait = self._limited(request)
            if wait:
                return WebResponse(429, f"too many simulations: wait {wait:.0f} s\n")
            form = parse_qs(request.body[:MAX_BODY].decode("utf-8", "replace"))
            text = (form.get("change") or [""])[0]
            ref = (form.get("config_ref") or [""])[0].strip()
            try:
                result = await self._judge(text, ctx, ref)
            except SimulationError as exc:
                error = str(exc)
        return html("simulate.html.j2", 400 if error else 200, text=text, c=result,
                    error=error, ref=ref)

    async def api(self, request: WebRequest, ctx: PluginContext) -> WebResponse:
        wait = self._limited(request)
        if wait:
            return json_response({"error": "rate limited", "retry_after": round(wait, 1)}, 429)
        if len(request.body) > MAX_BODY:
            return json_response({"error": f"the change is over {MAX_BODY} bytes"}, 413)
        try:
            spec = request.body.decode("utf-8")
            result = await self._judge(spec, ctx, request.query.get("config_ref", "").strip())
        except (SimulationError, UnicodeDecodeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(result)


def simulator(rules: Rules, people: People) -> Simulator:
    return Simulator(rules, people)


