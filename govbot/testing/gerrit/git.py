"""Real git repositories for the emulator, driven through the git binary.

Every method is blocking (it runs ``git`` in a subprocess); async callers run them in
``asyncio.to_thread``. Commits are written with ``git fast-import`` so one process
creates a whole commit, whatever the number of files.

The change model (model.py) builds on this module: a project holds its `GitRepo` and a
patch set lists the `FileDiff`s git computed, so nothing here imports the model.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The object id git and Gerrit use for "no commit" (a ref created or deleted).
ZERO_SHA = "0" * 40

FileContent = str | bytes | None  # None deletes the file


class GitError(RuntimeError):
    pass


class MergeConflict(GitError):
    pass


@dataclass(frozen=True)
class Ident:
    name: str
    email: str

    def line(self, when: float) -> str:
        return f"{self.name} <{self.email}> {int(when)} +0000"


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    message: str


@dataclass
class FileDiff:
    """One file a commit changed against its first parent (a patch set's REST FileInfo)."""

    path: str
    status: str  # A, M, D, R, C
    old_path: str | None
    insertions: int
    deletions: int
    size: int
    size_delta: int
    binary: bool = False


class GitRepo:
    """A bare repository, like the ones Gerrit keeps under ``git/<project>.git``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True) -> str:
        full_env = dict(os.environ)
        # Keep the user's and system git config out: tests must not depend on them.
        full_env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                         "LC_ALL": "C"})
        if env:
            full_env.update(env)
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=false", *args], cwd=self.path, input=input,
            capture_output=True, env=full_env, check=False)
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode(errors="replace")

    def init(self, head: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.run("init", "--quiet", "--bare", f"--initial-branch={head}")

    def commit(self, *, ref: str, parents: list[str], files: Mapping[str, FileContent],
               message: str, author: Ident, committer: Ident, when: float,
               base_tree: str | None = None) -> str:
        """Write a commit with ``files`` applied and point ``ref`` at it; returns its sha.

        The starting tree is ``base_tree`` if given (e.g. the previous patch set's tree when
        amending), else the first parent's tree, else empty.
        """
        out = bytearray()
        data = message.encode()
        out += f"commit {ref}\nmark :1\n".encode()
        out += f"author {author.line(when)}\ncommitter {committer.line(when)}\n".encode()
        out += b"data %d\n%s\n" % (len(data), data)
        if parents:
            out += f"from {parents[0]}\n".encode()
        for extra in parents[1:]:
            out += f"merge {extra}\n".encode()
        if base_tree:
            out += f'M 040000 {base_tree} ""\n'.encode()
        for path, content in files.items():
            if content is None:
                out += f"D {path}\n".encode()
                continue
            blob = content.encode() if isinstance(content, str) else content
            out += f"M 100644 inline {path}\n".encode()
            out += b"data %d\n%s\n" % (len(blob), blob)
        out += b"\nget-mark :1\n"
        # --force: a patch set ref or a tag may legitimately be rewritten by tests.
        sha = self.run("fast-import", "--quiet", "--force", input=bytes(out)).strip()
        if len(sha) != 40:
            raise GitError(f"fast-import returned {sha!r}")
        return sha

    def rev_parse(self, rev: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return out.strip() or None

    def ref_value(self, ref: str) -> str | None:
        out = self.run("rev-parse", "--verify", "--quiet", ref, check=False)
        return out.strip() or None

    def update_ref(self, ref: str, new: str, old: str | None = None) -> None:
        args = ["update-ref", ref, new]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref)

    def commit_info(self, sha: str) -> CommitInfo:
        raw = self.run("cat-file", "commit", sha)
        header, _, message = raw.partition("\n\n")
        tree, parents = "", []
        for line in header.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
        return CommitInfo(sha=sha, tree=tree, parents=parents, message=message)

    def diff(self, parent: str | None, sha: str) -> list[FileDiff]:
        """Files modified by ``sha`` against ``parent`` (or the empty tree), with sizes."""
        base = parent or self.run("hash-object", "-t", "tree", "/dev/null").strip()
        # --raw and --numstat together: raw lines (starting with ':') then numstat lines.
        out = self.run("diff-tree", "-r", "-M", "--raw", "--numstat", "--no-commit-id", base, sha)
        raw: list[tuple[str, str, str, str | None, str]] = []
        stats: dict[str, tuple[int, int, bool]] = {}
        for line in out.splitlines():
            if line.startswith(":"):
                meta, *paths = line.split("\t")
                _, _, old_blob, new_blob, status = meta.split(" ")
                old_path = paths[0] if len(paths) == 2 else None
                raw.append((status[0], old_blob, new_blob, old_path, paths[-1]))
            elif line:
                ins, dels, *paths = line.split("\t")
                path = paths[-1]
                if " => " in path:  # numstat prints renames as "old => new"
                    path = path.split(" => ")[-1].strip("{}")
                binary = ins == "-"
                stats[path] = (0 if binary else int(ins), 0 if binary else int(dels), binary)
        sizes = self._blob_sizes([b for r in raw for b in (r[1], r[2]) if b != ZERO_SHA])
        files = []
        for status, old_blob, new_blob, old_path, path in raw:
            added, removed, binary = stats.get(path, (0, 0, False))
            new_size = sizes.get(new_blob, 0)
            files.append(FileDiff(path=path, status=status, old_path=old_path, insertions=added,
                                  deletions=removed, size=new_size,
                                  size_delta=new_size - sizes.get(old_blob, 0), binary=binary))
        return files

    def _blob_sizes(self, blobs: list[str]) -> dict[str, int]:
        if not blobs:
            return {}
        out = self.run("cat-file", "--batch-check=%(objectname) %(objectsize)",
                       input="\n".join(blobs).encode() + b"\n")
        sizes = {}
        for line in out.splitlines():
            name, _, size = line.partition(" ")
            if size.isdigit():
                sizes[name] = int(size)
        return sizes

    def patch_id(self, parent: str, sha: str) -> str:
        """A stable id of the diff ``parent..sha``: equal ids mean a trivial rebase."""
        patch = self.run("diff-tree", "-p", "-r", parent, sha).encode()
        out = self.run("patch-id", "--stable", input=patch)
        return out.split(" ")[0] if out else ""

    def merge_tree(self, ours: str, theirs: str) -> str:
        """The tree of merging ``theirs`` into ``ours`` at their merge base (no worktree).
        With ``theirs`` a commit on an ancestor of ``ours``, this is a cherry-pick/rebase."""
        out = self.run("merge-tree", "--write-tree", ours, theirs, check=False)
        tree = out.splitlines()[0].strip() if out else ""
        if len(tree) != 40 or "CONFLICT" in out:
            raise MergeConflict(out)
        return tree

    def merge(self, ours: str, theirs: str, *, ref: str, message: str, author: Ident,
              committer: Ident, when: float) -> str:
        """A merge commit of ``theirs`` into ``ours``; moves ``ref`` from ``ours`` to it."""
        tree = self.merge_tree(ours, theirs)
        env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
               "GIT_AUTHOR_DATE": f"{int(when)} +0000", "GIT_COMMITTER_NAME": committer.name,
               "GIT_COMMITTER_EMAIL": committer.email, "GIT_COMMITTER_DATE": f"{int(when)} +0000"}
        sha = self.run("commit-tree", tree, "-p", ours, "-p", theirs, "-m", message,
                       env=env).strip()
        self.update_ref(ref, sha, ours)
        return sha

    def tag(self, name: str, target: str, *, message: str | None, tagger: Ident,
            when: float) -> str:
        """Create ``refs/tags/<name>``: annotated when ``message`` is given."""
        if message is None:
            self.update_ref(f"refs/tags/{name}", target, ZERO_SHA)
            return target
        data = (f"object {target}\ntype commit\ntag {name}\n"
                f"tagger {tagger.line(when)}\n\n{message}\n")
        sha = self.run("hash-object", "-t", "tag", "-w", "--stdin", input=data.encode()).strip()
        self.update_ref(f"refs/tags/{name}", sha, ZERO_SHA)
        return sha

    def read_file(self, rev: str, path: str) -> bytes | None:
        proc = subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"], cwd=self.path,
                              capture_output=True, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def list_files(self, rev: str) -> list[str]:
        return self.run("ls-tree", "-r", "--name-only", rev).splitlines()
