# syntax=docker/dockerfile:1
# Build stage: compile the translators' hot path with mypyc and install the package into a
# self-contained virtualenv.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY translators translators
COPY schemas schemas
COPY partners partners
COPY gateway gateway
RUN python -m venv /opt/edigate \
    && /opt/edigate/bin/pip install --no-cache-dir "mypy>=1.10" "setuptools>=77" wheel \
    && EDIGATE_MYPYC=1 /opt/edigate/bin/pip install --no-cache-dir --no-build-isolation . \
    && /opt/edigate/bin/pip uninstall -y mypy

# Runtime stage: the virtualenv and the partner profiles only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 edigate \
    && mkdir -p /var/lib/edigate && chown edigate /var/lib/edigate
COPY --from=build /opt/edigate /opt/edigate
COPY --chown=edigate partners /etc/edigate/partners
ENV PATH=/opt/edigate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    EDIGATE_PARTNERS_DIR=/etc/edigate/partners \
    EDIGATE_VAR_DIR=/var/lib/edigate \
    EDIGATE_LEDGER_KEY_PATH=/var/lib/edigate/ledger-ed25519.pem \
    EDIGATE_AS2_KEY=/var/lib/edigate/as2/key.pem \
    EDIGATE_AS2_CERT=/var/lib/edigate/as2/cert.pem \
    EDIGATE_DATABASE_URL=sqlite:////var/lib/edigate/edigate.db
USER edigate
WORKDIR /var/lib/edigate
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
# Migrate, then serve (worker processes beside the web process: EDIGATE_WORKERS). Mount the
# ledger key, the AS2 key and certificate (or run `edigate certs generate` with
# EDIGATE_AS2_ID set) and the partner profiles in production.
ENTRYPOINT ["/bin/sh", "-c", "edigate db upgrade && exec edigate serve --host 0.0.0.0 --port 8000 \"$@\"", "--"]
