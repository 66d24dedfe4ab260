"""The three minutes documents (HTML minutes, text minutes, HTML log), built as strings.

They were Jinja2 templates; compiling those three took ~75 ms of every `govbot
minutes` process and importing Jinja2 ~20 ms more, a quarter of its 0.4 s budget
(issue #18). So they are Python here, each a function of a ready `Page`, and the
output is byte for byte what the templates gave (tests/meetings/data holds minutes
rendered by the templates; the tests compare). The web pages stay Jinja2 templates
(web.py): a long-running server compiles them once.

Escaping is explicit: every participant string meets markup through `escape`
(markupsafe's, as Jinja's autoescape applied it: `&<>"'`) or `links_html` (URLs
made links, the rest escaped); a raw value never does. The text minutes are wrapped
at 72 columns, continuations indented, as MeetBot wraps them.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Item
    from .votes import VoteResult

WRAP = 72  # MeetBot's text minutes width
_URL = re.compile(r"\b(?:(?:https?|ftp|ircs?|ssh)://|mailto:)[^\s<>\"'`\x00-\x1f\x7f]+",
                  re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_FORMATTING = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]")


def escape(text: object) -> str:
    """markupsafe.escape as a plain str (`&#34;`, `&#39;`: what the templates wrote)."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def html_escape(text: str) -> str:
    """html_escape(text, quote=True), without importing `html` (and its table of
    entities: a few ms of every `govbot minutes` start)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def clean(text: str) -> str:
    """`text` without IRC formatting codes (bold, colours)."""
    return _FORMATTING.sub("", text)


def wrap(text: str, indent: int = 0) -> str:
    """MeetBot's `wrapList`: `text` at `indent`, continuations two further in, 72 wide;
    words (URLs) are never broken."""
    if len(text) + indent <= WRAP and text.isprintable() and text and text == text.strip():
        return " " * indent + text  # what TextWrapper gives a line that fits, 20x faster
    return textwrap.TextWrapper(width=WRAP, initial_indent=" " * indent,
                                subsequent_indent=" " * (indent + 2),
                                break_long_words=False, break_on_hyphens=False).fill(text)


def links_html(text: str) -> str:
    """`text` escaped (`html_escape`), its http(s)/ftp/irc/ssh/mailto URLs made links with
    the URL escaped again inside the attribute."""
    if not text.isprintable():
        text = clean(text)
    if "://" not in text and "mailto:" not in text.lower():  # the common case, fast
        return html_escape(text)
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        out.append(html_escape(text[pos:match.start()]))
        escaped = html_escape(url)
        out.append(f'<a href="{escaped}" rel="nofollow">{escaped}</a>')
        pos = match.start() + len(url)
    out.append(html_escape(text[pos:]))
    return "".join(out)


def clock(when: dt.datetime) -> str:
    """`HH:MM:SS` in UTC (an f-string: strftime costs ~15 µs a call here)."""
    t = when.astimezone(dt.UTC)
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


@dataclass(frozen=True, slots=True)
class Group:
    """A topic of the minutes and the items under it (None: before the first topic)."""

    topic: Item | None
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """What the documents say, gathered by render.render."""

    title: str
    owner: str
    chairs: Sequence[str]
    start: str  # HH:MM:SS UTC
    end: str | None  # None: still in progress
    log_html: str  # the files' names, linked relative (they sit side by side)
    log_txt: str
    minutes_txt: str
    minutes_html: str
    log_url: str  # the text minutes' link to the log: absolute when published
    groups: Sequence[Group]
    actions: Sequence[Item]
    people: Sequence[tuple[str, Sequence[Item]]]
    unassigned: Sequence[Item]
    present: Sequence[tuple[str, int]]
    votes: Sequence[VoteResult]
    log_lines: str  # the HTML log's lines, already escaped (render._log_lines)


_MINUTES_HEAD = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 1em auto; }}
.details {{ font-size: smaller; color: #555; }}
.TOPIC {{ font-weight: bold; }}
.AGREED, .ACCEPTED {{ color: #060; }}
.REJECTED, .FAILED {{ color: #900; }}
.INCONCLUSIVE {{ color: #960; }}
.GAP {{ color: #900; font-weight: bold; }}
.ACTION {{ color: #039; }}
.itemtype {{ font-style: italic; }}
table.vote td, table.vote th {{ padding: 0 .6em; text-align: left; vertical-align: top; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Meeting started by {owner} at {start} UTC
(<a href="{log}">full logs</a>).</p>

<h3>Meeting summary</h3>
<ol>
"""


def minutes_html(page: Page) -> str:
    """The HTML minutes (MeetBot's `.html`)."""
    log = escape(page.log_html)
    out = [_MINUTES_HEAD.format(title=escape(page.title), owner=escape(page.owner),
                                start=escape(page.start), log=log)]
    add = out.append

    def details(item: Item) -> str:
        return (f'<span class="details">(<a href="{log}#l-{item.line}">'
                f"{escape(item.nick or 'log')}</a>, {clock(item.time)})</span>")

    for group in page.groups:
        add("<li>")
        if group.topic is not None:
            add(f'<span class="TOPIC">{links_html(group.topic.text)}</span>\n  '
                f"{details(group.topic)}")
        else:
            add("<i>Before the first topic</i>")
        add("\n")
        if group.items:
            add('<ol type="a">\n')
            for item in group.items:
                kind = escape(item.kind)
                add(f'  <li><i class="itemtype">{kind}</i>: <span class="{kind}">'
                    f"{links_html(item.text)}</span>\n    {details(item)}</li>\n")
            add("</ol>\n")
        add("</li>\n")
    ended = f"Meeting ended at {escape(page.end)} UTC" if page.end else (
        "Meeting still in progress")
    add(f'</ol>\n<p>{ended} (<a href="{log}">full logs</a>).</p>\n\n')
    if page.votes:
        add("<h3>Votes</h3>\n<ol>\n")
        for vote in page.votes:
            bound = bool(vote.body)
            add(f"<li><b>{links_html(vote.question)}</b>")
            if bound:
                add(f' <span class="details">(bound to '
                    f"{escape(vote.body_name or vote.body)})</span>")
            add('\n<table class="vote">\n<tr><th>option</th><th>votes</th><th>voters</th>')
            add("<th>non-binding</th></tr>\n" if bound else "</tr>\n")
            for count in vote.counts:
                add(f"<tr><td>{escape(count.option)}</td><td>{len(count.voters)}</td>"
                    f"<td>{escape(', '.join(count.voters))}</td>")
                add(f"<td>{escape(', '.join(count.non_binding))}</td></tr>\n" if bound
                    else "</tr>\n")
            add("</table>\n")
            if vote.result:
                add(f'<p class="result"><b>{escape(vote.verdict)}</b></p>')
            add("</li>\n")
        add("</ol>\n")
    add("\n<h3>Action items</h3>\n<ol>\n")
    for item in page.actions:
        add(f"  <li>{links_html(item.text)}</li>\n")
    if not page.actions:
        add("  <li>(none)</li>\n")
    add("</ol>\n\n<h3>Action items, by person</h3>\n<ol>\n")
    for nick, items in page.people:
        add(f"  <li>{escape(nick)}\n  <ol>\n")
        for item in items:
            add(f"    <li>{links_html(item.text)}</li>\n")
        add("  </ol>\n  </li>\n")
    add("  <li><b>UNASSIGNED</b>\n  <ol>\n")
    for item in page.unassigned:
        add(f"    <li>{links_html(item.text)}</li>\n")
    if not page.unassigned:
        add("    <li>(none)</li>\n")
    add("  </ol>\n  </li>\n</ol>\n\n<h3>People present (lines said)</h3>\n<ol>\n")
    for nick, said in page.present:
        add(f"  <li>{escape(nick)} ({said})</li>\n")
    text = escape(page.minutes_txt)
    add(f'</ol>\n\n<p class="details">Generated by govbot (MeetBot compatible). Chairs: '
        f'{escape(", ".join(page.chairs))}.\nText: <a href="{text}">{text}</a>.</p>\n'
        "</body>\n</html>\n")
    return "".join(out)


def minutes_txt(page: Page) -> str:
    """The text minutes (MeetBot's `.txt`)."""
    rule = "=" * len(page.title)
    out = [f"{rule}\n{page.title}\n{rule}\n\n\n",
           wrap(f"Meeting started by {page.owner} at {page.start} UTC.  The full logs are "
                f"available at {page.log_url} ."),
           "\n\n\n\nMeeting summary\n---------------\n"]
    add = out.append
    for group in page.groups:
        if group.topic is not None:
            topic = group.topic
            add(wrap(f"* {clean(topic.text)}  ({topic.nick}, {clock(topic.time)})") + "\n")
        else:
            add("* (before the first topic)\n")
        for item in group.items:
            by = f"{item.nick}, " if item.nick else ""
            add(wrap(f"* {item.kind}: {clean(item.text)}  ({by}{clock(item.time)})", 2) + "\n")
        add("\n")
    add(f"Meeting ended at {page.end} UTC.\n" if page.end else "Meeting still in progress.\n")
    if page.votes:
        add("\n\n\nVotes\n-----\n")
        for vote in page.votes:
            add(wrap(f"* {clean(vote.question)}"))
            if vote.body:
                add(f"  (bound to {vote.body_name or vote.body})")
            add("\n")
            for count in vote.counts:
                voters = f": {', '.join(count.voters)}" if count.voters else ""
                add(wrap(f"* {count.option} ({len(count.voters)}){voters}", 2) + "\n")
            if vote.non_binding:
                add(wrap(f"* Non-binding: {vote.non_binding}", 2) + "\n")
            if vote.result:
                add(wrap(f"* {vote.verdict}", 2) + "\n")
    add("\n\n\nAction items\n------------\n")
    for item in page.actions:
        add(wrap(f"* {clean(item.text)}") + "\n")
    if not page.actions:
        add("* (none)\n")
    add("\n\n\nAction items, by person\n-----------------------\n")
    for nick, items in page.people:
        add(f"* {nick}\n")
        for item in items:
            add(wrap(f"* {clean(item.text)}", 2) + "\n")
    add("* UNASSIGNED\n")
    for item in page.unassigned:
        add(wrap(f"* {clean(item.text)}", 2) + "\n")
    if not page.unassigned:
        add("  * (none)\n")
    add("\n\n\nPeople present (lines said)\n---------------------------\n")
    for nick, said in page.present:
        add(f"* {nick} ({said})\n")
    add("\n\n\nGenerated by govbot (MeetBot compatible)\n")
    return "".join(out)


_LOG = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} (log)</title>
<style>
body {{ font-family: monospace; }}
pre {{ white-space: pre-wrap; }}
a.t {{ color: #888; text-decoration: none; }}
.nick {{ color: #039; font-weight: bold; }}
.bot .nick {{ color: #666; }}
.event, .notice {{ color: #777; }}
.cmd {{ font-weight: bold; }}
.topic {{ font-weight: bold; font-size: larger; }}
:target {{ background: #ffc; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p><a href="{minutes}">Minutes</a> · <a href="{text}">plain text</a></p>
<pre>
"""


def log_html(page: Page) -> str:
    """The HTML log (MeetBot's `.log.html`), one anchored line per line said."""
    head = _LOG.format(title=escape(page.title), minutes=escape(page.minutes_html),
                       text=escape(page.log_txt))
    return f"{head}{page.log_lines}\n</pre>\n</body>\n</html>\n"


#: (extension, document) of the files render.render writes from a Page.
DOCUMENTS: tuple[tuple[str, Callable[[Page], str]], ...] = (
    ("html", minutes_html), ("txt", minutes_txt), ("log.html", log_html))
