"""Every requirement kind named in the rule language has exactly one reader.

(Its evaluator is checked by mypy: requirements.evaluate_requirement ends in
`assert_never` over model.Requirement.)
"""

from __future__ import annotations

from govbot.plugins.governance.parse_requirements import _READERS, ALL_KINDS


def test_every_kind_has_exactly_one_reader() -> None:
    assert sorted(_READERS) == sorted(ALL_KINDS)
