"""Minutes in MeetBot's four formats, rendered from a folded meeting.

`meetings/<name>/<YYYY>/<name>.<YYYY-MM-DD-HH.MM>.{html,txt,log.html,log.txt}` — the
layout communities already link to. HTML escapes everything a participant typed, and
URLs become links only for MeetBot's schemes (http(s), ftp, irc(s), ssh, mailto), with
the URL escaped again inside the attribute: nothing a participant types can add markup
or a `javascript:` link. The text minutes are wrapped at 72 columns, continuations
indented, as MeetBot wraps them. IRC formatting codes (bold, colours) are dropped.

The documents are built in `documents.py` (they were Jinja2 templates, whose
compilation cost every `govbot minutes` process ~75 ms); the log's lines, which
number in the tens of thousands, are formatted here in `_log_lines` with
`html_escape` (html.escape's escaping) on every participant string. Rendering is
pure (strings in, strings out); writing the files is the minutes reporter's job
(`govbot.minutes`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from .documents import DOCUMENTS, Group, Page, clean, clock, html_escape, links_html, wrap
from .model import Item, LogLine, Meeting
from .votes import VoteResult

__all__ = ["EXTENSIONS", "actions_by_person", "basename", "clean", "linkify", "links",
           "render", "url_warning", "vote_lines", "wrap"]

EXTENSIONS = ("html", "txt", "log.html", "log.txt")
_COMMAND = re.compile(r"(#\w+)(.*)", re.DOTALL)
_NICK_CHARS = r"A-Za-z0-9_\-\[\]\\^{}|`"


def basename(meeting: Meeting, suffix: str | None = None) -> str:
    """`meetings/<name>/<YYYY>/<name>.<YYYY-MM-DD-HH.MM>` (no extension), in UTC, then
    the meeting's `minutes_suffix` (or `suffix`), only when two meetings would clash."""
    start = (meeting.started or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    name = meeting.name
    end = meeting.minutes_suffix if suffix is None else suffix
    return f"meetings/{name}/{start:%Y}/{name}.{start:%Y-%m-%d-%H.%M}{end}"


def links(meeting: Meeting, url_base: str, suffix: str | None = None) -> dict[str, str]:
    base = url_base.rstrip("/") + "/" if url_base else ""
    stem = basename(meeting, suffix)
    return {ext: f"{base}{stem}.{ext}" for ext in EXTENSIONS}


def url_warning(url_base: str) -> str | None:
    """Why `minutes_url` is probably wrong, or None: the paths already start with
    `meetings/`, so a base ending in `/meetings` publishes `.../meetings/meetings/...`."""
    if url_base.rstrip("/").lower().endswith("/meetings"):
        return (f"minutes_url {url_base!r} ends in /meetings, and the minutes' paths "
                "start with meetings/: the URLs said and written will be "
                f"{url_base.rstrip('/')}/meetings/...; set minutes_url to the directory "
                "above it unless that is really where they are published")
    return None


def linkify(text: str) -> str:
    """`text` escaped, its http(s)/ftp URLs made links (documents.links_html)."""
    return links_html(text)


def _log_lines(lines: Iterable[LogLine], bot_nick: str) -> tuple[list[str], list[str]]:
    """Both logs, one line each per LogLine: (text lines, HTML lines).

    A 10,000-line log is formatted here rather than in a template loop (a Jinja
    loop with autoescaped fields costs ~10x more). Every participant string goes
    through `_html` (html.escape's escaping, quotes too) or `_log_link` before it
    meets markup.
    """
    text_out: list[str] = []
    html_out: list[str] = []
    nicks: dict[str, str] = {}  # nick -> escaped: a log has a few dozen speakers
    for line in lines:
        t = line.time
        clock = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        kind = line.kind
        nick = line.nick or (bot_nick if kind == "bot" else "")
        said = line.text if line.text.isprintable() else clean(line.text)
        n = line.n
        head = f'<span id="l-{n}" class="{kind}"><a class="t" href="#l-{n}">{clock}</a> '
        escaped = nicks.get(nick)
        if escaped is None:
            escaped = nicks[nick] = _html(nick)
        if kind == "action":
            text_out.append(f"{clock} * {nick} {said}")
            html_out.append(f'{head}* <span class="nick">{escaped}</span> '
                            f"{_log_link(said)}</span>")
        elif kind == "notice":
            text_out.append(f"{clock} -{nick}- {said}")
            html_out.append(f'{head}-<span class="nick">{escaped}</span>- '
                            f"{_log_link(said)}</span>")
        elif kind == "event":
            text_out.append(f"{clock} *** {said}")
            html_out.append(f"{head}*** {_log_link(said)}</span>")
        else:
            text_out.append(f"{clock} <{nick}> {said}")
            body = _log_link(said)
            if kind == "msg" and said.startswith("#"):
                command = _COMMAND.match(said)
                if command:
                    css = "topic" if command.group(1).lower() == "#topic" else "cmd"
                    body = f'<span class="{css}">{body}</span>'
            html_out.append(f'{head}&lt;<span class="nick">{escaped}</span>&gt; '
                            f"{body}</span>")
    return text_out, html_out


def _html(text: str) -> str:
    return html_escape(text)


def _log_link(text: str) -> str:
    if "://" not in text and "mailto:" not in text and "MAILTO:" not in text:
        return _html(text)
    return links_html(text)


def _groups(items: Iterable[Item]) -> list[Group]:
    groups: list[Group] = []
    current: Item | None = None
    pending: list[Item] = []
    for item in items:
        if item.kind == "TOPIC":
            if current is not None or pending:
                groups.append(Group(current, tuple(pending)))
            current, pending = item, []
        else:
            pending.append(item)
    if current is not None or pending:
        groups.append(Group(current, tuple(pending)))
    return groups


def actions_by_person(meeting: Meeting) -> tuple[list[tuple[str, list[Item]]], list[Item]]:
    """Each attendee's actions (their nick as a whole word, any case), and the rest.

    MeetBot matched nicks as substrings and dropped an unassigned item when it was
    the only one; here every action is either someone's or UNASSIGNED.
    """
    actions = [i for i in meeting.items if i.kind == "ACTION"]
    assigned: set[int] = set()
    people: list[tuple[str, list[Item]]] = []
    for nick in sorted((n for n, _ in meeting.attendees()), key=str.lower):
        names = "|".join(re.escape(n) for n in (nick, meeting.aliases.get(nick)) if n)
        pattern = re.compile(rf"(?<![{_NICK_CHARS}])(?:{names})(?![{_NICK_CHARS}])",
                             re.IGNORECASE)
        mine = [a for a in actions if pattern.search(a.text)]
        if mine:
            people.append((nick, mine))
            assigned.update(id(a) for a in mine)
    return people, [a for a in actions if id(a) not in assigned]


def render(meeting: Meeting, *, bot_nick: str = "govbot", url_base: str = "",
           now: dt.datetime | None = None) -> dict[str, str]:
    """Relative path -> content, for the four formats."""
    stem = basename(meeting)
    short = stem.rsplit("/", 1)[-1]
    start = meeting.started or now or dt.datetime.now(dt.UTC)
    end = meeting.ended
    people, unassigned = actions_by_person(meeting)
    log_txt, log_html = _log_lines(meeting.lines, bot_nick)
    page = Page(
        title=(f"{meeting.channel}: {clean(meeting.meeting_topic)}" if meeting.meeting_topic
               else f"{meeting.channel} Meeting"),
        owner=meeting.owner_nick, chairs=meeting.chair_nicks(),
        start=_stamp(start), end=_stamp(end) if end else None,
        # The HTML links relative (the files sit side by side); the text minutes give
        # MeetBot's absolute URL when the operator says where they are published.
        log_html=f"{short}.log.html", log_txt=f"{short}.log.txt",
        minutes_txt=f"{short}.txt", minutes_html=f"{short}.html",
        log_url=links(meeting, url_base)["log.html"] if url_base else f"{short}.log.html",
        groups=_groups(meeting.items),
        actions=[i for i in meeting.items if i.kind == "ACTION"],
        people=people, unassigned=unassigned,
        present=meeting.attendees(), votes=meeting.votes(),
        log_lines="\n".join(log_html))
    files = {f"{stem}.{ext}": document(page) for ext, document in DOCUMENTS}
    # The text log is the lines themselves (MeetBot's .log.txt).
    files[f"{stem}.log.txt"] = "".join(line + "\n" for line in log_txt)
    return files


def _stamp(when: dt.datetime) -> str:
    # MeetBot's "Meeting started by X at 21:21:12 UTC" (its test_lateEnd reads it);
    # the date is in the file name and the title.
    return clock(when)


def vote_lines(vote: VoteResult) -> list[str]:
    """A vote as plain lines (text minutes and Gerrit comments)."""
    lines = [f"{c.option} ({len(c.voters)}): {', '.join(c.voters)}".rstrip(": ")
             for c in vote.counts]
    if vote.non_binding:
        lines.append(f"Non-binding: {vote.non_binding}")
    if vote.verdict:
        lines.append(vote.verdict)
    return lines

