"""The decision, as a pure function: which configured prefix a subject starts with."""

from __future__ import annotations

from collections.abc import Sequence


def flagged_prefix(subject: str, prefixes: Sequence[str]) -> str | None:
    # "[WIP] ..." and "(WIP) ..." count as well as "WIP: ...", in any case.
    head = subject.lstrip("[(").upper()
    return next((p for p in prefixes if head.startswith(p.upper())), None)
