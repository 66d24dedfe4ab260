"""govbot: a governance bot for Gerrit, Zuul and IRC communities."""

__version__ = "0.1.0"
