# syntax=docker/dockerfile:1
# Build stage: build a wheel and install it into a self-contained virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY translators translators
COPY schemas schemas
COPY partners partners
COPY gateway gateway
RUN python -m venv /opt/edigate && /opt/edigate/bin/pip install --no-cache-dir .

# Runtime stage: the virtualenv only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --create-home --uid 10001 edigate
COPY --from=build /opt/edigate /opt/edigate
ENV PATH=/opt/edigate/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER edigate
WORKDIR /home/edigate
ENTRYPOINT ["edigate"]
CMD ["--help"]
