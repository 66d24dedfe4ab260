"""Zuul's Gerrit comments, read back: which pipeline reported, how, and each job's link.

Zuul's Gerrit reporter writes (zuul/reporter/__init__.py, `_formatItemReport*`)::

    Build failed (check pipeline).  For information on how to proceed, see
    https://docs.example.org/ci.html
    https://zuul.example.org/t/example/buildset/4f0c...

    - tox-py311 https://zuul.example.org/t/example/build/abc123 : FAILURE in 3m 02s
    - tox-docs https://zuul.example.org/t/example/build/def456 : SUCCESS in 1m 10s (non-voting)
    - tox-lint tox-lint : SKIPPED

and Gerrit stores it as a change message prefixed "Patch Set 3: Verified-1". Only the
first line and the job lines have a fixed shape; the pipeline's messages are the
site's own text, so everything else is read leniently. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["JobResult", "ZuulReport", "parse_report", "strip_gerrit_prefix"]

# "- NAME URL : RESULT[ error detail][ in 1h 02m 03s][ (non-voting)]". Zuul writes
# the job name where the URL would be when a build has none.
_JOB = re.compile(r"^- (?P<name>\S+) (?P<url>\S+) : (?P<result>[A-Z][A-Z_]*)(?P<rest>.*)$")
_ELAPSED = re.compile(r"\s+in\s+((?:\d+h\s+)?(?:\d+m\s+)?\d+s)\s*$")
_NON_VOTING = " (non-voting)"
_PIPELINE = re.compile(r"\(([\w.+-]+) pipeline\)")
_URL = re.compile(r"https?://[^\s<>\"')]+")
_PREFIX = re.compile(r"\APatch Set \d+:[^\n]*(?:\n|\Z)")
_COMMENTS = re.compile(r"^\(\d+ (?:inline )?comments?\)$")
_PASSED = ("SUCCESS", "SKIPPED")  # anything else a voting job reports fails the buildset


@dataclass(frozen=True, slots=True)
class JobResult:
    """One job line of a Zuul report."""

    name: str
    url: str | None  # None when Zuul printed the job name instead of a link
    result: str  # SUCCESS, FAILURE, POST_FAILURE, TIMED_OUT, RETRY_LIMIT, SKIPPED, ...
    elapsed: str | None = None  # "3m 02s", as written
    voting: bool = True
    detail: str | None = None  # Zuul's error detail, when it gave one

    @property
    def failed(self) -> bool:
        return self.result not in _PASSED

    def describe(self) -> str:
        where = f" {self.url}" if self.url else ""
        return f"{self.name}{where} : {self.result}"


@dataclass(frozen=True, slots=True)
class ZuulReport:
    """A Zuul comment, parsed. `summary` is its first line ("Build failed (check
    pipeline)."), `pipeline` the pipeline named there, if any."""

    summary: str
    pipeline: str | None = None
    jobs: tuple[JobResult, ...] = ()
    buildset_url: str | None = None
    links: tuple[str, ...] = ()  # every other URL of the text, in order

    @property
    def headline(self) -> str:
        """The first sentence of the summary: "Build failed (check pipeline)."."""
        sentence = re.match(r".*?[.!](?=\s|$)", self.summary)
        return sentence[0] if sentence else self.summary

    @property
    def failed_jobs(self) -> tuple[JobResult, ...]:
        """The voting jobs that failed: what made Zuul vote -1."""
        return tuple(j for j in self.jobs if j.failed and j.voting)

    @property
    def has_results(self) -> bool:
        """Whether this comment reports builds (not a start or enqueue notice)."""
        return bool(self.jobs) or self.buildset_url is not None

    @property
    def report_url(self) -> str | None:
        """The one link to follow: the buildset, else the first failing job, else any job."""
        if self.buildset_url:
            return self.buildset_url
        failed = [j.url for j in self.failed_jobs if j.url]
        if failed:
            return failed[0]
        return next((j.url for j in self.jobs if j.url), None)


def strip_gerrit_prefix(message: str) -> str:
    """The comment as Zuul wrote it: without Gerrit's "Patch Set N: Label+1" line and
    its "(2 comments)" note."""
    text = _PREFIX.sub("", message.replace("\r\n", "\n"), count=1)
    lines = [line for line in text.split("\n") if not _COMMENTS.match(line.strip())]
    return "\n".join(lines).strip("\n")


def _job(line: str) -> JobResult | None:
    match = _JOB.match(line.strip())
    if match is None:
        return None
    rest = match["rest"]
    voting = True
    if rest.endswith(_NON_VOTING):
        voting = False
        rest = rest[: -len(_NON_VOTING)]
    elapsed = None
    found = _ELAPSED.search(rest)
    if found:
        elapsed = re.sub(r"\s+", " ", found[1])
        rest = rest[: found.start()]
    url = match["url"]
    return JobResult(name=match["name"], url=url if _URL.fullmatch(url) else None,
                     result=match["result"], elapsed=elapsed, voting=voting,
                     detail=rest.strip() or None)


def parse_report(message: str) -> ZuulReport | None:
    """Read a Zuul comment (with or without Gerrit's prefix); None for an empty one."""
    text = strip_gerrit_prefix(message)
    lines = [line.rstrip() for line in text.split("\n")]
    summary = next((line.strip() for line in lines if line.strip()), "")
    if not summary:
        return None
    jobs: list[JobResult] = []
    job_urls: set[str] = set()
    for line in lines:
        job = _job(line)
        if job is not None:
            jobs.append(job)
            if job.url:
                job_urls.add(job.url)
    buildset = None
    links: list[str] = []
    for url in _URL.findall(text):
        url = url.rstrip(".,;:")
        if url in job_urls:
            continue
        if buildset is None and "/buildset/" in url:
            buildset = url
        elif url not in links:
            links.append(url)
    pipeline = _PIPELINE.search(summary)
    return ZuulReport(summary=summary, pipeline=pipeline[1] if pipeline else None,
                      jobs=tuple(jobs), buildset_url=buildset, links=tuple(links))
