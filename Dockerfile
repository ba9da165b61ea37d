# pesaguard: one image for the API (`pesaguard serve`, the default command), the stream consumer
# (`pesaguard consume`), migrations (`pesaguard db migrate`) and every other CLI command.
# Build: docker build -t pesaguard:0.1.0 .        Run: see docs/deploy.md
# Linted by hadolint in the test suite (tests/test_deploy.py).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: compilers and headers live here only ---------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# dependencies first (a layer reused while only the code changes), then the package itself
COPY pyproject.toml README.md ./
RUN mkdir -p src/pesaguard && touch src/pesaguard/__init__.py \
 && pip install --no-compile . && pip uninstall -y pesaguard
COPY src ./src
RUN pip install --no-compile --no-deps . \
 && python -m compileall -q /opt/venv/lib

# -- runtime: the virtualenv, LightGBM's OpenMP runtime, a non-root user ---------------------------
FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: LightGBM's OpenMP runtime (its wheel links the system one). Unpinned on purpose: the
# Debian security archive replaces versions, and a pinned one stops building when it does.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pesaguard \
 && useradd --system --uid 10001 --gid pesaguard --home-dir /var/lib/pesaguard --shell /usr/sbin/nologin pesaguard \
 && install -d -o pesaguard -g pesaguard /var/lib/pesaguard /var/cache/pesaguard/numba
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PESAGUARD_HOME=/var/lib/pesaguard \
    NUMBA_CACHE_DIR=/var/cache/pesaguard/numba \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
# the feature kernel compiled once here, not in every container's first minute
COPY deploy/docker/warm_numba.py /tmp/warm_numba.py
RUN python /tmp/warm_numba.py && rm /tmp/warm_numba.py \
 && chown -R pesaguard:pesaguard /var/cache/pesaguard
USER 10001:10001
WORKDIR /var/lib/pesaguard
VOLUME ["/var/lib/pesaguard"]
EXPOSE 8000 9100
# /healthz of the API (8000) by default; the consumer's container sets HEALTHCHECK_URL to its port 9100
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["pesaguard"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
