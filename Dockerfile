# govbot: one container, pointed at Gerrit, IRC and the governance config repo.
#   docker build -t govbot .
#   docker run --rm govbot --help
#   docker run -d -v govbot-state:/var/lib/govbot \
#       -v /srv/govbot/govbot.yaml:/etc/govbot/govbot.yaml:ro govbot
# docs/deploy.md says what to mount, which secrets, and how to upgrade and back up.
#
# BASE: any Debian 12 with python3 (>= 3.11) and its venv module. The default is the
# official image; tests build on a Debian 12 made locally with debootstrap
# (govbot/testing/container.py), with git and openssh-client already in it.
ARG BASE=python:3.11.13-slim-bookworm

FROM ${BASE} AS base
# git: the governance config repo is cloned and fetched with GitPython; ssh: for a repo
# reached over SSH. Installed only when the base lacks them (the official image does).
RUN set -eu; \
    if ! command -v git >/dev/null || ! command -v ssh >/dev/null; then \
        apt-get update; \
        apt-get install -y --no-install-recommends git openssh-client ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10001 govbot; \
    useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/govbot --no-create-home \
        --shell /usr/sbin/nologin govbot; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/govbot; \
    # A config repo mounted from the host belongs to another uid; git refuses such a
    # repo ("dubious ownership") unless its path is listed here. Another path: see
    # docs/deploy.md.
    git config --system --add safe.directory /etc/govbot/governance; \
    git config --system --add safe.directory /etc/govbot/governance/.git

# The dependencies' names, read from pyproject.toml in a stage of their own: the next
# stage depends only on this list, so a change elsewhere in pyproject.toml (or in the
# code) does not reinstall every wheel. setuptools builds govbot's wheel offline below.
FROM base AS requirements
COPY pyproject.toml /src/pyproject.toml
RUN python3 -c "import tomllib; \
deps = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']; \
print('\n'.join(deps + ['setuptools>=77']))" > /requirements.txt

FROM base AS deps
# pip reaches the package index as pip on the building host does: the test passes the
# host's pip settings (index, certificate bundle) as these build args.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_CERT
ARG PIP_DEFAULT_TIMEOUT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY --from=requirements /requirements.txt /requirements.txt
RUN python3 -m venv /opt/govbot && /opt/govbot/bin/pip install -r /requirements.txt

FROM deps AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY govbot ./govbot
COPY plugins ./plugins
# Everything it needs is in the venv already: no network, no build isolation.
RUN /opt/govbot/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .

# The image: the dependencies' layers as they are, then govbot's wheel (a code change
# adds a layer of a few MB, not a copy of every dependency).
FROM deps
COPY --from=build /wheels /wheels
RUN /opt/govbot/bin/pip install --no-deps /wheels/*.whl && rm -rf /wheels /requirements.txt
COPY etc/container/entrypoint /usr/local/bin/govbot-entrypoint
ENV PATH=/opt/govbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GOVBOT_HEALTH_URL=http://127.0.0.1:8080/healthz
RUN mkdir -p /etc/govbot && govbot version
USER 10001:10001
WORKDIR /var/lib/govbot
VOLUME ["/var/lib/govbot"]
EXPOSE 8080
# Liveness: /healthz answers while the event loop runs. GOVBOT_HEALTH_URL follows
# web.listen when the settings move the port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['GOVBOT_HEALTH_URL'], timeout=4)"]
ENTRYPOINT ["govbot-entrypoint"]
CMD ["run", "--config", "/etc/govbot/govbot.yaml"]
