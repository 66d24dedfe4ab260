"""REST entities (ChangeInfo, RevisionInfo, FileInfo, AccountInfo, ...) as Gerrit 3.9 returns
them. Vote values are ints here (strings only in stream events); timestamps are UTC
``"YYYY-MM-DD hh:mm:ss.fffffffff"``; accounts carry only ``_account_id`` unless
``DETAILED_ACCOUNTS`` is asked for, exactly as Gerrit's AccountLoader does.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from govbot.testing.gerrit.core import GerritCore
from govbot.testing.gerrit.git import FileDiff
from govbot.testing.gerrit.model import Account, Change, PatchSet, format_value_key

JSON = dict[str, Any]


@functools.lru_cache(maxsize=8192)  # a query formats the same few instants many times
def timestamp(epoch: float) -> str:
    dt = datetime.fromtimestamp(epoch, tz=UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond * 1000:09d}"


def account_info(acc: Account, detailed: bool = True) -> JSON:
    if not detailed:
        return {"_account_id": acc.account_id}
    return {"_account_id": acc.account_id, "name": acc.name, "email": acc.email,
            "username": acc.username}


class ChangeFormatter:
    """Formats changes for one request: ``options`` are the ``o=`` values, ``caller`` the
    authenticated account (for ``permitted_labels``)."""

    def __init__(self, core: GerritCore, options: Collection[str], caller: int | None) -> None:
        self.core = core
        self.options = {o.upper() for o in options}
        self.caller = caller
        self.detailed_accounts = "DETAILED_ACCOUNTS" in self.options
        # Permission ranges per (project, label, account), computed once per request.
        self._ranges: dict[tuple[str, str, int], tuple[int, int] | None] = {}

    def permitted(self, project: str, label: str, account_id: int) -> tuple[int, int] | None:
        key = (project, label, account_id)
        if key not in self._ranges:
            self._ranges[key] = self.core.permitted(self.core.projects[project], label,
                                                    account_id)
        return self._ranges[key]

    def acc(self, account_id: int) -> JSON:
        return account_info(self.core.accounts[account_id], self.detailed_accounts)

    def change(self, c: Change) -> JSON:
        o = self.options
        info: JSON = {
            "id": f"{c.project}~{c.number}",
            "triplet_id": f"{c.project}~{c.branch}~{c.change_id}",
            "project": c.project,
            "branch": c.branch,
        }
        if c.topic:
            info["topic"] = c.topic
        info.update({
            "attention_set": {},
            "removed_from_attention_set": {},
            "hashtags": list(c.hashtags),
            "change_id": c.change_id,
            "subject": c.subject,
            "status": c.status,
            "created": timestamp(c.created_on),
            "updated": timestamp(c.last_updated),
        })
        if c.submitted is not None and c.submitter is not None:
            info["submitted"] = timestamp(c.submitted)
            info["submitter"] = self.acc(c.submitter)
        if c.private:
            info["is_private"] = True
        if c.wip:
            info["work_in_progress"] = True
        info.update({
            "insertions": c.current.insertions,
            "deletions": c.current.deletions,
            "total_comment_count": 0,
            "unresolved_comment_count": 0,
            "has_review_started": c.review_started,
            "meta_rev_id": c.meta_rev,
            "_number": c.number,
            "virtual_id_number": c.number,
            "owner": self.acc(c.owner),
            "current_revision_number": c.current.number,
            "requirements": [],
        })
        if "LABELS" in o or "DETAILED_LABELS" in o:
            info["labels"] = self.labels(c)
        if "DETAILED_LABELS" in o:
            if c.is_open and self.caller is not None:
                info["permitted_labels"] = self.permitted_labels(c)
            info["reviewers"] = self.reviewers(c)
        if "MESSAGES" in o:
            info["messages"] = [self.message(m, c) for m in c.messages]
        revisions = None
        if "ALL_REVISIONS" in o:
            revisions = c.patch_sets
        elif "CURRENT_REVISION" in o or "CURRENT_FILES" in o or "CURRENT_COMMIT" in o:
            revisions = [c.current]
        if revisions is not None:
            info["current_revision"] = c.current.revision
            info["revisions"] = {ps.revision: self.revision(c, ps) for ps in revisions}
        return info

    def labels(self, c: Change) -> JSON:
        project = self.core.projects[c.project]
        votes = c.votes_on()
        out: JSON = {}
        for name, label in project.labels.items():
            by = votes.get(name, {})
            info: JSON = {}
            # LABELS: the extreme votes (approved/rejected) and the others (recommended/disliked)
            for vote in by.values():
                if vote.value == label.max:
                    key = "approved"
                elif vote.value == label.min:
                    key = "rejected"
                else:
                    key = "recommended" if vote.value > 0 else "disliked"
                if key not in info:
                    info[key] = self.acc(vote.account_id)
                    if key in ("recommended", "disliked"):
                        info["value"] = vote.value
            if "rejected" in info and label.function == "MaxWithBlock":
                info["blocking"] = True
            if "DETAILED_LABELS" in self.options:
                info["all"] = self.all_votes(c, name)
                info["values"] = {format_value_key(v): d for v, d in sorted(label.values.items())}
            info["default_value"] = label.default_value
            out[name] = info
        return out

    def all_votes(self, c: Change, label: str) -> list[JSON]:
        by = c.votes_on().get(label, {})
        people = sorted(set(by) | {a for a, s in c.reviewers.items() if s == "REVIEWER"})
        out = []
        for account_id in people:
            entry = self.acc(account_id)
            vote = by.get(account_id)
            entry["value"] = vote.value if vote else 0
            if vote is not None:
                entry["date"] = timestamp(vote.granted)
                if vote.tag:
                    entry["tag"] = vote.tag
            rng = self.permitted(c.project, label, account_id) if c.is_open else None
            if rng is not None:
                entry["permitted_voting_range"] = {"min": rng[0], "max": rng[1]}
            out.append(entry)
        return out

    def permitted_labels(self, c: Change) -> JSON:
        assert self.caller is not None
        project = self.core.projects[c.project]
        out: JSON = {}
        for name, label in project.labels.items():
            rng = self.permitted(c.project, name, self.caller)
            if rng is not None:
                out[name] = [format_value_key(v) for v in sorted(label.values)
                             if rng[0] <= v <= rng[1] or v == 0]
        return out

    def reviewers(self, c: Change) -> JSON:
        out: JSON = {}
        for state in ("REVIEWER", "CC"):
            ids = [a for a, s in sorted(c.reviewers.items()) if s == state]
            if ids:
                out[state] = [self.acc(a) for a in ids]
        return out

    def message(self, m: Any, c: Change) -> JSON:
        info: JSON = {"id": m.id}
        if m.author is not None:
            info["author"] = self.acc(m.author)
            info["real_author"] = self.acc(m.author)
        info["date"] = timestamp(m.date)
        info["message"] = m.message
        if m.tag:
            info["tag"] = m.tag
        info["_revision_number"] = m.revision_number
        return info

    def revision(self, c: Change, ps: PatchSet) -> JSON:
        info: JSON = {
            "kind": ps.kind,
            "_number": ps.number,
            "created": timestamp(ps.created_on),
            "uploader": self.acc(ps.uploader),
            "ref": ps.ref,
            "fetch": {},
        }
        if "CURRENT_COMMIT" in self.options or "ALL_COMMITS" in self.options:
            info["commit"] = self.commit(ps)
        if "CURRENT_FILES" in self.options or "ALL_FILES" in self.options:
            info["files"] = files_info(ps, with_commit_msg=False)
        return info

    def commit(self, ps: PatchSet) -> JSON:
        ident = {"name": ps.author_name, "email": ps.author_email,
                 "date": timestamp(ps.created_on), "tz": 0}
        subject = ps.commit_message.split("\n", 1)[0]
        return {"parents": [{"commit": p, "subject": ""} for p in ps.parents],
                "author": ident, "committer": dict(ident), "subject": subject,
                "message": ps.commit_message}


def file_info(f: FileDiff) -> JSON:
    info: JSON = {}
    if f.status != "M":
        info["status"] = f.status
    if f.binary:
        info["binary"] = True
    if f.old_path:
        info["old_path"] = f.old_path
    if f.insertions:
        info["lines_inserted"] = f.insertions
    if f.deletions:
        info["lines_deleted"] = f.deletions
    info["size_delta"] = f.size_delta
    info["size"] = f.size
    return info


def files_info(ps: PatchSet, *, with_commit_msg: bool = True) -> JSON:
    """``GET .../files/``: includes Gerrit's magic ``/COMMIT_MSG`` file (a header of
    Parent/Author/AuthorDate/Commit/CommitDate lines, a blank line, then the message)."""
    out: JSON = {}
    if with_commit_msg:
        header_lines = (1 if ps.parents else 0) + 5
        lines = header_lines + 1 + len(ps.commit_message.rstrip("\n").split("\n"))
        size = len(ps.commit_message.encode())
        out["/COMMIT_MSG"] = {"status": "A", "lines_inserted": lines, "size_delta": size,
                              "size": size}
    for f in sorted(ps.files, key=lambda f: f.path):
        out[f.path] = file_info(f)
    return out
