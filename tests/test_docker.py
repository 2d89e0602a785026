"""The Docker image builds from the repository (what ``docker compose up --build`` does)
and its ``edigate`` runs. Needs a Docker engine: skipped, saying why, where ``docker
info`` does not answer (no docker client, no daemon, no permission)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TAG = "edigate-test:ci"


def _engine() -> str | None:
    """Why there is no usable Docker engine, or None when there is one."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 30 s"
    if info.returncode != 0 or not info.stdout.strip():
        detail = (info.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no Docker engine answers docker info: {detail}"
    return None


_NO_ENGINE = _engine()


@pytest.mark.slow
@pytest.mark.skipif(_NO_ENGINE is not None, reason=str(_NO_ENGINE))
def test_the_image_builds_and_runs_edigate() -> None:
    """``docker build .`` succeeds and the image's edigate lists the baked-in partners."""
    built = subprocess.run(["docker", "build", "-t", TAG, "."], cwd=REPO, capture_output=True,
                           text=True, timeout=1800, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        listed = subprocess.run(["docker", "run", "--rm", "--entrypoint", "edigate", TAG,
                                 "partners", "list"], capture_output=True, text=True,
                                timeout=300, check=False)
        assert listed.returncode == 0, listed.stderr
        assert "acme-retail" in listed.stdout and "initech-eu" in listed.stdout
    finally:
        subprocess.run(["docker", "rmi", "-f", TAG], capture_output=True, timeout=120,
                       check=False)
