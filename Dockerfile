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

# Runtime stage: the virtualenv only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 edigate
COPY --from=build /opt/edigate /opt/edigate
ENV PATH=/opt/edigate/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER edigate
WORKDIR /home/edigate
ENTRYPOINT ["edigate"]
CMD ["--help"]
