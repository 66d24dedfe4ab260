# govbot: one container, pointed at Gerrit, IRC and the governance config repo.
#   docker build -t govbot .
#   docker run -v govbot-state:/var/lib/govbot -v ./govbot.yaml:/etc/govbot/govbot.yaml:ro govbot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY govbot ./govbot
COPY plugins ./plugins
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# git: the governance config repo is cloned and fetched with GitPython.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/govbot --create-home govbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY etc/govbot.yaml /etc/govbot/govbot.yaml
USER govbot
WORKDIR /var/lib/govbot
VOLUME ["/var/lib/govbot"]
EXPOSE 8080
# /healthz answers 200 once the daemon runs with a loaded config, 503 otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["govbot", "run", "--config", "/etc/govbot/govbot.yaml"]
