# The hub's one image: web (gunicorn), the Celery workers, beat and the migrate step all run
# it with another command (docker-compose.yml; docs/deploy.md). .dockerignore keeps the
# virtualenv, var/ (uploads), .env and .git out of the build context.
FROM python:3.11-slim-bookworm

# DEBUG is off in the image whatever the deployment forgets to set: the production
# settings then refuse to start without real secrets (docs/operations.md).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH \
    DEBUG=false \
    BPIJ_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles \
    PORT=8000

# WeasyPrint needs Pango; the rest is pure Python wheels. No font package: the PDFs use
# only the Liberation Sans shipped under static/vendor/fonts (@font-face in print.css,
# docs/exports.md); fontconfig still brings its one default font. manage.py backup and
# restore run pg_dump and pg_restore, which must be at least the server's major version
# (compose's db is postgres:16; bookworm has only 15): PostgreSQL's own apt repository.
ARG PG_MAJOR=16
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
       https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
       > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       postgresql-client-${PG_MAJOR} \
    && apt-get purge -y curl && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv

# The checks' native readers of workbook cells and CSV records (native/sheetcells) are a
# C extension that uv builds here: a compiler for the build, removed after it.
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY native ./native
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && uv sync --frozen --no-dev --no-install-project \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY . .

# The hub's own modules compiled once here (PYTHONDONTWRITEBYTECODE keeps every process
# from writing them, and the code is read-only to the app): a worker or a manage.py
# command would otherwise compile them at each start.
RUN python -m compileall -q bpij grantees reporting coaching

# collectstatic reads the production settings, which refuse placeholder secrets: throwaway
# random ones, used for nothing and not kept in the image.
RUN key() { python -c 'import secrets; print(secrets.token_urlsafe(64))'; } && \
    DEBUG=false SECRET_KEY=$(key) PII_ENCRYPTION_KEY=$(key) PII_HASH_KEY=$(key) \
    ENCRYPTION_KEYS=build:$(python -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())') \
    python manage.py collectstatic --no-input -v0

# The app's user owns /app/var and the media folder in it, made here, before USER: a
# fresh named volume mounted at /app/var/media takes the ownership of the image's folder,
# so uploads can be written without a root step at start. The code stays root's,
# read-only to the app.
RUN groupadd --system --gid 10001 bpij \
    && useradd --system --uid 10001 --gid bpij --home-dir /app/var --no-create-home bpij \
    && mkdir -p /app/var/media \
    && chown -R bpij:bpij /app/var \
    && chmod 0750 /app/var /app/var/media
USER bpij:bpij

EXPOSE 8000
# The web container's; docker-compose.yml gives the workers and beat their own.
HEALTHCHECK --interval=15s --timeout=6s --start-period=30s --retries=3 \
    CMD ["python", "docker/healthcheck.py"]
CMD ["gunicorn", "--config", "bpij/gunicorn_conf.py", "bpij.wsgi"]
