"""The stream's line reader and the coverage, below the SSH seam: lines of any size read
whole up to the maximum, longer ones counted and skipped; gaps kept in the state store."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from govbot.gerrit.coverage import MARGIN, CatchUp, Coverage
from govbot.gerrit.stream import StreamSource
from govbot.settings import GerritSsh
from govbot.state.store import StateStore


class NoReader:
    async def read(self, *args: object) -> int:
        raise AssertionError("not called")


def source(max_line: int, store: StateStore) -> StreamSource:
    async def accept(source: str, lines: object) -> None:
        return None
    ssh = GerritSsh(host="h", username="u", key_file="k")
    return StreamSource(ssh, accept, NoReader(), Coverage(store, "test"), max_line=max_line)


async def lines_of(stream: StreamSource, data: bytes, chunk: int) -> list[bytes]:
    reader = asyncio.StreamReader()
    for at in range(0, len(data), chunk):
        reader.feed_data(data[at:at + chunk])
    reader.feed_eof()
    return [line async for line in stream._lines(reader)]  # type: ignore[arg-type]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
async def test_lines_are_whole_and_long_ones_are_skipped(chunk: int) -> None:
    async with StateStore(":memory:") as store:
        stream = source(100, store)
        data = (b"a" * 100 + b"\n" + b"b" * 101 + b"\n\n" + b"c\n" + b"d" * 250 + b"\n"
                + b"tail-without-newline")
        assert await lines_of(stream, data, chunk) == [b"a" * 100, b"c"]
        assert stream.lines_too_long == 2


async def test_gaps_survive_a_restart_and_get_an_end_from_the_first_event(
        tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    async with StateStore(path) as store:
        coverage = Coverage(store, "gerrit")
        await coverage.restore()
        await coverage.begin_session()
        assert not coverage.gaps  # nothing seen yet: nothing to catch up
        await coverage.lines_arriving([b'{"type":"x","eventCreatedOn":1000}'])
        await coverage.lines_read([b'{"type":"x","eventCreatedOn":1000}',
                                   b'{"type":"dropped-output","eventCreatedOn":1010}'])
        assert [(g.start, g.end, g.reason) for g in coverage.gaps.values()] == \
            [(1000 - MARGIN, 1010 + MARGIN, "dropped-output")]
        coverage.end_session()
        await coverage.begin_session()  # a reconnect: open towards its first event
    async with StateStore(path) as store:
        coverage = Coverage(store, "gerrit")
        assert await coverage.restore() == 1010
        assert sorted((g.start, g.end) for g in coverage.gaps.values()) == \
            [(1000 - MARGIN, 1010 + MARGIN), (1010 - MARGIN, None)]
        await coverage.begin_session()  # still one open-ended gap, not two
        await coverage.lines_read([b'{"type":"x","eventCreatedOn":1100}'])
        assert sorted((g.start, g.end) for g in coverage.gaps.values()) == \
            [(1000 - MARGIN, 1010 + MARGIN), (1010 - MARGIN, 1100 + MARGIN)]
        assert coverage.oldest_unread == 1000 - MARGIN
        for gap in list(coverage.gaps.values()):
            await coverage.close(gap.id)
    async with StateStore(path) as store:
        coverage = Coverage(store, "gerrit")
        assert await coverage.restore() == 1100 and not coverage.gaps


class FlakyReader:
    """A gap reader that fails `failures` times, then reads; records what it was asked."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[int, int | None]] = []
        self.called = asyncio.Event()
        self.finished = asyncio.Event()  # set as each successful read returns

    async def read(self, start: int, end: Callable[[], int | None],
                   progress: Callable[[int], Awaitable[None]]) -> int:
        self.calls.append((start, end()))
        self.called.set()
        if self.failures:
            self.failures -= 1
            raise OSError("Gerrit is down")
        await progress(start + 1)
        self.finished.set()
        return 1


async def until(predicate: Callable[[], bool], event: asyncio.Event) -> None:
    async with asyncio.timeout(5):
        while not predicate():
            event.clear()
            await event.wait()


async def test_a_failing_gap_is_retried_until_read_and_an_open_one_waits_for_a_session(
        ) -> None:
    async with StateStore(":memory:") as store:
        coverage = Coverage(store, "gerrit")
        reader = FlakyReader(failures=3)
        catchup = CatchUp(coverage, reader, min_delay=0.001, max_delay=0.01)
        task = asyncio.create_task(catchup.run())
        try:
            await coverage.open(100, 200, "dropped-output")
            await until(lambda: not coverage.gaps, catchup.done)
            assert catchup.failures == 3 and catchup.reads == 1
            assert reader.calls == [(100, 200)] * 4
            # Open-ended and no session up: read, but kept until a session is up.
            gap = await coverage.open(300, None, "reconnect")
            await until(lambda: coverage.gaps[gap.id].start == 301, reader.finished)
            assert len(reader.calls) == 5 and gap.id in coverage.gaps  # progress is kept
            await coverage.begin_session()
            await until(lambda: not coverage.gaps, catchup.done)
            assert reader.calls[-1] == (301, None)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
