"""meetings: MeetBot's #startmeeting … #endmeeting, journaled (see plugin.py)."""
