"""govbot's public test kit: a faithful Gerrit emulator, real IRC servers on
loopback, and realistic sample events. Used by govbot's own tests, the demo, and
plugin authors' tests."""
