"""The minutes documents are built without Jinja2, byte for byte what its templates gave."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from govbot.plugins.meetings.documents import escape
from govbot.plugins.meetings.recovery import from_log
from govbot.plugins.meetings.render import render

DATA = Path(__file__).parent / "data"
#: A log with what the documents must escape and wrap (markup and quotes in the channel,
#: the meeting name, the topics, a body's name; URLs of every scheme; IRC formatting;
#: a long action item; a bound vote with a non-binding ballot and an unbound one; a
#: day rolled over) ...
RICH_LOG = DATA / "rich-2026-11-19.log.txt"
#: ... and its minutes as the Jinja2 templates rendered them (before documents.py),
#: ended and published, and in progress (its first 20 lines).
RICH_MINUTES = DATA / "rich-2026-11-19.minutes.json"


def test_the_documents_are_what_the_templates_rendered() -> None:
    log = RICH_LOG.read_text()
    expected = json.loads(RICH_MINUTES.read_text())
    day = dt.date(2026, 11, 19)
    full = from_log(log, day, channel="#tc<&>", bot_nick="govbot")
    assert full is not None and full.ended is not None
    assert render(full, url_base="https://meetings.example.org/") == expected["full"]
    part = from_log("".join(log.splitlines(True)[:20]), day, channel="#tc", bot_nick="govbot")
    assert part is not None and part.ended is None
    assert render(part, now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC)) == expected["in progress"]


def test_escape_is_markupsafes() -> None:
    from markupsafe import escape as markupsafe_escape

    text = """<a href="x">'&'</a> é"""
    assert escape(text) == str(markupsafe_escape(text)) == (
        "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt; é")


def test_recovering_minutes_imports_no_jinja2() -> None:
    code = ("import sys, datetime as dt; from govbot.plugins.meetings.recovery import recover; "
            f"recover(open({str(RICH_LOG)!r}).read(), 'x.log', __import__('pathlib').Path('.'), "
            "date=dt.date(2026, 11, 19)); print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
