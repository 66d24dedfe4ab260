"""Durable state in SQLite (WAL): inbox, plugin values, and what later features add."""
