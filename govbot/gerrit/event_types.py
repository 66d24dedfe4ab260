"""The typed Gerrit events: one frozen msgspec struct per type Gerrit documents.

Chosen by the ``type`` field (a msgspec tagged union, so one decode call builds the
whole typed tree); each class says what makes its event this event (`_key`, for the
id) and who caused it (`actor_fields`). Read them through `govbot.gerrit.events`,
which also holds the parser that accepts the variations real servers send.
"""

from __future__ import annotations

from typing import ClassVar, Union

import msgspec


class _Struct(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """gc=False: decoded events are frozen trees of strings, numbers and tuples, so they
    cannot form reference cycles, and the cyclic GC need not scan them. With thousands
    of events in flight that scanning was a third of the pipeline's CPU."""


class Account(_Struct, frozen=True, kw_only=True):
    name: str | None = None
    email: str | None = None
    username: str | None = None

    @property
    def display(self) -> str:
        return self.username or self.name or self.email or "unknown"


class NameRef(_Struct, frozen=True, kw_only=True):
    name: str


class Approval(_Struct, frozen=True, kw_only=True):
    """One vote. `value` and `old_value` are ints however Gerrit sent them: strings
    ("-1", "2") in the stream, ints over REST (lax decoding converts)."""

    type: str
    description: str | None = None
    value: int = 0
    old_value: int | None = msgspec.field(default=None, name="oldValue")
    by: Account | None = None
    granted_on: int | None = msgspec.field(default=None, name="grantedOn")

    @property
    def changed(self) -> bool:
        """True when this event changed this vote (Gerrit sends oldValue only then)."""
        return self.old_value is not None and self.old_value != self.value


class ChangeKey(_Struct, frozen=True, kw_only=True):
    """The Change-Id: `{"id": ...}` from stream-events, `{"key": ...}` from webhooks."""

    id: str | None = None
    key: str | None = None

    @property
    def value(self) -> str | None:
        return self.id or self.key


class Change(_Struct, frozen=True, kw_only=True):
    project: str
    branch: str
    number: int
    id: str | None = None
    topic: str | None = None
    subject: str = ""
    owner: Account | None = None
    url: str | None = None
    commit_message: str | None = msgspec.field(default=None, name="commitMessage")
    hashtags: tuple[str, ...] = ()
    created_on: int | None = msgspec.field(default=None, name="createdOn")
    last_updated: int | None = msgspec.field(default=None, name="lastUpdated")
    open: bool | None = None
    status: str | None = None
    wip: bool = False
    private: bool = False

    @property
    def key(self) -> str:
        """The REST identifier `project~number` (unencoded)."""
        return f"{self.project}~{self.number}"


class PatchSet(_Struct, frozen=True, kw_only=True):
    number: int
    revision: str = ""
    parents: tuple[str, ...] = ()
    ref: str | None = None
    uploader: Account | None = None
    author: Account | None = None
    created_on: int | None = msgspec.field(default=None, name="createdOn")
    kind: str | None = None
    size_insertions: int | None = msgspec.field(default=None, name="sizeInsertions")
    size_deletions: int | None = msgspec.field(default=None, name="sizeDeletions")


class RefUpdate(_Struct, frozen=True, kw_only=True):
    old_rev: str = msgspec.field(default="", name="oldRev")
    new_rev: str = msgspec.field(default="", name="newRev")
    ref_name: str = msgspec.field(default="", name="refName")
    project: str | NameRef = ""

    @property
    def project_name(self) -> str:
        return self.project if isinstance(self.project, str) else self.project.name

    @property
    def full_ref(self) -> str:
        """Some Gerrit versions send bare branch names in ref-updated."""
        return self.ref_name if self.ref_name.startswith("refs/") else f"refs/heads/{self.ref_name}"

    @property
    def created(self) -> bool:
        return self.old_rev == ZERO_SHA

    @property
    def deleted(self) -> bool:
        return self.new_rev == ZERO_SHA


ZERO_SHA = "0" * 40


class Event(_Struct, tag_field="type", frozen=True, kw_only=True):
    """Base of all Gerrit events. ``created_on`` is Gerrit's ``eventCreatedOn``."""

    created_on: int = msgspec.field(default=0, name="eventCreatedOn")

    #: Gerrit's `type` string; set on every concrete class.
    type_name: ClassVar[str] = ""
    #: The field(s) naming the account that caused the event, as Gerrit documents
    #: them per type (the first one set is the actor); set once per class, read by the
    #: one `actor` property below. Empty: no account (project-created, ...).
    actor_fields: ClassVar[tuple[str, ...]] = ()

    @property
    def lane(self) -> str:
        """Events sharing a lane are handled strictly in order."""
        return f"gerrit:{type(self).type_name}"

    @property
    def actor(self) -> Account | None:
        """The account that caused the event (the bot ignores its own)."""
        for name in self.actor_fields:
            account: Account | None = getattr(self, name)
            if account is not None:
                return account
        return None

    def _key(self) -> tuple[object, ...]:
        """What makes this event this event, its time aside; see `event_id`."""
        return (self.type_name, self.lane)

    @property
    def identity_time(self) -> int:
        """The event's time to the second, for its id: `eventCreatedOn`, or (when a
        webhook or a backfill left it out) the time the event's own data gives."""
        return self.created_on


def _who(account: Account | None) -> str | None:
    return None if account is None else account.username or account.email or account.name


def _changed_votes(approvals: tuple[Approval, ...]) -> list[tuple[str, int]]:
    """The votes an event changed (Gerrit marks them with `oldValue`), in a stable order.

    The author's other current votes are left out: the stream lists them as they were
    then, a REST backfill as they are now.
    """
    return sorted((a.type, a.value) for a in approvals if a.old_value is not None)


class ChangeEvent(Event, frozen=True, kw_only=True):
    """An event about one change. Most carry ``patchSet`` too."""

    change: Change
    project_field: str | NameRef | None = msgspec.field(default=None, name="project")
    ref_name: str | None = msgspec.field(default=None, name="refName")
    change_key: ChangeKey | None = msgspec.field(default=None, name="changeKey")
    patch_set: PatchSet | None = msgspec.field(default=None, name="patchSet")

    @property
    def project(self) -> str:
        p = self.project_field
        if p is None:
            return self.change.project
        return p if isinstance(p, str) else p.name

    @property
    def lane(self) -> str:
        return f"change:{self.change.project}~{self.change.number}"

    def _key(self) -> tuple[object, ...]:
        # What the event says about the change, nothing about how it was serialised
        # or how much of the change the source chose to include (topic, status...).
        c = self.change
        return (self.type_name, c.project, c.number,
                self.patch_set.number if self.patch_set else None, _who(self.actor),
                self._details())

    def _details(self) -> object:
        return None

    @property
    def identity_time(self) -> int:
        if self.created_on:
            return self.created_on
        # `lastUpdated` is the time of the update this event reports.
        if self.change.last_updated:
            return self.change.last_updated
        if isinstance(self, PatchsetCreated) and self.patch_set and self.patch_set.created_on:
            return self.patch_set.created_on
        return 0


class PatchsetCreated(ChangeEvent, tag="patchset-created", frozen=True, kw_only=True):
    type_name = "patchset-created"
    actor_fields = ("uploader",)
    uploader: Account | None = None


class CommentAdded(ChangeEvent, tag="comment-added", frozen=True, kw_only=True):
    type_name = "comment-added"
    actor_fields = ("author",)
    author: Account | None = None
    approvals: tuple[Approval, ...] = ()
    comment: str = ""

    def _details(self) -> object:
        return (self.comment, _changed_votes(self.approvals))

    @property
    def text(self) -> str:
        """The comment without Gerrit's `Patch Set N: <votes>` header."""
        head, sep, rest = self.comment.partition("\n\n")
        if head.startswith("Patch Set ") and sep:
            return rest
        if head.startswith("Patch Set ") and not sep:
            return ""
        return self.comment


class ChangeMerged(ChangeEvent, tag="change-merged", frozen=True, kw_only=True):
    type_name = "change-merged"
    actor_fields = ("submitter",)
    submitter: Account | None = None
    new_rev: str | None = msgspec.field(default=None, name="newRev")


class ChangeAbandoned(ChangeEvent, tag="change-abandoned", frozen=True, kw_only=True):
    type_name = "change-abandoned"
    actor_fields = ("abandoner",)
    abandoner: Account | None = None
    reason: str | None = None


class ChangeRestored(ChangeEvent, tag="change-restored", frozen=True, kw_only=True):
    type_name = "change-restored"
    actor_fields = ("restorer",)
    restorer: Account | None = None
    reason: str | None = None


class ChangeDeleted(ChangeEvent, tag="change-deleted", frozen=True, kw_only=True):
    type_name = "change-deleted"
    actor_fields = ("deleter",)
    deleter: Account | None = None


class ReviewerAdded(ChangeEvent, tag="reviewer-added", frozen=True, kw_only=True):
    type_name = "reviewer-added"
    actor_fields = ("adder",)
    reviewer: Account | None = None
    adder: Account | None = None

    def _details(self) -> object:
        return _who(self.reviewer)


class ReviewerDeleted(ChangeEvent, tag="reviewer-deleted", frozen=True, kw_only=True):
    type_name = "reviewer-deleted"
    actor_fields = ("remover",)
    reviewer: Account | None = None
    remover: Account | None = None
    approvals: tuple[Approval, ...] = ()
    comment: str = ""

    def _details(self) -> object:
        return (_who(self.reviewer), _changed_votes(self.approvals))


class VoteDeleted(ChangeEvent, tag="vote-deleted", frozen=True, kw_only=True):
    type_name = "vote-deleted"
    actor_fields = ("remover",)
    reviewer: Account | None = None
    remover: Account | None = None
    approvals: tuple[Approval, ...] = ()
    comment: str = ""

    def _details(self) -> object:
        return (_who(self.reviewer), _changed_votes(self.approvals))


class TopicChanged(ChangeEvent, tag="topic-changed", frozen=True, kw_only=True):
    type_name = "topic-changed"
    actor_fields = ("changer",)
    changer: Account | None = None
    old_topic: str | None = msgspec.field(default=None, name="oldTopic")

    def _details(self) -> object:
        return (self.change.topic, self.old_topic)


class HashtagsChanged(ChangeEvent, tag="hashtags-changed", frozen=True, kw_only=True):
    type_name = "hashtags-changed"
    actor_fields = ("editor",)
    editor: Account | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()

    def _details(self) -> object:
        return (self.added, self.removed)


class CustomKeyedValuesChanged(ChangeEvent, tag="custom-keyed-values-changed", frozen=True,
                               kw_only=True):
    type_name = "custom-keyed-values-changed"
    actor_fields = ("editor",)
    editor: Account | None = None
    added: dict[str, str] = msgspec.field(default_factory=dict)
    removed: tuple[str, ...] = ()
    custom_keyed_values: dict[str, str] = msgspec.field(
        default_factory=dict, name="customKeyedValues"
    )


class WipStateChanged(ChangeEvent, tag="wip-state-changed", frozen=True, kw_only=True):
    type_name = "wip-state-changed"
    actor_fields = ("changer",)
    changer: Account | None = None

    def _details(self) -> object:
        return self.change.wip


class PrivateStateChanged(ChangeEvent, tag="private-state-changed", frozen=True, kw_only=True):
    type_name = "private-state-changed"
    actor_fields = ("changer",)
    changer: Account | None = None

    def _details(self) -> object:
        return self.change.private


class RefEvent(Event, frozen=True, kw_only=True):
    """An event about one ref (not a change)."""

    actor_fields: ClassVar[tuple[str, ...]] = ("submitter",)  # commit-received: uploader too
    ref_update: RefUpdate = msgspec.field(default_factory=RefUpdate, name="refUpdate")
    submitter: Account | None = None

    @property
    def project(self) -> str:
        return self.ref_update.project_name

    @property
    def lane(self) -> str:
        return f"ref:{self.ref_update.project_name}:{self.ref_update.full_ref}"

    def _key(self) -> tuple[object, ...]:
        u = self.ref_update
        return (self.type_name, u.project_name, u.full_ref, u.old_rev, u.new_rev,
                _who(self.actor))


class RefUpdated(RefEvent, tag="ref-updated", frozen=True, kw_only=True):
    type_name = "ref-updated"


class RefReceived(RefEvent, tag="ref-received", frozen=True, kw_only=True):
    type_name = "ref-received"


class CommitReceived(RefEvent, tag="commit-received", frozen=True, kw_only=True):
    type_name = "commit-received"
    actor_fields = ("uploader", "submitter")
    uploader: Account | None = None
    patch_set: PatchSet | None = msgspec.field(default=None, name="patchSet")


class BatchRefUpdated(Event, tag="batch-ref-updated", frozen=True, kw_only=True):
    type_name = "batch-ref-updated"
    actor_fields = ("submitter",)
    submitter: Account | None = None
    ref_updates: tuple[RefUpdate, ...] = msgspec.field(default=(), name="refUpdates")

    def _key(self) -> tuple[object, ...]:
        return (self.type_name, _who(self.submitter),
                [(u.project_name, u.full_ref, u.old_rev, u.new_rev) for u in self.ref_updates])


class ProjectCreated(Event, tag="project-created", frozen=True, kw_only=True):
    type_name = "project-created"
    project_name: str = msgspec.field(default="", name="projectName")
    project_head: str | None = msgspec.field(default=None, name="projectHead")

    @property
    def lane(self) -> str:
        return f"project:{self.project_name}"


class ProjectHeadUpdated(Event, tag="project-head-updated", frozen=True, kw_only=True):
    type_name = "project-head-updated"
    project_name: str = msgspec.field(default="", name="projectName")
    old_head: str | None = msgspec.field(default=None, name="oldHead")
    new_head: str | None = msgspec.field(default=None, name="newHead")

    @property
    def lane(self) -> str:
        return f"project:{self.project_name}"


class DroppedOutput(Event, tag="dropped-output", frozen=True, kw_only=True):
    """Gerrit dropped stream output for this (slow) reader: a backfill is due."""

    type_name = "dropped-output"


GerritEvent = Union[  # noqa: UP007 - msgspec needs a runtime Union object
    PatchsetCreated,
    CommentAdded,
    ChangeMerged,
    ChangeAbandoned,
    ChangeRestored,
    ChangeDeleted,
    ReviewerAdded,
    ReviewerDeleted,
    VoteDeleted,
    TopicChanged,
    HashtagsChanged,
    CustomKeyedValuesChanged,
    WipStateChanged,
    PrivateStateChanged,
    RefUpdated,
    RefReceived,
    CommitReceived,
    BatchRefUpdated,
    ProjectCreated,
    ProjectHeadUpdated,
    DroppedOutput,
]

EVENT_TYPES: dict[str, type[Event]] = {
    cls.type_name: cls for cls in GerritEvent.__args__  # type: ignore[attr-defined]
}


def encode_event(event: Event) -> bytes:
    """Back to Gerrit's JSON (used by replay files and the emulator's tests)."""
    return msgspec.json.encode(event)
