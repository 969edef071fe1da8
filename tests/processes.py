"""Helpers for tests that start the CLI's long-running processes (simulator, dashboard)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def cli_environment(**settings: str) -> dict[str, str]:
    """The environment for a CLI subprocess: this process's, without any ``AFTERCARE_*`` or
    ``DAGSTER_*`` variable a test left behind (an in-process run sets the warehouse path), plus
    ``settings``. Every subprocess says the configuration it means."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERCARE_", "DAGSTER_"))}
    env["AFTERCARE_ENV"] = "local"
    return {**env, **settings}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch_text(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_until_up(url: str, seconds: float = 60) -> str | None:
    """The body at ``url`` once it answers, or None after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = fetch_text(url)
        if body is not None:
            return body
        time.sleep(0.3)
    return None


def start_dashboard(port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`aftercare dashboard --port PORT`, as a user starts it."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dashboard", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
