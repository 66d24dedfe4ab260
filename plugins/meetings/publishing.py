"""Where the minutes go, from the operator's `plugins.settings.meetings`.

The plugin puts this in every `WriteMinutes` it returns (`directory`, `git`), so the
core's minutes reporter needs no plugin's settings: `minutes_dir` unset leaves the
core's default (`state.workdir/minutes`), `git` unset writes without committing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govbot.actions import GitPublishing


@dataclass(frozen=True, slots=True)
class MinutesTarget:
    directory: str | None = None
    git: GitPublishing | None = None

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> MinutesTarget:
        """From `minutes_dir` and `git: {remote, branch, author_name, author_email}`
        (`git: true` commits with the defaults and pushes nowhere)."""
        directory = settings.get("minutes_dir") or None
        spec = settings.get("git")
        git = None
        if spec:
            spec = spec if isinstance(spec, Mapping) else {}
            git = GitPublishing(remote=spec.get("remote"), branch=spec.get("branch", "master"),
                                author_name=spec.get("author_name", "govbot"),
                                author_email=spec.get("author_email", "govbot@localhost"))
        return cls(str(directory) if directory else None, git)
