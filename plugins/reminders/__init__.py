"""reminders: meetings about to start, votes still missing, deadlines (see plugin.py)."""
