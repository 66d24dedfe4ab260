"""Two more governance shapes of the example: per-path core teams (example/compute) and
the infrastructure council with a chair who breaks ties and holds a veto.

nova-core: priya, quentin, rosa, sven, bruno. nova-libvirt-core: priya, rosa, tomas, ursula.
nova-xen-core: sven, victor, ursula. infra-council: kofi (chair), lena, marek, nadia, chiara.
"""

from __future__ import annotations

from typing import Any

import pytest

from govbot.plugins.governance.verdict import BLOCKED, PENDING, READY
from tests.governance.kit import COMPUTE, INFRA, T0, change, reasons, verdict

LIBVIRT = "nova/virt/libvirt/driver.py"
XEN = "nova/virt/xenapi/vmops.py"
API = "nova/compute/api.py"

PATH_CASES: dict[str, tuple[list[str], str, dict[str, int], str, str]] = {
    # files, owner, Code-Review votes, state, text in reasons
    "libvirt-core-plus-2-ready": (
        [LIBVIRT], "victor", {"tomas": 2}, READY,
        "nova/virt/libvirt/driver.py: Code-Review +2 from Nova libvirt driver core "
        "reviewers: Tomás Ferreira"),
    "nova-core-has-no-power-over-libvirt": (
        [LIBVIRT], "victor", {"bruno": 2, "quentin": 2}, PENDING,
        "nova/virt/libvirt/driver.py: Code-Review +2 from Nova libvirt driver core "
        "reviewers: 0 so far"),
    "each-path-needs-its-team": (
        [LIBVIRT, API], "victor", {"tomas": 2}, PENDING,
        "nova/compute/api.py: Code-Review +2 from Nova core reviewers: 0 so far"),
    "one-person-on-two-teams-approves-both": (
        [LIBVIRT, API], "victor", {"priya": 2}, READY,
        "nova/compute/api.py: Code-Review +2 from Nova core reviewers: Priya Raman"),
    "two-driver-teams-one-member-of-both": (
        [LIBVIRT, XEN], "victor", {"ursula": 2}, READY, "Nova Xen driver core reviewers: "
                                                        "Ursula Kowalczyk"),
    "three-areas-two-teams-done": (
        [LIBVIRT, XEN, API], "tomas", {"priya": 2, "victor": 2}, READY,
        "nova/virt/xenapi/vmops.py: Code-Review +2 from Nova Xen driver core reviewers: "
        "Victor Achterberg"),
    "plus-1-from-a-core-is-not-an-approval": (
        [API], "victor", {"rosa": 1, "sven": 1}, PENDING, "0 so far"),
    "minus-2-from-an-owning-core-blocks": (
        [LIBVIRT], "victor", {"priya": 2, "rosa": -2}, BLOCKED,
        "objection from Rosa Jiménez (-2)"),
    "minus-1-is-review-feedback-not-a-block": (
        [LIBVIRT], "victor", {"priya": 2, "rosa": -1}, READY, "Priya Raman"),
    "minus-2-from-another-team-does-not-block-this-path": (
        [LIBVIRT], "victor", {"priya": 2, "sven": -2}, READY, "Priya Raman"),
    "owner-plus-2-not-counted": (
        [LIBVIRT], "priya", {"priya": 2}, PENDING, "0 so far"),
}


@pytest.mark.parametrize(("files", "owner", "cr", "state", "text"), list(PATH_CASES.values()),
                         ids=list(PATH_CASES))
def test_per_path_core_teams(files: list[str], owner: str, cr: dict[str, int], state: str,
                             text: str) -> None:
    v = verdict(change(project=COMPUTE, files=files, owner=owner, code_review=cr), T0)
    assert v.rule == "compute-core"
    assert v.state == state, reasons(v)
    assert text in reasons(v), reasons(v)


def test_only_the_teams_owning_touched_paths_are_asked() -> None:
    v = verdict(change(project=COMPUTE, files=[XEN], owner="tomas"), T0)
    assert {row.body for row in v.members} == {"nova-xen-core"}
    assert [m.person for m in v.missing] == ["sven", "victor", "ursula"]


COUNCIL_CASES: dict[str, tuple[dict[str, int], str, str]] = {
    "majority-ready": ({"lena": 1, "marek": 1, "nadia": 1}, READY, "more yes than no"),
    "tie-broken-by-the-chair": (
        {"kofi": 1, "lena": 1, "marek": -1, "nadia": -1}, READY,
        "tied 2-2; the chair, Kofi Mensah, voted yes and breaks the tie"),
    "tie-with-chair-against-is-vetoed": (
        {"kofi": -1, "lena": 1, "marek": 1, "nadia": -1}, BLOCKED,
        "vetoed by the chair, Kofi Mensah"),
    "chair-veto-blocks-a-majority": (
        {"kofi": -1, "lena": 1, "marek": 1, "nadia": 1, "chiara": 1}, BLOCKED,
        "vetoed by the chair, Kofi Mensah"),
    "below-quorum-pending": (
        {"lena": 1, "marek": 1}, PENDING,
        "quorum of 3 (floor(n/2)+1 with n=5) members voting: 2 so far"),
    "tie-without-the-chair-yet-pending": (
        {"lena": 1, "marek": -1, "nadia": 0}, PENDING,
        "more yes than no needed: 1 yes, 1 no so far (a tie is broken by the chair)"),
    "more-no-than-yes-blocked": (
        {"kofi": 1, "lena": -1, "marek": -1, "nadia": -1}, BLOCKED, "more no than yes"),
}


@pytest.mark.parametrize(("cr", "state", "text"), list(COUNCIL_CASES.values()),
                         ids=list(COUNCIL_CASES))
def test_infrastructure_council(cr: dict[str, Any], state: str, text: str) -> None:
    v = verdict(change(project=INFRA, files=["playbooks/site.yaml"], owner="lena",
                       code_review=cr), T0)
    assert v.rule == "infra-council"
    assert v.state == state, reasons(v)
    assert text in reasons(v), reasons(v)
