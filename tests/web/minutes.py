"""The minutes of one example meeting, rendered by the meetings plugin from a raw log
(its `govbot minutes` recovery path: the same files `#endmeeting` writes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from govbot.actions import WriteMinutes

DAY = dt.date(2026, 11, 19)
LOG = """\
[16:00:01] <ada> #startmeeting example_tc
[16:00:20] <ada> #topic the 2027 cycle goals
[16:01:02] <bruno_o> I think we should adopt them this week
[16:02:00] <ada> #agreed adopt the 2027 cycle goals as proposed
[16:02:30] <ada> #action bruno_o to announce the goals on the mailing list
[16:03:00] <chiara> sounds good to me, the zebrafish example is fine
[16:04:00] <ada> #endmeeting
"""


def example_minutes(out_dir: Path) -> WriteMinutes:
    from govbot.plugins.meetings.recovery import recover

    return recover(LOG, "example.log.txt", out_dir, channel="#example-tc", date=DAY)
