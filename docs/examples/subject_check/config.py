"""`subject-check.yaml` in the governance repo: the subject prefixes that mean "not ready".

    prefixes: [WIP, DNM, DO NOT MERGE]

Validated with the `govbot.config.schema` toolkit, so a typo is a `FILE:LINE` error in
`govbot check-config` and a config with errors is never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from govbot.config.schema import Field, ListOf, Schema, Str
from govbot.config.sections import ConfigFile, SectionContext

#: The file this plugin owns in the governance repo.
FILE = "subject-check.yaml"


@dataclass(frozen=True, slots=True)
class SubjectCheckConfig:
    prefixes: tuple[str, ...] = ("WIP", "DNM", "DO NOT MERGE")


SCHEMA = Schema({
    "prefixes": Field(ListOf(Str(), nonempty=True), required=True,
                      doc="subject prefixes that mean 'not ready'"),
}, what="the subject-check config")


def parse(files: Sequence[ConfigFile], ctx: SectionContext) -> SubjectCheckConfig:
    if not files:
        return SubjectCheckConfig()
    data = SCHEMA.read_file(files[0], ctx)
    return SubjectCheckConfig(tuple(data["prefixes"] or ()))
