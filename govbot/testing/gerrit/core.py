"""The emulator's state and every state transition that does not need git.

Each mutation updates the model, appends a change message where Gerrit writes one, moves
the change's NoteDb meta ref (``refs/changes/NN/N/meta``; its ref-updated event is the
noise real Gerrit streams) and publishes the matching event. Both the Python API and the
REST server call these, so they behave identically. Errors are :class:`GerritError` with
Gerrit's HTTP status and text.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from govbot.testing.gerrit.bus import EventBus
from govbot.testing.gerrit.events import Event, EventFactory
from govbot.testing.gerrit.model import (
    ABANDONED,
    MERGED,
    NEW,
    REGISTERED_USERS,
    Account,
    Change,
    Group,
    Message,
    PatchSet,
    Project,
    Vote,
    format_vote,
    permitted_range,
    sha1_hex,
)

AccountRef = Account | str | int


class GerritError(Exception):
    """A failure as Gerrit reports it: HTTP ``status`` and the plain-text ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass
class Settings:
    """Behaviour switches; all may be flipped at runtime by tests."""

    #: Emit the older wire variants (string numbers, ``project`` object, bare branch names).
    legacy_events: bool = False
    #: Emit ref-updated for ``refs/changes/NN/N/meta`` on every change mutation (NoteDb noise).
    meta_ref_events: bool = True
    #: Gerrit's ``change.strictLabels``: unknown labels / invalid values are 400, not ignored.
    strict_labels: bool = True
    #: Votes on a non-current patch set: "record" (Gerrit >= 3.7) or "reject" (409).
    outdated_votes: str = "record"
    #: Gerrit's ``change.commentSizeLimit``.
    comment_size_limit: int = 16384
    server_ident: tuple[str, str] = ("Gerrit Code Review", "gerrit@example.com")

    def __post_init__(self) -> None:
        if self.outdated_votes not in ("record", "reject"):
            raise ValueError(f"outdated_votes must be 'record' or 'reject', "
                             f"not {self.outdated_votes!r}")


class GerritCore:
    def __init__(self, clock: Callable[[], float], url_base: Callable[[], str],
                 settings: Settings) -> None:
        self.clock = clock
        self.settings = settings
        self.accounts: dict[int, Account] = {}
        self.groups: dict[str, Group] = {}
        self.projects: dict[str, Project] = {}
        self.changes: dict[int, Change] = {}
        self.bus = EventBus()
        self.factory = EventFactory(self.accounts, self.projects, url_base, clock)
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------- lookups
    def account(self, ref: AccountRef) -> Account:
        if isinstance(ref, Account):
            return ref
        found = self.find_account(str(ref))
        if found is None:
            raise GerritError(404, f"Account '{ref}' not found")
        return found

    def find_account(self, text: str) -> Account | None:
        """By account id, username, email or full name, as Gerrit resolves accounts."""
        if text.isdigit() and int(text) in self.accounts:
            return self.accounts[int(text)]
        for acc in self.accounts.values():
            if text in (acc.username, acc.email, acc.name):
                return acc
        return None

    def group_names_of(self, account_id: int) -> set[str]:
        """Groups an account is in, directly or through included groups."""
        names = {REGISTERED_USERS}
        names.update(g.name for g in self.groups.values() if account_id in g.members)
        grew = True
        while grew:  # a group that includes a group the account is in also contains it
            grew = False
            for g in self.groups.values():
                if g.name not in names and any(i in names for i in g.includes):
                    names.add(g.name)
                    grew = True
        return names

    def group_members(self, group: Group, recursive: bool) -> list[Account]:
        ids = set(group.members)
        if recursive:
            seen, todo = {group.name}, list(group.includes)
            while todo:
                sub = self.groups.get(todo.pop())
                if sub and sub.name not in seen:
                    seen.add(sub.name)
                    ids |= sub.members
                    todo.extend(sub.includes)
        return [self.accounts[i] for i in sorted(ids)]

    def permitted(self, change_or_project: Change | Project, label: str,
                  account_id: int) -> tuple[int, int] | None:
        project = (change_or_project if isinstance(change_or_project, Project)
                   else self.projects[change_or_project.project])
        return permitted_range(project, label, self.group_names_of(account_id))

    def visible(self, change: Change, account_id: int | None) -> bool:
        """Private changes are visible only to their owner and reviewers."""
        if not change.private:
            return True
        return account_id is not None and (account_id == change.owner
                                           or account_id in change.reviewers)

    def new_id(self) -> int:
        return next(self._ids)

    # ----------------------------------------------------------------- emission
    def emit(self, event: Event) -> None:
        self.bus.publish(event)

    def emit_ref_updated(self, project: str, refname: str, old: str, new: str,
                         who: int | None) -> None:
        self.emit(self.factory.ref_updated(project, refname, old, new, who))

    def touch(self, change: Change, actor: int | None) -> None:
        """Record a NoteDb update of ``change``: bump lastUpdated and its meta ref."""
        change.last_updated = self.clock()
        old, change.meta_rev = change.meta_rev, sha1_hex(change.meta_rev, self.new_id())
        if self.settings.meta_ref_events:
            self.emit_ref_updated(change.project, change.meta_ref, old, change.meta_rev, actor)

    def add_message(self, change: Change, author: int | None, text: str, tag: str | None,
                    ps_number: int | None = None) -> Message:
        msg = Message(id=sha1_hex("msg", change.number, self.new_id()), author=author,
                      date=self.clock(), message=text,
                      revision_number=ps_number or change.current.number, tag=tag)
        change.messages.append(msg)
        return msg

    def change_event(self, type_: str, change: Change, fields: Mapping[str, Any], *,
                     patch_set: PatchSet | None = None, with_patch_set: bool = True) -> None:
        self.emit(self.factory.change_event(type_, change, fields, patch_set=patch_set,
                                            with_patch_set=with_patch_set))

    # ----------------------------------------------------------------- review
    def review(self, change: Change, account: AccountRef, *,
               labels: Mapping[str, int | str] | None = None, message: str | None = None,
               tag: str | None = None, patch_set: int | None = None,
               check_permissions: bool = True, ready: bool = False,
               work_in_progress: bool = False) -> dict[str, int]:
        """Gerrit's Set Review: validate like PostReview, record votes and message, emit
        comment-added. Returns the labels as applied (ReviewResult.labels)."""
        acc = self.account(account)
        project = self.projects[change.project]
        try:
            ps = change.patch_set(patch_set) if patch_set else change.current
        except KeyError:
            raise GerritError(404, f"Not found: {patch_set}") from None
        applied = self._check_labels(change, project, acc, labels or {}, check_permissions)
        if ready and work_in_progress:
            raise GerritError(400, "work_in_progress and ready are mutually exclusive")
        text = (message or "").strip()
        size = len(text.encode("utf-16-le")) // 2  # Java String.length()
        if size > self.settings.comment_size_limit:
            raise GerritError(400, "One or more comments were rejected in validation: Comment "
                              f"size exceeds limit ({size} > {self.settings.comment_size_limit})")
        outdated = ps.number != change.current.number
        if outdated and applied and self.settings.outdated_votes == "reject":
            raise GerritError(409, f"cannot vote on outdated patch set {ps.number}")

        votes = change.votes_on(ps.number)
        current = {name: by[acc.account_id].value for name, by in votes.items()
                   if acc.account_id in by and name in project.labels}
        # Like PostReviewOp.updateLabels: every project label, current vote as default.
        wanted = {name: 0 for name in project.labels} | current | applied
        new_values: dict[str, int] = {}
        old_values: dict[str, int | None] = {}
        delta: list[str] = []
        for name, value in wanted.items():
            prev = current.get(name)
            new_values[name] = value
            old_values[name] = None
            if value == 0:
                if prev:
                    old_values[name] = prev
                    delta.append(f"-{name}")
            elif prev != value:
                old_values[name] = prev or 0
                delta.append(f"{name}{format_vote(value)}")
        changed = [n for n in wanted if old_values[n] is not None]
        labels_phase = bool(applied) or change.is_open
        if changed and not change.is_open:
            self._check_post_submit(change, project, changed, old_values, new_values)

        now = self.clock()
        for name in changed:
            if new_values[name] == 0:
                votes.get(name, {}).pop(acc.account_id, None)
            else:
                votes.setdefault(name, {})[acc.account_id] = Vote(
                    acc.account_id, name, new_values[name], now, tag)
        if any(new_values[n] for n in changed):
            change.reviewers[acc.account_id] = "REVIEWER"
        elif acc.account_id not in change.reviewers and acc.account_id != change.owner:
            change.reviewers[acc.account_id] = "CC"

        body = "".join(f" {d}" for d in delta) + (f"\n\n{text}" if text else "")
        wip_changed = (ready and change.wip) or (work_in_progress and not change.wip)
        if body or changed or wip_changed:
            self.touch(change, acc.account_id)
        if wip_changed:
            self._set_wip_state(change, acc, not change.wip, emit_touch=False)
        if body:
            comment = f"Patch Set {ps.number}:{body}"
            self.add_message(change, acc.account_id, comment, tag, ps.number)
            approvals = self.factory.approvals(change, new_values if labels_phase else {},
                                               old_values)
            self.change_event("comment-added", change, {
                "author": self.factory.account(acc.account_id), "approvals": approvals,
                "comment": comment}, patch_set=ps)
        return applied

    def _check_labels(self, change: Change, project: Project, acc: Account,
                      labels: Mapping[str, int | str], check_permissions: bool) -> dict[str, int]:
        applied: dict[str, int] = {}
        strict = self.settings.strict_labels
        for raw_name, raw_value in labels.items():
            label = project.labels.get(raw_name) or next(
                (lb for lb in project.labels.values() if lb.name.lower() == raw_name.lower()),
                None)
            try:
                value = int(raw_value)
            except (TypeError, ValueError):
                raise GerritError(400, "Invalid JSON input") from None
            if label is None:
                if strict:
                    raise GerritError(400, f'label "{raw_name}" is not a configured label')
                continue
            if value == 0:  # Gerrit always permits 0: it removes the vote
                applied[label.name] = 0
                continue
            if value not in label.values:
                if strict:
                    raise GerritError(400, f'label "{raw_name}": {value} is not a valid value')
                continue
            if check_permissions:
                rng = self.permitted(project, label.name, acc.account_id)
                if rng is None or not rng[0] <= value <= rng[1]:
                    raise GerritError(
                        403, f'Applying label "{label.name}": {value} is restricted')
            applied[label.name] = value
        return applied

    def _check_post_submit(self, change: Change, project: Project, changed: list[str],
                           old: Mapping[str, int | None], new: Mapping[str, int]) -> None:
        if change.status != MERGED:
            raise GerritError(409, "change is closed")
        disallowed = sorted(n for n in changed if not project.labels[n].allow_post_submit)
        if disallowed:
            raise GerritError(409, "Voting on labels disallowed after submit: "
                              + ", ".join(disallowed))
        reduced = sorted(n for n in changed if (old[n] or 0) > new[n])
        if reduced:
            raise GerritError(409, "Cannot reduce vote on labels for closed change: "
                              + ", ".join(reduced))

    # ----------------------------------------------------------------- simple mutations
    def _require_open(self, change: Change) -> None:
        if not change.is_open:
            raise GerritError(409, f"change is {change.status.lower()}")

    def set_topic(self, change: Change, account: AccountRef, topic: str | None) -> None:
        acc = self.account(account)
        old, new = change.topic, (topic or None)
        if old == new:
            return
        change.topic = new
        if not old:
            summary = f"Topic set to {new}"
        elif not new:
            summary = f"Topic {old} removed"
        else:
            summary = f"Topic changed from {old} to {new}"
        self.add_message(change, acc.account_id, summary, "autogenerated:gerrit:setTopic")
        self.touch(change, acc.account_id)
        self.change_event("topic-changed", change, {
            "changer": self.factory.account(acc.account_id), "oldTopic": old},
            with_patch_set=False)

    def set_hashtags(self, change: Change, account: AccountRef, add: Iterable[str] = (),
                     remove: Iterable[str] = ()) -> list[str]:
        acc = self.account(account)
        current = set(change.hashtags)
        to_add = sorted({h.strip().lstrip("#") for h in add} - current - {""})
        to_remove = sorted({h.strip().lstrip("#") for h in remove} & current)
        if not to_add and not to_remove:
            return list(change.hashtags)
        change.hashtags = sorted((current | set(to_add)) - set(to_remove))
        self.touch(change, acc.account_id)
        # StreamEventsApiListener.hashArray: empty lists become null, so they are absent.
        self.change_event("hashtags-changed", change, {
            "editor": self.factory.account(acc.account_id), "added": to_add or None,
            "removed": to_remove or None, "hashtags": list(change.hashtags) or None},
            with_patch_set=False)
        return list(change.hashtags)

    def set_wip(self, change: Change, account: AccountRef, wip: bool) -> None:
        acc = self.account(account)
        self._require_open(change)
        if change.wip != wip:
            self._set_wip_state(change, acc, wip, emit_touch=True)

    def _set_wip_state(self, change: Change, acc: Account, wip: bool, *,
                       emit_touch: bool) -> None:
        change.wip = wip
        if not wip:
            change.review_started = True
        text, tag = (("Set Work In Progress", "autogenerated:gerrit:setWorkInProgress") if wip
                     else ("Set Ready For Review", "autogenerated:gerrit:setReadyForReview"))
        self.add_message(change, acc.account_id, text, tag)
        if emit_touch:
            self.touch(change, acc.account_id)
        self.change_event("wip-state-changed", change,
                          {"changer": self.factory.account(acc.account_id)})

    def set_private(self, change: Change, account: AccountRef, private: bool) -> None:
        acc = self.account(account)
        if change.private == private:
            return
        change.private = private
        text = "Set private" if private else "Unset private"
        tag = "autogenerated:gerrit:setPrivate" if private else "autogenerated:gerrit:unsetPrivate"
        self.add_message(change, acc.account_id, text, tag)
        self.touch(change, acc.account_id)
        self.change_event("private-state-changed", change,
                          {"changer": self.factory.account(acc.account_id)})

    def add_reviewer(self, change: Change, account: AccountRef, reviewer: AccountRef,
                     state: str = "REVIEWER") -> None:
        acc, rev = self.account(account), self.account(reviewer)
        if change.reviewers.get(rev.account_id) == state:
            return
        change.reviewers[rev.account_id] = state
        self.touch(change, acc.account_id)
        if state == "REVIEWER":  # Gerrit has no event for CCs
            self.emit_reviewer_added(change, acc, rev)

    def emit_reviewer_added(self, change: Change, adder: Account, reviewer: Account) -> None:
        self.change_event("reviewer-added", change, {
            "reviewer": self.factory.account(reviewer.account_id),
            "adder": self.factory.account(adder.account_id)})

    def remove_reviewer(self, change: Change, account: AccountRef, reviewer: AccountRef) -> None:
        acc, rev = self.account(account), self.account(reviewer)
        if rev.account_id not in change.reviewers:
            raise GerritError(404, f"Not found: {rev.username}")
        del change.reviewers[rev.account_id]
        votes = change.votes_on()
        removed = {name: by.pop(rev.account_id).value for name, by in votes.items()
                   if rev.account_id in by}
        text = f"Removed reviewer {rev.name}"
        if removed:
            text += " with the following votes:\n\n" + "".join(
                f"* {n}{format_vote(v)} by {rev.name} <{rev.email}>\n" for n, v in removed.items())
        else:
            text += "."
        self.add_message(change, acc.account_id, text, "autogenerated:gerrit:deleteReviewer")
        self.touch(change, acc.account_id)
        self.change_event("reviewer-deleted", change, {
            "reviewer": self.factory.account(rev.account_id),
            "remover": self.factory.account(acc.account_id),
            "approvals": self.factory.approvals(change, dict.fromkeys(removed, 0),
                                                dict(removed)),
            "comment": text})

    def delete_vote(self, change: Change, account: AccountRef, reviewer: AccountRef,
                    label: str) -> None:
        acc, rev = self.account(account), self.account(reviewer)
        votes = change.votes_on()
        if rev.account_id not in votes.get(label, {}):
            raise GerritError(404, f"Not found: {label}")
        old = votes[label].pop(rev.account_id).value
        mine = {n: by[rev.account_id].value for n, by in votes.items() if rev.account_id in by}
        mine[label] = 0
        text = f"Removed {label}{format_vote(old)} by {rev.name} <{rev.email}>\n"
        self.add_message(change, acc.account_id, text, "autogenerated:gerrit:deleteVote")
        self.touch(change, acc.account_id)
        self.change_event("vote-deleted", change, {
            "reviewer": self.factory.account(rev.account_id),
            "remover": self.factory.account(acc.account_id),
            "approvals": self.factory.approvals(change, mine, {label: old}),
            "comment": text})

    def abandon(self, change: Change, account: AccountRef, reason: str = "") -> None:
        acc = self.account(account)
        self._require_open(change)
        change.status = ABANDONED
        self.add_message(change, acc.account_id, "Abandoned" + (f"\n\n{reason}" if reason else ""),
                         "autogenerated:gerrit:abandon")
        self.touch(change, acc.account_id)
        self.change_event("change-abandoned", change, {
            "abandoner": self.factory.account(acc.account_id), "reason": reason})

    def restore(self, change: Change, account: AccountRef, reason: str = "") -> None:
        acc = self.account(account)
        if change.status != ABANDONED:
            raise GerritError(409, f"change is {change.status.lower()}")
        change.status = NEW
        self.add_message(change, acc.account_id, "Restored" + (f"\n\n{reason}" if reason else ""),
                         "autogenerated:gerrit:restore")
        self.touch(change, acc.account_id)
        self.change_event("change-restored", change, {
            "restorer": self.factory.account(acc.account_id), "reason": reason})

    def delete_change(self, change: Change, account: AccountRef) -> None:
        acc = self.account(account)
        if change.status == MERGED:
            raise GerritError(409, f"Change {change.number} has been merged")
        event = self.factory.change_event("change-deleted", change, {
            "deleter": self.factory.account(acc.account_id)}, with_patch_set=False)
        del self.changes[change.number]
        self.emit(event)

    # ----------------------------------------------------------------- git-backed records
    def record_patch_set(self, change: Change, ps: PatchSet, *, new_change: bool) -> None:
        """A patch set (already committed and its ref created) enters the model."""
        previous = change.current if change.patch_sets else None
        change.patch_sets.append(ps)
        if previous is not None:
            self._copy_votes(change, previous.number, ps)
        if new_change:
            self.changes[change.number] = change
        self.emit_ref_updated(change.project, ps.ref, "0" * 40, ps.revision, ps.uploader)
        text = f"Uploaded patch set {ps.number}."
        self.add_message(change, ps.uploader, text, "autogenerated:gerrit:newPatchSet", ps.number)
        self.touch(change, ps.uploader)
        self.change_event("patchset-created", change,
                          {"uploader": self.factory.account(ps.uploader)}, patch_set=ps)

    def _copy_votes(self, change: Change, prev_number: int, ps: PatchSet) -> None:
        project = self.projects[change.project]
        for name, by in change.votes_on(prev_number).items():
            label = project.labels.get(name)
            if label and ps.kind in label.copy_kinds and by:
                change.votes_on(ps.number)[name] = dict(by)

    def record_merge(self, change: Change, submitter: AccountRef, old_tip: str,
                     new_tip: str) -> None:
        acc = self.account(submitter)
        change.status = MERGED
        change.submitter = acc.account_id
        change.submitted = self.clock()
        self.add_message(change, acc.account_id,
                         f"Change has been successfully merged by {acc.name}",
                         "autogenerated:gerrit:merged")
        self.touch(change, acc.account_id)
        self.emit_ref_updated(change.project, change.refname, old_tip, new_tip, acc.account_id)
        self.change_event("change-merged", change, {
            "submitter": self.factory.account(acc.account_id), "newRev": new_tip})
