"""elections: candidacy checks on every nomination, the election timeline on IRC, and the
roll of electors (see plugin.py and docs/elections.md)."""
