"""Zuul integration: what Zuul knows about a change, for verdicts and answers.

- `govbot.zuul.model`: frozen result types and the plugins' read-only `CiReader`;
- `govbot.zuul.report`: Zuul's Gerrit comments parsed (pipeline, job links);
- `govbot.zuul.status`: Zuul's status and builds JSON parsed;
- `govbot.zuul.client`: the aiohttp client with timeouts and a short cache.

docs/zuul.md is the operator guide.
"""

from govbot.zuul.model import Build, Builds, CiReader, CiStatus, Enqueued
from govbot.zuul.report import JobResult, ZuulReport, parse_report

__all__ = ["Build", "Builds", "CiReader", "CiStatus", "Enqueued", "JobResult", "ZuulReport",
           "parse_report"]
