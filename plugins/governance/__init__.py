"""governance: an explained verdict on every governed change, as a vote (see plugin.py)."""
