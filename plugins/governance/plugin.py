"""The governance plugin: an explained verdict on every governed change, as a vote.

On any event about a change it reads the change over REST (votes, files,
revisions), evaluates it against the merged rules (`governance_eval`), and
returns the verdict as a vote on the bot's own label with one message, plus a
wake-up for the moment the verdict could change with no new event (the end of a
waiting period). The Gerrit reporter posts a vote only when its fingerprint
changed, so re-evaluating often is cheap and never noisy.

Changes to the governance config repo itself are judged by the rules already
merged; in addition the proposed tree is loaded, and if it would not load the
verdict is blocked with every error listed. A proposal can never grant itself
power. When the config branch moves, the config is reloaded; when a new config
is in force, the open changes it governs are re-evaluated.

The web pages (`web/`: the board `/`, the verdict page `/change/<n>` and their JSON
API) read what the plugin remembers of each open change when it decides
(`summary.py`, a `Remember` under `change/<n>`, forgotten when the change closes), so
no page reads Gerrit. With `web.public_url` set, every message ends with a link to
the change's verdict page (after the fingerprint, like the CI line: moving the web
server never re-posts).

Other plugins get the changes waiting on votes through `govbot.offers.PendingVotes`
(`pending.py`), evaluated exactly as for the vote.

Operator settings (`plugins.settings.governance`, typed in settings.py): the label
voted on and its values, the Gerrit project and branch of the config repo, and
whether to add the missing voters as reviewers.

CI: a rule's `ci` requirement reads Zuul's vote and comments from the change (pure,
part of the verdict). When the context offers a CI reader (`ctx.ci`, Zuul's REST
API), a governed change whose rule requires CI also gets one line of what Zuul is
doing now ("CI: enqueued in gate"). That line is live state, not a decision: it is
left out of the fingerprint, so Zuul starting or finishing a run never re-posts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence

from govbot.actions import Action, AddReviewers, ReloadConfig, Remember, Vote, WakeAt
from govbot.config.model import GovernanceConfig
from govbot.config.sections import ConfigSection
from govbot.events import ConfigReloaded, Wakeup
from govbot.extensions import CliCommand, WebRoute
from govbot.gerrit import events as ev
from govbot.gerrit.changes import ChangeInfo, change_pages, read_change
from govbot.offers import PendingVotes
from govbot.plugin import Command, Handler, Plugin, PluginContext
from govbot.zuul.model import CiReader, CiStatus

from . import commands as governance_commands
from .ballot import PeopleIndex
from .change import ChangeState
from .ci import DEFAULT_CI, CiDefaults, ci_outcome, ci_requirements
from .cli import COMMANDS as CLI_COMMANDS
from .evaluate import evaluate
from .message import fingerprint as verdict_fingerprint
from .message import render
from .model import RulesConfig
from .parse import RULES_SECTION
from .pending import GovernancePending
from .settings import GovernanceSettings
from .summary import (
    ROW_PREFIX,
    board_row,
    digest,
    dumps,
    key_of,
    loads,
    row_key,
    summarize,
    with_history,
)
from .verdict import BLOCKED, PENDING, UNGOVERNED, Verdict

log = logging.getLogger(__name__)

CLOSING = (ev.ChangeMerged, ev.ChangeAbandoned, ev.ChangeDeleted)


class GovernancePlugin(Plugin):
    name = "governance"
    settings_type = GovernanceSettings
    emits = (Vote, WakeAt, AddReviewers, ReloadConfig, Remember)

    def __init__(self) -> None:
        # PeopleIndex per loaded config: rebuilt only when the config object changes.
        self._index: tuple[int, PeopleIndex] | None = None
        self._proposals: dict[tuple[int, int], tuple[str, ...]] = {}
        self._governs: tuple[GovernanceConfig, dict[str, bool]] | None = None
        # change number -> digest of the summary last remembered (None: forgotten), so
        # an evaluation that changes nothing writes nothing; a miss reads the state.
        self._remembered: dict[int, str | None] = {}

    def handlers(self) -> Mapping[type, Handler]:
        return {ev.ChangeEvent: self.on_change, ev.RefUpdated: self.on_ref,
                Wakeup: self.on_wakeup, ConfigReloaded: self.on_reload}

    def wants(self, event_type: type, project: str, ctx: PluginContext) -> bool:
        # Change events matter only on a project some rule or guard names (or the config
        # repo: proposals are checked); a ref update only on the config repo (a reload).
        if issubclass(event_type, ev.ChangeEvent):
            return self._may_govern(project, ctx)
        if issubclass(event_type, ev.RefUpdated):
            return project == _config_repo(ctx)[0]
        return True

    def config_sections(self) -> Sequence[ConfigSection]:
        return [RULES_SECTION]

    def cli_commands(self) -> Sequence[CliCommand]:
        return CLI_COMMANDS  # `govbot status`, `govbot tally`

    def web_routes(self) -> Sequence[WebRoute]:
        from .web.routes import routes  # Jinja2 is loaded only by a bot that serves pages

        return routes(_rules, self._people)

    def commands(self) -> Sequence[Command]:
        offered: list[Command] = governance_commands.commands(_rules, self._people)
        return offered

    def offers(self) -> Mapping[type, object]:
        """The pending votes, for the reminders' digest (docs/reminders.md)."""
        return {PendingVotes: GovernancePending(_rules, self._people)}

    # -- events ---------------------------------------------------------------------
    async def on_change(self, event: ev.ChangeEvent, ctx: PluginContext) -> Sequence[Action]:
        if isinstance(event, CLOSING):
            # A wake-up left for a closed change finds it closed and does nothing, so
            # there is no need to cancel it on every merge (one action per event saved).
            # Its summary leaves the board.
            if not self._may_govern(event.change.project, ctx):
                return ()
            return await self._forget(event.change.number, ctx)
        if isinstance(event, ev.ReviewerAdded | ev.ReviewerDeleted) and not event.change.wip:
            return ()  # reviewers do not change a verdict; skip the REST read
        if not self._may_govern(event.change.project, ctx):
            return ()  # no rule, guard or config check can apply: skip the REST read
        return await self.judge(event.change.key, ctx, lane=event.lane)

    async def on_wakeup(self, event: Wakeup, ctx: PluginContext) -> Sequence[Action]:
        if event.plugin != self.name:
            return ()
        return await self.judge(event.key, ctx, lane=event.lane)

    async def on_ref(self, event: ev.RefUpdated, ctx: PluginContext) -> Sequence[Action]:
        project, branch = _config_repo(ctx)
        if project and event.project == project \
                and event.ref_update.full_ref == f"refs/heads/{branch}":
            return [ReloadConfig(reason=f"{project} {branch} moved to "
                                        f"{event.ref_update.new_rev[:12]}")]
        return ()

    async def on_reload(self, event: ConfigReloaded, ctx: PluginContext
                        ) -> AsyncIterator[Action]:
        """A new config is in force: re-evaluate the open changes it could govern.

        A stream (an async generator): each change's actions are yielded as it is
        decided and the dispatcher reports them as they come, so memory is bounded by
        a page of changes, not by the thousands a reload reads."""
        rules = _rules(ctx.config)
        if rules is None:
            return
        # One read of the board rows: what is remembered of each change (so deciding an
        # unchanged one writes and reads nothing); rows of changes that closed while the
        # bot was away are dropped once every page of open changes has been seen. Only
        # their numbers are kept meanwhile, not the rows.
        stale: set[int] = set()
        for key, row in await ctx.state.items(ROW_PREFIX):
            number = int(key.removeprefix(ROW_PREFIX))
            stale.add(number)
            if isinstance(row, dict):
                self._remembered[number] = row.get("digest")
        count = 0
        async for page in change_pages(ctx.gerrit, "status:open", limit=20_000):
            for info in page:
                stale.discard(info.number)
                if not any(rule.select.projects.matches(info.project)
                           for rule in rules.rules):
                    continue
                change = ChangeState.from_change_info(info)
                # No live CI line here: one Zuul request per open change would turn a
                # reload into thousands of calls, and the line never changes a vote.
                for action in await self._decide(change, ctx, lane=f"change:{change.project}~"
                                                                   f"{change.number}",
                                                 info=info, live_ci=False):
                    count += 1
                    yield action
        for number in sorted(stale):
            self._remembered[number] = None
            count += 2
            yield Remember(key=key_of(number), value=None)
            yield Remember(key=row_key(number), value=None)
        log.info("config %s: re-evaluated open changes, %d action(s)",
                 event.new_revision[:12], count)

    # -- deciding -------------------------------------------------------------------
    async def judge(self, key: str, ctx: PluginContext, *, lane: str) -> Sequence[Action]:
        info = await read_change(ctx.gerrit, key)
        if info is None:
            return ()
        return await self._decide(ChangeState.from_change_info(info), ctx, lane=lane,
                                  info=info)

    async def _decide(self, change: ChangeState, ctx: PluginContext, *, lane: str,
                      info: ChangeInfo, live_ci: bool = True) -> Sequence[Action]:
        key = f"{change.project}~{change.number}"
        rules = _rules(ctx.config)
        if rules is None or change.status != "NEW":
            return ()
        reader = _ci_reader(ctx)
        verdict = evaluate(change, ctx.config, rules, ctx.now, people=self._people(ctx.config),
                           ci=_ci_defaults(reader))
        is_config = _is_config_change(change, ctx)
        errors = await self._proposal_errors(change, ctx, info) if is_config else ()
        if verdict.state == UNGOVERNED and not is_config:
            return ()
        settings = ctx.settings_as(GovernanceSettings)
        message = render(verdict)
        fingerprint = verdict_fingerprint(verdict, message)
        state = verdict.state
        if verdict.state == UNGOVERNED:
            # A config change no rule governs: it is only checked to load.
            state = "pending"
            message = ("Governance check: the proposed config loads cleanly. No rule governs "
                       f"changes to {change.project}, so approval is up to its reviewers.")
            fingerprint = "config-loads"
        if errors:
            state = BLOCKED
            listed = "\n".join(f"- {e}" for e in errors)
            message = (f"Governance check: BLOCKED — the proposed config does not load "
                       f"({len(errors)} error(s)):\n{listed}\n\n{message}")
            fingerprint = hashlib.sha256(
                (fingerprint + "\n" + listed).encode()).hexdigest()[:16]
        remember = await self._summary(verdict, change, info, rules, ctx, state=state,
                                       fingerprint=fingerprint, message=message)
        if ctx.public_url:
            message = f"{message}\n\nDetails: {ctx.public_url}/change/{change.number}"
        rule = rules.rule(verdict.rule) if verdict.rule else None
        needs_ci = list(ci_requirements(rule)) if rule is not None else []
        if live_ci and reader is not None and needs_ci:
            # The last build is worth a line only while Zuul's vote does not tell it.
            undecided = any(ci_outcome(req, change, _ci_defaults(reader))[0] == PENDING
                            for req in needs_ci)
            live = await _live_ci(reader, change, ctx, last_build=undecided)
            line = live.describe(last_build=undecided)
            if line:
                message = f"{message}\n\n{line}"  # after the fingerprint: see the docstring
        actions: list[Action] = [
            Vote(change=key, patchset=change.patchset,
                 labels={settings.label: settings.values.of(state)},
                 message=message, tag=f"autogenerated:govbot:{self.name}", notify="OWNER",
                 fingerprint=fingerprint),
            WakeAt(key=key, when=verdict.next_check, lane=lane),
            *remember,
        ]
        if settings.add_reviewers and verdict.missing:
            reviewers = _missing_usernames(verdict, ctx.config, info)
            if reviewers:
                actions.append(AddReviewers(change=key, reviewers=reviewers))
        return actions

    async def _summary(self, verdict: Verdict, change: ChangeState, info: ChangeInfo,
                       rules: RulesConfig, ctx: PluginContext, *, state: str,
                       fingerprint: str, message: str) -> list[Action]:
        """A `Remember` of the change's summary for the web pages, when it changed."""
        new = digest(fingerprint, state, change, info)
        if self._remembered.get(change.number) == new:
            return []
        previous = loads(await ctx.state.get(key_of(change.number)))
        if previous is not None and previous.get("digest") == new:
            self._remembered[change.number] = new
            return []
        summary = summarize(verdict, change, info, rules, self._people(ctx.config),
                            now=ctx.now, fingerprint=fingerprint, message=message,
                            ignore_labels=(ctx.settings_as(GovernanceSettings).label,))
        summary["state"] = state  # a config change's own check may differ from the rule's
        summary["digest"] = new
        if len(self._remembered) > 50_000:
            self._remembered.clear()  # a cache: a miss costs one state read
        self._remembered[change.number] = new
        summary = with_history(summary, previous)
        return [Remember(key=key_of(change.number), value=dumps(summary)),
                Remember(key=row_key(change.number), value=board_row(summary))]

    async def _forget(self, number: int, ctx: PluginContext) -> Sequence[Action]:
        known = self._remembered.get(number, "")
        if known is None:
            return ()
        if known == "" and await ctx.state.get(key_of(number)) is None:
            return ()  # never on the board: nothing to forget (most closed changes)
        self._remembered[number] = None
        return [Remember(key=key_of(number), value=None),
                Remember(key=row_key(number), value=None)]

    async def _proposal_errors(self, change: ChangeState, ctx: PluginContext,
                               info: ChangeInfo) -> Sequence[str]:
        """Why the proposed tree of `change`, a change of the config repo, would not load."""
        if ctx.proposals is None:
            return ()
        cached = self._proposals.get((change.number, change.patchset))
        if cached is not None:
            return cached  # a patch set's tree never changes: load it once
        revision = info.current
        ref = (revision.ref if revision is not None else None) or (
            f"refs/changes/{change.number % 100:02d}/{change.number}/{change.patchset}")
        try:
            errors = tuple(await ctx.proposals.check_ref(ref))
        except Exception as exc:  # a fetch failure must not pass the change silently
            log.exception("event %s: cannot load the proposed config %s", ctx.event_id, ref)
            return [f"{ref}: the proposed config could not be fetched ({exc})"]
        if len(self._proposals) > 1000:
            self._proposals.clear()
        self._proposals[(change.number, change.patchset)] = errors
        return errors

    def _may_govern(self, project: str, ctx: PluginContext) -> bool:
        """Whether any rule or guard names `project` (or it is the config repo);
        remembered per loaded config, since most events are about ungoverned projects."""
        config = ctx.config
        if self._governs is None or self._governs[0] is not config:
            self._governs = (config, {})
        known = self._governs[1]
        found = known.get(project)
        if found is None:
            rules = _rules(config)
            found = project == _config_repo(ctx)[0] or (rules is not None and (
                any(r.select.projects.matches(project) for r in rules.rules)
                or any(g.projects.matches(project) for g in rules.guards)))
            known[project] = found
        return found

    def _people(self, config: GovernanceConfig) -> PeopleIndex:
        if self._index is None or self._index[0] != id(config):
            self._index = (id(config), PeopleIndex.of(config.people))
        return self._index[1]


def _ci_reader(ctx: PluginContext) -> CiReader | None:
    # `ci` is an optional field of the context: absent from cores that predate it.
    return getattr(ctx, "ci", None)


def _ci_defaults(reader: CiReader | None) -> CiDefaults:
    if reader is None:
        return DEFAULT_CI
    return CiDefaults(label=reader.verified_label, account=reader.gerrit_username)


async def _live_ci(reader: CiReader, change: ChangeState, ctx: PluginContext, *,
                   last_build: bool) -> CiStatus:
    try:
        return await reader.ci_status(change.number, change.patchset, last_build=last_build)
    except Exception as exc:  # a reader must not raise; a third-party one might
        log.exception("event %s: the CI reader failed for %s~%d", ctx.event_id,
                      change.project, change.number)
        return CiStatus(known=False, error=str(exc))


def _rules(config: GovernanceConfig) -> RulesConfig | None:
    rules = config.section(GovernancePlugin.name)
    return rules if isinstance(rules, RulesConfig) else None


def _config_repo(ctx: PluginContext) -> tuple[str, str]:
    settings = ctx.settings_as(GovernanceSettings)
    return settings.config_project, settings.config_branch


def _is_config_change(change: ChangeState, ctx: PluginContext) -> bool:
    project, branch = _config_repo(ctx)
    return bool(project) and change.project == project and change.branch == branch


def _missing_usernames(verdict: Verdict, config: GovernanceConfig,
                       info: ChangeInfo) -> tuple[str, ...]:
    present = {r.username for r in info.reviewers.get("REVIEWER", ())}
    present.add(info.owner.username)  # Gerrit never adds the owner
    names = []
    for voter in verdict.missing:
        person = config.people.get(voter.person) if voter.person else None
        if person and person.gerrit_username and person.gerrit_username not in present:
            names.append(person.gerrit_username)
    return tuple(names)
