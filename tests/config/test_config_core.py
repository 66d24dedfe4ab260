"""people.yaml and bodies.yaml: identities, membership, roles; one test per error kind."""

from __future__ import annotations

import textwrap

from conftest import PEOPLE, Loader, Writer, errors_of


def test_small_config_loads(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          name: Technical Committee
          label: Rollcall-Vote
          channel: "#tc"
          members: [alice, bob, carol]
          roles: {chair: alice, vice-chair: [bob]}
        """})
    result = load()
    assert errors_of(result) == [] and result.warnings == []
    config = result.config
    assert config is not None
    tc = config.bodies["tc"]
    assert (tc.name, tc.label, tc.channel, tc.size) == ("Technical Committee", "Rollcall-Vote",
                                                         "#tc", 3)
    assert tc.has_role("alice", "chair") and tc.roles["vice-chair"] == ("bob",)
    bob = config.people["bob"]
    assert (bob.gerrit_username, bob.gerrit_account_id, bob.emails) == (
        "bob", 1002, ("bob@example.org",))
    assert (bob.irc_account, bob.irc_nick, bob.reminders) == ("bob", "bobby", True)
    assert config.person_by_gerrit(email="ALICE@example.org") is config.people["alice"]
    assert config.person_by_irc_account("Bob") is bob


def test_body_defaults(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": "core:\n  members: [alice]\n"})
    body = load().config.bodies["core"]  # type: ignore[union-attr]
    assert (body.name, body.label, body.channel, dict(body.roles)) == (
        "core", "Code-Review", None, {})


def test_wrong_type(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": "tc:\n  name: TC\n  members: alice\n"})
    assert errors_of(load()) == [
        "bodies.yaml:3: 'members' must be a list of person ids, got a string"]


def test_unknown_key_with_hint(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE + "  remindrs: false\n"})
    assert errors_of(load()) == [
        "people.yaml:12: unknown key 'remindrs' in a person (did you mean 'reminders'?)"]


def test_missing_required_key(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE + "- id: dave\n  gerrit: {username: dave}\n"})
    assert errors_of(load()) == ["people.yaml:12: required key 'name' is missing in a person"]


def test_people_file_must_be_a_list(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": "alice:\n  name: Alice\n"})
    assert errors_of(load()) == [
        "people.yaml:1: this file must be a list of people, got a mapping"]


def test_bad_person_id(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": "- id: Alice Anders\n  name: Alice\n"})
    assert errors_of(load()) == [
        "people.yaml:1: 'id' must be a person id, got 'Alice Anders'"]


def test_duplicate_person_id(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE + "- id: bob\n  name: Another Bob\n"})
    assert errors_of(load()) == [
        "people.yaml:12: duplicate person id 'bob'; give each person a unique id "
        "(also at people.yaml:5)"]


def test_duplicate_identity_claims(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE + textwrap.dedent("""\
        - id: dave
          name: Dave Doe
          gerrit: {username: Alice, account_id: 1002, emails: [dave@example.org, Carol@Example.org]}
          irc: {account: bobby, nick: dave}
        """)})
    assert errors_of(load()) == [
        "people.yaml:14: Gerrit username 'Alice' is claimed by both 'alice' and 'dave'; "
        "an identity belongs to one person (also at people.yaml:3)",
        "people.yaml:14: Gerrit account id 1002 is claimed by both 'bob' and 'dave'; "
        "an identity belongs to one person (also at people.yaml:7)",
        "people.yaml:14: email 'Carol@Example.org' is claimed by both 'carol' and 'dave'; "
        "an identity belongs to one person (also at people.yaml:11)",
        "people.yaml:15: IRC name 'bobby' is claimed by both 'bob' and 'dave'; "
        "an identity belongs to one person (also at people.yaml:8)",
    ]


def test_dangling_person_reference(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": "tc:\n  members: [alice, bobb]\n"})
    assert errors_of(load()) == [
        "bodies.yaml:2: unknown person 'bobb' in body 'tc' (did you mean 'bob'?); "
        "add them to people.yaml or fix the id"]


def test_duplicate_member(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - alice
            - {email: alice@example.org}
        """})
    assert errors_of(load()) == [
        "bodies.yaml:4: 'alice' is listed twice in body 'tc'; remove one (also at bodies.yaml:3)"]


def test_role_naming_a_non_member(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members: [alice, bob]
          roles:
            chair: carol
            vice-chair: [bob, zed]
        """})
    assert errors_of(load()) == [
        "bodies.yaml:4: role 'chair' of body 'tc' names 'carol', who is not a member; "
        "add them to 'members' or fix the role",
        "bodies.yaml:5: role 'vice-chair' of body 'tc' names unknown person 'zed'; "
        "add them to people.yaml or fix the id",
    ]


def test_bad_channel_and_label(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          channel: tc
          label: Rollcall Vote
          members: [alice]
        """})
    assert errors_of(load()) == [
        "bodies.yaml:2: 'channel' must be an IRC channel starting with '#', got 'tc'",
        "bodies.yaml:3: 'label' must be a Gerrit label name like 'Code-Review', "
        "got 'Rollcall Vote'",
    ]


def test_inline_identity_resolves_to_a_person(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - {name: Bob B., irc: BOBBY}
            - {email: carol@example.org, irc: carol_c}
            - {gerrit: alice, email: alice@example.org}
        """})
    result = load()
    assert errors_of(result) == []
    assert result.config.bodies["tc"].members == ("bob", "carol", "alice")  # type: ignore[union-attr]


def test_inline_identity_contradicting_the_person(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - {email: bob@example.org, irc: robert}
        """})
    assert errors_of(load()) == [
        "bodies.yaml:3: member with email 'bob@example.org' is 'bob' by email, but IRC name "
        "'robert' contradicts that person's IRC name 'bob'; fix the entry or people.yaml "
        "(also at people.yaml:8)"]


def test_inline_identity_matching_two_people(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - {name: Mix, email: alice@example.org, irc: bobby}
        """})
    assert errors_of(load()) == [
        "bodies.yaml:3: member 'Mix' matches two people: 'alice' by email and 'bob' by "
        "IRC name; fix the identity (also at people.yaml:8)"]


def test_inline_identity_matching_nobody(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - {name: Zed, email: zed@example.org}
        """})
    assert errors_of(load()) == [
        "bodies.yaml:3: member 'Zed' matches no person in people.yaml; add them there or "
        "list their person id"]


def test_person_in_two_bodies_under_different_identities(write: Writer, load: Loader) -> None:
    # carol has no IRC identity in people.yaml: each body says something different.
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          members:
            - {email: carol@example.org, irc: carol}
        council:
          members:
            - {email: carol@example.org, irc: cchen}
        """})
    assert errors_of(load()) == [
        "bodies.yaml:6: 'carol' appears in body 'council' with IRC name 'cchen' but in body "
        "'tc' with IRC name 'carol'; one person has one identity (also at bodies.yaml:3)"]


def test_members_file(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        tc:
          label: Rollcall-Vote
          members_file: reference/members.yaml
        """, "reference__members.yaml": """\
        - name: Alice Anders
          irc: alice
          email: alice@example.org
          memberid: 1
          date: February 2026
          role: chair
        - name: Zoë Müller
          irc: zoe
          email: zoe@example.org
          role: vice-chair
        - name: Bob
          irc: bobby
          email: robert@example.com
          role: null
        """})
    result = load()
    assert errors_of(result) == []
    assert [str(w) for w in result.warnings] == [
        "reference/members.yaml:7: member 'Zoë Müller' of body 'tc' matches no "
        "person in people.yaml; using implicit person 'zoe-muller' (add them to people.yaml "
        "to give them a Gerrit and IRC identity)"]
    config = result.config
    assert config is not None
    tc = config.bodies["tc"]
    assert tc.members == ("alice", "zoe-muller", "bob")
    assert dict(tc.roles) == {"chair": ("alice",), "vice-chair": ("zoe-muller",)}
    zoe = config.people["zoe-muller"]
    assert (zoe.name, zoe.emails, zoe.irc_nick, zoe.irc_account) == (
        "Zoë Müller", ("zoe@example.org",), "zoe", None)


def test_members_file_errors(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": """\
        a:
          members_file: ../outside.yaml
        b:
          members_file: nowhere.yaml
        c:
          members_file: members.yaml
        """, "members.yaml": """\
        - name: Alice
          irc: alice
          email: alice@example.org
          role: chiar
        - name: Bob
          irc: robert
          email: bob@example.org
        """})
    assert errors_of(load()) == [
        "bodies.yaml:2: members_file '../outside.yaml' must be a path inside the config repo, "
        "relative to its root, like 'reference/members.yaml'",
        "bodies.yaml:4: members_file 'nowhere.yaml' does not exist; give a path relative to "
        "the config root",
        "members.yaml:4: 'role' must be one of 'chair', 'vice-chair', got 'chiar' "
        "(did you mean 'chair'?)",
        "members.yaml:5: member 'Bob' is 'bob' by email, but IRC name 'robert' contradicts "
        "that person's IRC name 'bob'; fix the entry or people.yaml (also at people.yaml:8)",
    ]


def test_implicit_person_seen_in_two_members_files(write: Writer, load: Loader) -> None:
    write(**{"bodies.yaml": """\
        a:
          members_file: a.yaml
        b:
          members_file: b.yaml
        """,
        "a.yaml": "- {name: Zed, irc: zed, email: zed@example.org}\n",
        "b.yaml": "- {name: Zed, irc: zeddy, email: zed@example.org}\n"})
    assert errors_of(load()) == [
        "b.yaml:1: 'zed' appears in body 'b' with IRC name 'zeddy' but in body 'a' with "
        "IRC name 'zed'; one person has one identity (also at a.yaml:1)"]


def test_inline_identity_without_anything_to_match(write: Writer, load: Loader) -> None:
    write(**{"people.yaml": PEOPLE, "bodies.yaml": "tc:\n  members:\n    - {name: Who}\n"})
    assert errors_of(load()) == [
        "bodies.yaml:3: member 'Who' has no email, irc or gerrit to find them by; add one"]
