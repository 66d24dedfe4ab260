"""Zuul's REST JSON, read into `govbot.zuul.model` types. Pure functions, no I/O.

`/api/tenant/{t}/status`::

    {"pipelines": [{"name": "check", "change_queues": [
        {"name": "", "window": 0, "heads": [[{"id": "1234,2", "project": "...",
                                              "live": true, "jobs": [...]}, ...]]}]}]}

Each head is a list of queue items (for a dependent pipeline such as gate, the
items sharing one queue, ahead first). Before Zuul 10 an item names its change in
`id` ("NNN,P"); since items may hold several changes (dependency cycles), they
list them in `changes: [{"id": "NNN,P", ...}]`. Both shapes are read. Items that
are not `live` are changes Zuul only queued to test another change on top of them:
they are not "enqueued" in that pipeline for their own sake.

`/api/tenant/{t}/builds?change=N`: a list of builds, newest first; `change` and
`patchset` are top-level (a number and a string) in older Zuul and under `ref` in
newer Zuul.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from govbot.zuul.model import Build

__all__ = ["build_page", "enqueued_pipelines", "parse_builds", "status_index", "telling_build"]

StatusIndex = Mapping[tuple[int, int], tuple[str, ...]]


def _change_id(value: Any) -> tuple[int, int] | None:
    """"1234,2" -> (1234, 2); None for refs and branch heads (no change number)."""
    if not isinstance(value, str) or "," not in value:
        return None
    number, _, patchset = value.partition(",")
    try:
        return int(number), int(patchset)
    except ValueError:
        return None


def _items(pipeline: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for queue in pipeline.get("change_queues") or ():
        for head in queue.get("heads") or ():
            for item in head or ():
                if isinstance(item, Mapping):
                    yield item


def _item_changes(item: Mapping[str, Any]) -> list[tuple[int, int]]:
    changes = item.get("changes")
    if isinstance(changes, list):  # Zuul >= 10
        found = [_change_id(c.get("id")) for c in changes if isinstance(c, Mapping)]
    else:
        found = [_change_id(item.get("id"))]
    return [c for c in found if c is not None]


def status_index(status: Mapping[str, Any]) -> dict[tuple[int, int], tuple[str, ...]]:
    """(change, patchset) -> the pipelines it is live in, in the status' order."""
    index: dict[tuple[int, int], list[str]] = {}
    for pipeline in status.get("pipelines") or ():
        if not isinstance(pipeline, Mapping):
            continue
        name = str(pipeline.get("name", ""))
        for item in _items(pipeline):
            if item.get("live") is False:
                continue
            for key in _item_changes(item):
                names = index.setdefault(key, [])
                if name not in names:
                    names.append(name)
    return {key: tuple(names) for key, names in index.items()}


def enqueued_pipelines(index: StatusIndex, change: int,
                       patchset: int | None = None) -> tuple[str, ...]:
    """The pipelines holding this change (this patch set, when given)."""
    if patchset is not None:
        return index.get((change, patchset), ())
    names: list[str] = []
    for (number, _), pipelines in index.items():
        if number == change:
            names += [p for p in pipelines if p not in names]
    return tuple(names)


def build_page(base_url: str, tenant: str, uuid: str) -> str:
    """The build's page in Zuul's web UI."""
    return f"{base_url.rstrip('/')}/t/{tenant}/build/{uuid}"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def parse_builds(data: Any, base_url: str, tenant: str) -> tuple[Build, ...]:
    """A builds answer as `Build`s, in Zuul's order (newest first). Entries that are
    not builds (no uuid) are skipped rather than failing the whole answer."""
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise ValueError(f"expected a list of builds, got {type(data).__name__}")
    builds: list[Build] = []
    for entry in data:
        if not isinstance(entry, Mapping) or not entry.get("uuid"):
            continue
        ref = entry.get("ref")
        where: Mapping[str, Any] = ref if isinstance(ref, Mapping) else entry
        buildset = entry.get("buildset")
        pipeline = entry.get("pipeline") or (
            buildset.get("pipeline") if isinstance(buildset, Mapping) else "") or ""
        duration = entry.get("duration")
        buildset_uuid = buildset.get("uuid") if isinstance(buildset, Mapping) else None
        builds.append(Build(
            uuid=str(entry["uuid"]), job=str(entry.get("job_name", "")),
            result=entry.get("result") or None, pipeline=str(pipeline),
            change=_int(where.get("change")), patchset=_int(where.get("patchset")),
            voting=bool(entry.get("voting", True)),
            url=build_page(base_url, tenant, str(entry["uuid"])),
            buildset=str(buildset_uuid) if buildset_uuid else None,
            log_url=entry.get("log_url") or None, start_time=entry.get("start_time"),
            end_time=entry.get("end_time"),
            duration=float(duration) if isinstance(duration, int | float) else None))
    return tuple(builds)


def telling_build(builds: Sequence[Build]) -> Build | None:
    """The build that tells how the latest run (buildset) ended: its first failed voting
    build, else its newest build. `builds` are newest first, as Zuul lists them."""
    if not builds:
        return None
    newest = builds[0]
    run = [b for b in builds if b.buildset == newest.buildset] if newest.buildset else [newest]
    failed = [b for b in run if b.voting and b.result not in (None, "SUCCESS", "SKIPPED")]
    return failed[-1] if failed else newest  # the oldest failure: the first to break
