"""Git-backed operations of the emulator: projects, changes, patch sets, merges, pushes,
branches and tags. Each runs its git work in ``asyncio.to_thread`` under one lock (so the
event loop keeps serving SSH and REST, and concurrent callers cannot interleave ref
updates), then records the result in the model, which emits the events.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from govbot.testing.gerrit.core import AccountRef, GerritCore, GerritError, Settings
from govbot.testing.gerrit.git import ZERO_SHA, FileContent, GitRepo, Ident, MergeConflict
from govbot.testing.gerrit.model import (
    Account,
    Change,
    Clock,
    Grant,
    Label,
    PatchSet,
    Project,
    code_review_label,
    patchset_ref,
    sha1_hex,
    verified_label,
)

T = TypeVar("T")

#: Grants of projects created without explicit ones, like a fresh Gerrit's All-Projects.
DEFAULT_GRANTS = {"Code-Review": [Grant("Registered Users", -1, 1),
                                  Grant("Administrators", -2, 2)],
                  "Verified": [Grant("Administrators", -1, 1)]}


class RepoOperations:
    """Mixin of :class:`GerritEmulator` for everything that writes git."""

    base_dir: Path
    clock: Clock
    settings: Settings
    core: GerritCore
    _git_lock: asyncio.Lock
    _change_numbers: itertools.count[int]

    async def create_project(self, name: str, *, labels: Iterable[Label] | None = None,
                             grants: Mapping[str, Iterable[Grant]] | None = None,
                             head: str = "master", submit_type: str = "MERGE_IF_NECESSARY",
                             creator: AccountRef | None = None) -> Project:
        """A project with an initial empty commit on ``head`` (emits project-created and
        ref-updated). Default labels: Code-Review and Verified, with DEFAULT_GRANTS."""
        if name in self.core.projects:
            raise GerritError(409, f"Project already exists: {name}")
        repo = GitRepo(self.base_dir / "git" / f"{name}.git")
        label_list = list(labels) if labels is not None else [code_review_label(),
                                                              verified_label()]
        grant_map = {k: list(v) for k, v in (grants if grants is not None
                                              else DEFAULT_GRANTS).items()}
        project = Project(name=name, repo=repo, labels={lb.name: lb for lb in label_list},
                          grants=grant_map, head=head, submit_type=submit_type)
        who = self.core.account(creator).account_id if creator is not None else None
        ident = self._server_ident()
        now = self.clock()

        def work() -> str:
            repo.init(head)
            return repo.commit(ref=f"refs/heads/{head}", parents=[], files={},
                               message="Initial empty repository\n", author=ident,
                               committer=ident, when=now)

        async with self._git_lock:
            sha = await asyncio.to_thread(work)
        self.core.projects[name] = project
        self.core.emit(self.core.factory.project_created(name, head))
        self.core.emit_ref_updated(name, f"refs/heads/{head}", ZERO_SHA, sha, who)
        return project

    # ----------------------------------------------------------------- changes (git-backed)
    def _server_ident(self) -> Ident:
        return Ident(*self.settings.server_ident)

    def _ident(self, acc: Account) -> Ident:
        return Ident(acc.name, acc.email)

    async def _git(self, fn: Callable[[], T]) -> T:
        async with self._git_lock:
            return await asyncio.to_thread(fn)

    async def create_change(self, project: str, branch: str, owner: AccountRef, subject: str,
                            files: Mapping[str, FileContent] | None = None, *, body: str = "",
                            hashtags: Iterable[str] = (), topic: str | None = None,
                            wip: bool = False, private: bool = False,
                            reviewers: Iterable[AccountRef] = (),
                            parent: str | None = None) -> Change:
        """Upload a new change (``git push HEAD:refs/for/<branch>``): patch set 1 is a real
        commit on the branch tip (or ``parent``) with a Change-Id footer. Emits ref-updated
        (patch set ref, meta), patchset-created, then reviewer-added per reviewer."""
        proj = self.core.projects[project]
        acc = self.core.account(owner)
        number = next(self._change_numbers)
        now = self.clock()
        change_id = "I" + sha1_hex("change", project, number, now)
        message = _commit_message(subject, body, change_id)
        base = parent or f"refs/heads/{branch}"

        def work() -> tuple[str, str, list[str], list[Any]]:
            tip = proj.repo.rev_parse(base)
            if tip is None:
                raise GerritError(400, f"branch {branch} not found")
            sha = proj.repo.commit(ref=patchset_ref(number, 1), parents=[tip],
                                   files=files or {}, message=message, author=self._ident(acc),
                                   committer=self._ident(acc), when=now)
            info = proj.repo.commit_info(sha)
            return sha, info.tree, info.parents, proj.repo.diff(tip, sha)

        sha, tree, parents, diff = await self._git(work)
        change = Change(number=number, project=project, branch=branch, change_id=change_id,
                        owner=acc.account_id, subject=subject, created_on=now, last_updated=now,
                        topic=topic or None, hashtags=sorted(set(hashtags)), wip=wip,
                        private=private, review_started=not wip)
        ps = PatchSet(number=1, revision=sha, parents=parents, ref=patchset_ref(number, 1),
                      uploader=acc.account_id, author_name=acc.name, author_email=acc.email,
                      created_on=now, kind="REWORK", commit_message=message, tree=tree,
                      files=diff)
        # Reviewers named at upload (``%r=``) are part of the same update: they can already
        # see a private change's patchset-created; their reviewer-added events follow it.
        added = [self.core.account(r) for r in reviewers]
        change.reviewers.update({r.account_id: "REVIEWER" for r in added})
        self.core.record_patch_set(change, ps, new_change=True)
        for reviewer in added:
            self.core.emit_reviewer_added(change, acc, reviewer)
        return change

    async def upload_patchset(self, change: Change, uploader: AccountRef,
                              files: Mapping[str, FileContent] | None = None, *,
                              subject: str | None = None, body: str | None = None,
                              rebase: bool = False) -> PatchSet:
        """Amend the change: ``files`` are applied on top of the previous patch set's tree,
        on the same parent (or on the branch tip with ``rebase=True``). The change kind
        (REWORK, TRIVIAL_REBASE, NO_CODE_CHANGE, NO_CHANGE) is computed from git."""
        if not change.is_open:
            raise GerritError(409, f"change {change.number} closed")
        proj = self.core.projects[change.project]
        acc = self.core.account(uploader)
        prev = change.current
        number = prev.number + 1
        now = self.clock()
        if subject is not None or body is not None:
            prev_subject, _, prev_rest = prev.commit_message.partition("\n\n")
            prev_body = prev_rest.rsplit("Change-Id:", 1)[0].strip()
            message = _commit_message(subject or prev_subject,
                                      prev_body if body is None else body, change.change_id)
        else:
            message = prev.commit_message

        def work() -> tuple[str, str, list[str], list[Any], str]:
            repo = proj.repo
            parent, base_tree = prev.parents[0], prev.tree
            if rebase:
                parent = repo.rev_parse(f"refs/heads/{change.branch}") or parent
                if parent != prev.parents[0]:
                    try:  # the previous patch set's diff replayed on the new parent
                        base_tree = repo.merge_tree(parent, prev.revision)
                    except MergeConflict:
                        raise GerritError(409, "Change could not be rebased due to a conflict "
                                          "during merge.") from None
            # An amend keeps the commit's author; the uploader is the committer.
            author = Ident(prev.author_name, prev.author_email)
            sha = repo.commit(ref=patchset_ref(change.number, number), parents=[parent],
                              files=files or {}, message=message, author=author,
                              committer=self._ident(acc), when=now, base_tree=base_tree)
            info = repo.commit_info(sha)
            kind = _change_kind(repo, prev, info.tree, info.parents, message)
            return sha, info.tree, info.parents, repo.diff(info.parents[0], sha), kind

        sha, tree, parents, diff, kind = await self._git(work)
        ps = PatchSet(number=number, revision=sha, parents=parents,
                      ref=patchset_ref(change.number, number), uploader=acc.account_id,
                      author_name=prev.author_name, author_email=prev.author_email,
                      created_on=now, kind=kind,
                      commit_message=message, tree=tree, files=diff)
        if subject:
            change.subject = subject
        self.core.record_patch_set(change, ps, new_change=False)
        return ps

    async def merge(self, change: Change, submitter: AccountRef) -> str:
        """Submit: fast-forward when the branch tip is the patch set's parent, else a merge
        commit (MERGE_IF_NECESSARY). Emits ref-updated (meta, branch) and change-merged.
        Returns the new branch tip."""
        if not change.is_open:
            raise GerritError(409, f"change is {change.status.lower()}")
        proj = self.core.projects[change.project]
        acc = self.core.account(submitter)
        ps, now = change.current, self.clock()
        ref = change.refname

        def work() -> tuple[str, str]:
            repo = proj.repo
            tip = repo.rev_parse(ref)
            if tip is None:
                raise GerritError(409, f"destination branch {ref} not found")
            if tip in ps.parents and proj.submit_type != "MERGE_ALWAYS":
                repo.update_ref(ref, ps.revision, tip)
                return tip, ps.revision
            if proj.submit_type == "FAST_FORWARD_ONLY":
                raise GerritError(409, "Project policy requires all submissions to be a "
                                  "fast-forward. Please rebase the change locally and upload "
                                  "again for review.")
            try:
                new = repo.merge(tip, ps.revision, ref=ref,
                                 message=f'Merge "{change.subject}"\n', author=self._ident(acc),
                                 committer=self._server_ident(), when=now)
            except MergeConflict:
                raise GerritError(409, "Failed to submit 1 change due to the following problems:"
                                  f"\nChange {change.number}: Change could not be merged due "
                                  "to a path conflict. Please rebase the change locally and "
                                  "upload the rebased commit for review.") from None
            return tip, new

        old, new = await self._git(work)
        self.core.record_merge(change, acc, old, new)
        return new

    async def push(self, project: str, branch: str, files: Mapping[str, FileContent],
                   account: AccountRef, *, message: str = "Direct push") -> str:
        """A direct push to ``refs/heads/<branch>`` (bypassing review): emits ref-updated."""
        proj, acc, now = self.core.projects[project], self.core.account(account), self.clock()
        ref = f"refs/heads/{branch}"

        def work() -> tuple[str, str]:
            tip = proj.repo.rev_parse(ref)
            if tip is None:
                raise GerritError(404, f"branch {branch} not found")
            sha = proj.repo.commit(ref=ref, parents=[tip], files=files,
                                   message=message.rstrip("\n") + "\n", author=self._ident(acc),
                                   committer=self._ident(acc), when=now)
            return tip, sha

        old, new = await self._git(work)
        self.core.emit_ref_updated(project, ref, old, new, acc.account_id)
        return new

    async def create_branch(self, project: str, branch: str, account: AccountRef,
                            revision: str | None = None) -> str:
        """Create ``refs/heads/<branch>`` at ``revision`` (default: HEAD). oldRev is zeros."""
        proj, acc = self.core.projects[project], self.core.account(account)
        ref = f"refs/heads/{branch}"

        def work() -> str:
            sha = proj.repo.rev_parse(revision or f"refs/heads/{proj.head}")
            if sha is None:
                raise GerritError(400, f"invalid revision {revision}")
            proj.repo.update_ref(ref, sha, ZERO_SHA)
            return sha

        sha = await self._git(work)
        self.core.emit_ref_updated(project, ref, ZERO_SHA, sha, acc.account_id)
        return sha

    async def delete_branch(self, project: str, branch: str, account: AccountRef) -> None:
        proj, acc = self.core.projects[project], self.core.account(account)
        ref = f"refs/heads/{branch}"

        def work() -> str:
            old = proj.repo.rev_parse(ref)
            if old is None:
                raise GerritError(404, f"Not found: {branch}")
            proj.repo.delete_ref(ref)
            return old

        old = await self._git(work)
        self.core.emit_ref_updated(project, ref, old, ZERO_SHA, acc.account_id)

    async def create_tag(self, project: str, tag: str, account: AccountRef,
                         revision: str | None = None, *, message: str | None = None) -> str:
        """Create ``refs/tags/<tag>`` (annotated if ``message``); returns the ref's new value."""
        proj, acc, now = self.core.projects[project], self.core.account(account), self.clock()

        def work() -> str:
            target = proj.repo.rev_parse(revision or f"refs/heads/{proj.head}")
            if target is None:
                raise GerritError(400, f"invalid revision {revision}")
            return proj.repo.tag(tag, target, message=message, tagger=self._ident(acc), when=now)

        sha = await self._git(work)
        self.core.emit_ref_updated(project, f"refs/tags/{tag}", ZERO_SHA, sha, acc.account_id)
        return sha

    async def read_file(self, project: str, revision: str, path: str) -> bytes | None:
        repo = self.core.projects[project].repo
        return await asyncio.to_thread(repo.read_file, revision, path)



def _commit_message(subject: str, body: str, change_id: str) -> str:
    parts = [subject.strip()]
    if body.strip():
        parts.append(body.strip())
    parts.append(f"Change-Id: {change_id}")
    return "\n\n".join(parts) + "\n"


def _change_kind(repo: GitRepo, prev: PatchSet, tree: str, parents: list[str],
                 message: str) -> str:
    """Gerrit's ChangeKind of a new patch set relative to the previous one."""
    if tree == prev.tree and parents == prev.parents:
        return "NO_CHANGE" if message == prev.commit_message else "NO_CODE_CHANGE"
    # Same diff on another parent: a trivial rebase. diff-tree takes trees as well as commits.
    if parents != prev.parents and (repo.patch_id(parents[0], tree)
                                    == repo.patch_id(prev.parents[0], prev.tree)):
        return "TRIVIAL_REBASE"
    return "REWORK"
