"""The Gerrit message a verdict is posted as, and the fingerprint that decides re-posting."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from govbot.plugins.governance.message import MAX_MESSAGE_CHARS, fingerprint, headline, render
from govbot.plugins.governance.verdict import Reason, Verdict
from tests.governance.kit import (
    DAY,
    OUTSIDER,
    RC,
    T0,
    TC,
    change,
    verdict,
    votes,
)

FORMAL = change(hashtags=["formal-vote"], owner="hana", files=["resolutions/2026-x.rst"],
                rollcall={"ada": 1, "bruno": -1, "chiara": 1, "dmitri": 1, "hana": 0},
                code_review={"ivo": -1}, extra={RC: votes({OUTSIDER: 1})})

EXPECTED = """\
Governance check: PENDING — rule formal-vote
Formal vote (motions, resolutions, new project teams, team retirement, major mission \
changes, a cycle's goals): open 7 days, more yes than no, yes >= ceil(n/3)

- waiting: open at least 7 days since the first revision: not before 2026-11-29 10:00 UTC
- met: more yes than no: 3 yes, 1 no
- met: at least 3 (ceil(n/3) with n=9) yes votes: 3 yes

Technical Committee (Rollcall-Vote):
  Ada Lindqvist      +1  yes
  Bruno Okafor       -1  no
  Chiara Benedetti   +1  yes
  Dmitri Volkonsky   +1  yes
  Eun-ji Park         -  no vote yet
  Farah Haddad        -  no vote yet
  Gustavo Reis        -  no vote yet
  Hana Novak          0  abstains
  Ivo Marinov         -  no vote yet

Not counted: Zoe Outsider Rollcall-Vote +1 (not a member of Technical Committee)
Earliest approval: 2026-11-29 10:00 UTC"""


def test_the_whole_message() -> None:
    assert render(verdict(FORMAL, T0 + 2 * DAY)) == EXPECTED


def test_still_to_vote_lists_who_is_needed() -> None:
    text = render(verdict(change(hashtags=["code-change"], owner="ada",
                                 rollcall={"ada": 1, "bruno": 1}), T0))
    assert text.splitlines()[0] == "Governance check: PENDING — rule normal-review"
    assert text.endswith("Still to vote: Chiara Benedetti, Dmitri Volkonsky, Eun-ji Park, "
                         "Farah Haddad, Gustavo Reis, Hana Novak, Ivo Marinov")
    assert "Ada Lindqvist      +1  owner: not counted" in text


def test_headlines() -> None:
    ready = verdict(change(hashtags=["typo-fix"], workflow={"ada": 1}), T0)
    blocked = verdict(change(hashtags=["formal-vote"], files=["charter.rst"]), T0)
    ungoverned = verdict(change(project="example/elsewhere"), T0)
    assert headline(ready) == "Governance check: READY — rule typo-fix"
    assert headline(blocked) == "Governance check: BLOCKED — category hashtag check"
    assert headline(ungoverned) == "Governance check: UNGOVERNED — no rule applies"
    assert render(blocked) == (
        "Governance check: BLOCKED — category hashtag check\n\n- blocked: the change touches "
        "charter.rst, which needs the hashtag 'charter-change', not 'formal-vote': set "
        "'charter-change' and remove 'formal-vote'")


def test_alternatives_are_indented() -> None:
    v = Verdict(state="pending", rule="r", description="", project="p", number=1, patchset=1,
                reasons=(Reason("pending", "one of these:"), Reason("met", "a", 1),
                         Reason("blocked", "b", 1)))
    assert render(v).splitlines()[2:] == ["- waiting: one of these:", "  - met: a",
                                          "  - blocked: b"]


def test_a_huge_message_is_truncated_below_gerrits_limit() -> None:
    v = Verdict(state="pending", rule="r", description="x" * 40_000, project="p", number=1,
                patchset=1)
    text = render(v)
    assert len(text) <= MAX_MESSAGE_CHARS and text.endswith("… (truncated)")


# --- fingerprint ---------------------------------------------------------------------------

def test_the_fingerprint_ignores_the_wall_clock() -> None:
    a = verdict(FORMAL, T0 + 2 * DAY)
    b = verdict(FORMAL, T0 + 6 * DAY + timedelta(hours=23))
    assert fingerprint(a) == fingerprint(b)


def test_the_fingerprint_changes_when_the_state_flips_with_time() -> None:
    before = verdict(FORMAL, T0 + 2 * DAY)
    after = verdict(FORMAL, T0 + 7 * DAY)
    assert (before.state, after.state) == ("pending", "ready")
    assert fingerprint(before) != fingerprint(after)


def test_the_fingerprint_changes_when_a_vote_changes_the_message() -> None:
    one = change(hashtags=["formal-vote"], rollcall={"ada": 1})
    two = change(hashtags=["formal-vote"], rollcall={"ada": 1, "bruno": 0})
    assert fingerprint(verdict(one, T0)) != fingerprint(verdict(two, T0))


def test_the_fingerprint_ignores_what_is_not_posted() -> None:
    v = verdict(FORMAL, T0 + 2 * DAY)
    assert fingerprint(v) == fingerprint(dataclasses.replace(v, next_check=None))
    assert fingerprint(v) != fingerprint(dataclasses.replace(v, state="ready"))


def test_a_code_review_vote_is_not_in_a_roll_call_message() -> None:
    with_cr = change(hashtags=["formal-vote"], rollcall={"ada": 1},
                     code_review=dict.fromkeys(TC, -1))
    without = change(hashtags=["formal-vote"], rollcall={"ada": 1})
    assert fingerprint(verdict(with_cr, T0)) == fingerprint(verdict(without, T0))


def test_an_ungoverned_change_says_so_plainly() -> None:
    assert render(verdict(change(project="example/elsewhere"), T0)) == (
        "Governance check: UNGOVERNED — no rule applies\n"
        "no rule governs changes to example/elsewhere on master")
