"""The governance plugin's web pages: the board `/`, the verdict page `/change/<n>`, the
rule simulator `/simulate`, and the JSON API behind them (docs/web.md)."""
