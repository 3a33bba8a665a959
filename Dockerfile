# syntax=docker/dockerfile:1
# The API in a container: `docker build -t aifacts .` then `docker run -p 8000:8000 aifacts`
# (an SQLite database inside, seeded on first start) or with DATABASE_URL pointing to
# PostgreSQL; compose.yaml runs both. The entry point migrates, seeds an empty database when
# SEED_ON_START is true, then serves WORKERS uvicorn workers on HOST:PORT.

# ---- dependencies, from the lock file alone: pinned, hashed, nothing resolved at build time
FROM python:3.12-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock \
 && /opt/venv/bin/pip check

# ---- runtime: the venv and the project, run by an unprivileged user
FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1 \
    LOG_FORMAT=json \
    SEED_ON_START=true
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin aifacts \
 && mkdir -p /app/data \
 && chown aifacts:aifacts /app/data
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations/ migrations/
COPY seed/ seed/
COPY app/ app/
# Compiled now: the user cannot write /app, and workers start faster.
RUN python -m compileall -q app migrations
USER aifacts
EXPOSE 8000
# /healthz with the image's own Python (slim has no curl), on whatever PORT says.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
# uvicorn stops on SIGTERM: no new connections, requests in flight finish (up to 20 s), exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "app.cli"]
CMD ["start"]
