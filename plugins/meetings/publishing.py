"""Where the minutes go, from the operator's `plugins.settings.meetings`.

The plugin puts this in every `WriteMinutes` it returns (`directory`, `git`), so the
core's minutes reporter needs no plugin's settings: `minutes_dir` unset leaves the
core's default (`state.workdir/minutes`), `git` unset writes without committing.
"""

from __future__ import annotations

from dataclasses import dataclass

from govbot.actions import GitPublishing

from .settings import MeetingsSettings


@dataclass(frozen=True, slots=True)
class MinutesTarget:
    directory: str | None = None
    git: GitPublishing | None = None

    @classmethod
    def of(cls, settings: MeetingsSettings) -> MinutesTarget:
        """From `minutes_dir` and `git: {remote, branch, author_name, author_email}`
        (`git: {}` commits with the defaults and pushes nowhere)."""
        spec = settings.git
        git = None if spec is None else GitPublishing(
            remote=spec.remote, branch=spec.branch, author_name=spec.author_name,
            author_email=spec.author_email)
        return cls(settings.minutes_dir or None, git)
