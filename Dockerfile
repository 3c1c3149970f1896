FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
# WeasyPrint needs Pango; the rest is pure Python wheels.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-liberation && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
# collectstatic reads the production settings, which refuse placeholder secrets: throwaway
# random ones, used for nothing and not kept in the image.
RUN key() { python -c 'import secrets; print(secrets.token_urlsafe(64))'; } && \
    DEBUG=false SECRET_KEY=$(key) PII_ENCRYPTION_KEY=$(key) PII_HASH_KEY=$(key) \
    ENCRYPTION_KEYS=build:$(python -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())') \
    python manage.py collectstatic --no-input -v0
RUN useradd --system --uid 10001 bpij && mkdir -p /app/var && chown bpij /app/var
USER bpij
EXPOSE 8000
CMD ["gunicorn", "bpij.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
