"""announce: Gerrit events to IRC channels, gerritbot's job without its defects.

Channels are configured in `announcements.yaml` (gerritbot's format, read as-is;
see config.py and docs/announcements.md). For each event, every channel
whose projects, branches and events match gets one `Say` in gerritbot's style:
one line, ending with the change URL.

What differs from gerritbot, on purpose:
- vote filters match modern label names and only votes this event *changed*
  (`oldValue`), so a reviewer's repeated +2 is not announced on every comment;
- abandoned, restored, hashtags, topic, WIP and private-state changes are announced;
- tags are announced only in channels whose projects match (gerritbot sent every
  tag to every channel listing ref-updated); branch pushes are never announced;
- text coming from users is stripped of IRC formatting, CTCP and line breaks, and
  clipped so that a line always fits and always keeps its URL;
- private changes are never announced (the bot's account may see them; a channel may not).

The plugin stays pure: batching a burst for one channel is the IRC reporter's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from govbot.actions import Action, Say
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigSection
from govbot.gerrit.events import (
    Account,
    Approval,
    Change,
    ChangeAbandoned,
    ChangeEvent,
    ChangeMerged,
    ChangeRestored,
    CommentAdded,
    HashtagsChanged,
    PatchsetCreated,
    PrivateStateChanged,
    RefUpdated,
    TopicChanged,
    WipStateChanged,
)
from govbot.plugin import Handler, Plugin, PluginContext

from .config import (
    ANNOUNCEMENTS_FILE,
    EMPTY,
    AnnounceConfig,
    Channel,
    parse_announcements,
)
from .settings import AnnounceSettings

#: Subjects longer than this are clipped: Gerrit allows a pasted paragraph as a subject.
MAX_SUBJECT = 100
#: Topics, hashtag lists, branch and tag names: free text in the middle of a line.
MAX_NAME = 60
#: IRC allows 512 bytes per line, including ":nick!user@host PRIVMSG #channel :" and
#: CRLF; 400 leaves room for long hostnames and channel names.
MAX_LINE_BYTES = 400
#: However long the rest of a line is, a subject keeps at least this much.
MIN_SUBJECT_BYTES = 40
ELLIPSIS = "..."

# mIRC colours take digits after \x03 (and hex after \x04): drop them with the code,
# or "\x0304,12" would leave "04,12" in the text.
_COLOUR = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9A-Fa-f]{6}(?:,[0-9A-Fa-f]{6})?)?")
# Anything that would end the IRC line early, or start a second one.
_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
# C0/C1 controls: bold \x02, reset \x0f, reverse \x16, italics \x1d, underline \x1f,
# CTCP \x01, ...; plus the bidi overrides that can make a line read backwards.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None) -> str:
    """User-controlled text made safe for one IRC line: no formatting, CTCP or breaks."""
    if not text:
        return ""
    if text.isprintable():  # no controls, breaks or bidi overrides: the common case
        return " ".join(text.split())
    text = _COLOUR.sub("", text)
    text = _BREAKS.sub(" ", text)
    text = _CONTROLS.sub("", text)
    return " ".join(text.split())


def clip(text: str, max_chars: int, max_bytes: int | None = None) -> str:
    """Shorten to `max_chars` characters and `max_bytes` UTF-8 bytes, on a word if cheap."""
    limit = max_bytes if max_bytes is not None else 4 * max_chars
    if len(text) <= max_chars and len(text.encode()) <= limit:
        return text
    head = text[:max(max_chars - len(ELLIPSIS), 0)]
    while head and len(head.encode()) + len(ELLIPSIS) > limit:
        head = head[:-1]
    space = head.rfind(" ")
    if space >= len(head) * 2 // 3 and space > 0:  # end on a word when that loses little
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def who(account: Account | None) -> str:
    return clip(clean(account.display), MAX_NAME) if account is not None else "someone"


def change_line(head: str, change: Change, url: str, state: str = "") -> str:
    """'<head> <project> <branch>[ <state>]: <subject>  <url>', fitted to one IRC line.

    The URL is never clipped: it is the point of the announcement.
    """
    where = f"{clean(change.project)} {clip(clean(change.branch), MAX_NAME)}"
    lead = f"{head} {where}{' ' + state if state else ''}: "
    tail = f"  {url}"
    budget = MAX_LINE_BYTES - len(lead.encode()) - len(tail.encode())
    subject = clip(clean(change.subject), MAX_SUBJECT, max(budget, MIN_SUBJECT_BYTES))
    return f"{lead}{subject}{tail}"


def _names(items: Sequence[str]) -> str:
    return clip(", ".join(clean(i) for i in items), MAX_NAME)


# One renderer per change event: (event, url) -> the line, or None for nothing to say.

def _patchset(event: PatchsetCreated, url: str) -> str:
    ps = event.patch_set
    if ps is None or ps.number <= 1:
        verb = "proposed"
    elif ps.kind in ("TRIVIAL_REBASE", "MERGE_FIRST_PARENT_UPDATE"):
        verb = "rebased"  # tells the channel nothing changed that needs a new review
    else:
        verb = "updated"
    uploader = event.uploader or (ps.uploader if ps is not None else None)
    return change_line(f"{who(uploader)} {verb}", event.change, url)


def _merged(event: ChangeMerged, url: str) -> str:
    return change_line("Merged", event.change, url)


def _abandoned(event: ChangeAbandoned, url: str) -> str:
    return change_line(f"{who(event.abandoner)} abandoned", event.change, url)


def _restored(event: ChangeRestored, url: str) -> str:
    return change_line(f"{who(event.restorer)} restored", event.change, url)


def _hashtags(event: HashtagsChanged, url: str) -> str | None:
    added, removed = event.added, event.removed
    if added and removed:
        what = f"added hashtags {_names(added)} and removed hashtags {_names(removed)} on"
    elif added:
        what = f"added hashtags {_names(added)} to"
    elif removed:
        what = f"removed hashtags {_names(removed)} from"
    else:
        return None
    return change_line(f"{who(event.editor)} {what}", event.change, url)


def _topic(event: TopicChanged, url: str) -> str | None:
    old = clip(clean(event.old_topic), MAX_NAME)
    new = clip(clean(event.change.topic), MAX_NAME)
    if old and new:
        what = f"changed topic from {old} to {new} on"
    elif new:
        what = f"set topic {new} on"
    elif old:
        what = f"removed topic {old} from"
    else:
        return None
    return change_line(f"{who(event.changer)} {what}", event.change, url)


def _wip(event: WipStateChanged, url: str) -> str:
    state = "work in progress" if event.change.wip else "ready for review"
    return change_line(f"{who(event.changer)} marked", event.change, url, state)


def _private(event: PrivateStateChanged, url: str) -> str:
    state = "private" if event.change.private else "public"
    return change_line(f"{who(event.changer)} marked", event.change, url, state)


_RENDERERS: dict[type[ChangeEvent], Callable[[Any, str], str | None]] = {
    PatchsetCreated: _patchset, ChangeMerged: _merged, ChangeAbandoned: _abandoned,
    ChangeRestored: _restored, HashtagsChanged: _hashtags, TopicChanged: _topic,
    WipStateChanged: _wip, PrivateStateChanged: _private,
}


def comment_line(event: CommentAdded, votes: Sequence[Approval], url: str) -> str:
    """'bob voted Code-Review-2 Verified-1 on ...', or 'bob commented on ...'."""
    if votes:
        said = " ".join(f"{clean(a.type)}{a.value:+d}" for a in votes)
        return change_line(f"{who(event.author)} voted {said} on", event.change, url)
    return change_line(f"{who(event.author)} commented on", event.change, url)


def tag_line(event: RefUpdated, tag: str) -> str:
    return (f"tag {clip(clean(tag), MAX_NAME)} pushed to {clean(event.project)} "
            f"by {who(event.submitter)}")


def is_own_comment(event: CommentAdded) -> bool:
    """Comments the bot posted carry `autogenerated:govbot:<plugin>`.

    Gerrit's stream does not expose a comment's tag today, so this only works once
    an event source supplies one; the dispatcher's own-account filter is what
    actually keeps the bot's reviews from being echoed.
    """
    tag = getattr(event, "tag", None)
    return isinstance(tag, str) and tag.startswith("autogenerated:govbot")


class AnnouncePlugin(Plugin):
    name = "announce"
    settings_type = AnnounceSettings
    emits = (Say,)

    def __init__(self) -> None:
        self._routes: tuple[AnnounceConfig, dict[tuple[str, str, str], list[Channel]]] | None
        self._routes = None

    def handlers(self) -> Mapping[type, Handler]:
        # Listed one by one so the dispatcher never calls us for reviewer-added and
        # the other events nobody announces.
        found: dict[type, Handler] = {cls: self.on_change for cls in _RENDERERS}
        found[CommentAdded] = self.on_comment
        found[RefUpdated] = self.on_ref
        return found

    def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
        # gerritbot's table answers "no channel" for a project by itself: a channel
        # listens to an event name and lists projects (branches are checked per event).
        name = getattr(event_type, "type_name", None)
        if not isinstance(name, str) or event_type not in self.handlers():
            return True
        return any(c.projects.matches(project) for c in self._config(ctx).listening(name))

    def config_sections(self) -> Sequence[ConfigSection]:
        return [ConfigSection(ANNOUNCEMENTS_FILE, parse_announcements,
                              description="IRC channels and the Gerrit events they hear about")]

    def irc_channels(self, config: GovernanceConfig) -> Iterable[str]:
        found = config.section(self.name)
        return [c.name for c in found.channels] if isinstance(found, AnnounceConfig) else ()

    def _config(self, ctx: PluginContext) -> AnnounceConfig:
        found = ctx.config.section(self.name)
        return found if isinstance(found, AnnounceConfig) else EMPTY

    def _channels(self, event: ChangeEvent, ctx: PluginContext) -> list[Channel]:
        change = event.change
        # The bot's account may see private changes; the channel must not.
        if change.private and not isinstance(event, PrivateStateChanged):
            return []
        config = self._config(ctx)
        if self._routes is None or self._routes[0] is not config:
            self._routes = (config, {})
        # Routing depends only on these three: remembered per loaded config.
        key = (event.type_name, change.project, change.branch)
        found = self._routes[1].get(key)
        if found is None:
            found = [c for c in config.listening(event.type_name)
                     if c.routes(change.project, change.branch)]
            if len(self._routes[1]) < 100_000:
                self._routes[1][key] = found
        return found

    async def on_change(self, event: ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        channels = self._channels(event, ctx)
        if not channels:
            return ()
        text = _RENDERERS[type(event)](event, change_url(event.change, ctx))
        if text is None:
            return ()
        # batch: a burst about one change is sent as one line (see the IRC reporter)
        return [Say(target=c.name, text=text, priority=False, batch=event.change.key)
                for c in channels]

    async def on_comment(self, event: CommentAdded, ctx: PluginContext) -> Sequence[Action]:
        if is_own_comment(event):
            return ()
        channels = self._channels(event, ctx)
        if not channels:
            return ()
        # Only votes this comment changed: the list repeats the author's other votes.
        changed = tuple(a for a in event.approvals if a.changed)
        texts: dict[tuple[tuple[str, int], ...], str] = {}
        actions: list[Action] = []
        for channel in channels:
            if "comment-added" in channel.events:
                votes = changed
                if not votes and not event.text.strip():
                    continue  # a repeated vote with no words: nothing happened
            else:
                votes = tuple(a for a in changed if any(f.matches(a) for f in channel.votes))
                if not votes:
                    continue
            key = tuple((a.type, a.value) for a in votes)
            if key not in texts:
                texts[key] = comment_line(event, votes, change_url(event.change, ctx))
            actions.append(Say(target=channel.name, text=texts[key], priority=False,
                               batch=event.change.key))
        return actions

    async def on_ref(self, event: RefUpdated, ctx: PluginContext) -> Sequence[Action]:
        update = event.ref_update
        ref = update.full_ref
        # Only new tags: branch pushes duplicate change-merged, and a deleted or moved
        # tag is an admin's repair, not news.
        if not ref.startswith("refs/tags/") or not update.created:
            return ()
        project = event.project
        channels = [c for c in self._config(ctx).listening("ref-updated")
                    if c.routes(project, None)]
        if not channels:
            return ()
        text = tag_line(event, ref.removeprefix("refs/tags/"))
        return [Say(target=c.name, text=text, priority=False) for c in channels]


def change_url(change: Change, ctx: PluginContext) -> str:
    """Gerrit sends `url` when its canonicalWebUrl is set; else the operator's setting."""
    if change.url:
        return clean(change.url)
    base = ctx.settings_as(AnnounceSettings).gerrit_url.rstrip("/")
    if base:
        return f"{base}/c/{clean(change.project)}/+/{change.number}"
    return f"{clean(change.project)}~{change.number}"
