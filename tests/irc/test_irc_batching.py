"""Merging a burst of announcements about one change into one line."""

from __future__ import annotations

import pytest

from govbot.irc.reporter import merge

URL = "https://review.example.org/c/nova/+/42"


@pytest.mark.parametrize(("texts", "merged"), [
    ([f"alice proposed nova master: Fix it  {URL}"], f"alice proposed nova master: Fix it  {URL}"),
    ([f"alice proposed nova master: Fix it  {URL}",
      f"bob voted Code-Review+1 on nova master: Fix it  {URL}"],
     f"alice proposed; bob voted Code-Review+1 on nova master: Fix it  {URL}"),
    ([f"Merged nova master: Fix it  {URL}", f"Merged nova master: Fix it  {URL}"],
     f"Merged nova master: Fix it  {URL}"),
    (["tag 1.0 pushed", "something else entirely"], "tag 1.0 pushed | something else entirely"),
])
def test_merge(texts: list[str], merged: str) -> None:
    assert merge(texts) == merged
