"""Zuul's view of a change as plain frozen data, and the read-only `CiReader`.

Everything here is pure (no aiohttp import), so the plugin API can name
`CiReader` without pulling the HTTP client in. `govbot.zuul.client.ZuulClient`
implements the reader over Zuul's REST API; tests may hand a plugin any object
with the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Build", "Builds", "CiReader", "CiStatus", "Enqueued"]


@dataclass(frozen=True, slots=True)
class Build:
    """One build of one job, as `/api/tenant/{t}/builds` lists it."""

    uuid: str
    job: str
    result: str | None  # None while the build runs (Zuul records builds when they start)
    pipeline: str = ""
    change: int | None = None
    patchset: int | None = None
    voting: bool = True
    url: str = ""  # the build's page in Zuul's web UI: what people click
    buildset: str | None = None  # the uuid of the run it was part of
    log_url: str | None = None
    start_time: str | None = None  # as Zuul wrote it (ISO 8601, UTC)
    end_time: str | None = None
    duration: float | None = None  # seconds


@dataclass(frozen=True, slots=True)
class Enqueued:
    """Where a change is in Zuul's pipelines right now. `known` is False when Zuul
    could not be asked (down, slow, an error): `pipelines` is then empty, not "none"."""

    pipelines: tuple[str, ...] = ()
    known: bool = True
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Builds:
    """A change's builds, newest first; `known` is False when Zuul could not be asked."""

    builds: tuple[Build, ...] = ()
    known: bool = True
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CiStatus:
    """What Zuul says about one patch set now: queued somewhere, or its last build."""

    known: bool
    pipelines: tuple[str, ...] = ()
    last_build: Build | None = None
    error: str | None = None

    def describe(self, *, last_build: bool = True) -> str | None:
        """One line for a verdict message, or None when there is nothing worth saying.
        `last_build=False` when Zuul's vote already tells the result (with its links)."""
        if not self.known:
            return "CI: unknown (Zuul unreachable)"
        if self.pipelines:
            return "CI: enqueued in " + ", ".join(self.pipelines)
        if last_build and self.last_build is not None:
            build = self.last_build
            link = f" ({build.url})" if build.url else ""
            return f"CI: last build {build.result or 'IN_PROGRESS'}{link}"
        return None


class CiReader(Protocol):
    """Read-only CI access for plugins (Zuul's REST API behind a cache).

    Never raises for an unreachable CI system: the answer says `known=False`.
    `gerrit_username` and `verified_label` are the operator's settings: the
    account Zuul votes as and the label it votes on, the defaults of a rule's
    `ci:` requirement.
    """

    @property
    def gerrit_username(self) -> str: ...

    @property
    def verified_label(self) -> str: ...

    async def ci_status(self, change: int, patchset: int, *,
                        last_build: bool = True) -> CiStatus:
        """Whether this patch set is enqueued; if not (and `last_build`), the build
        that tells how its latest run ended."""
        ...
