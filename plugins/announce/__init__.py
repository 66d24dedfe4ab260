"""announce: Gerrit events to IRC channels in gerritbot's style (see plugin.py)."""
