"""`aftercare dashboard` stops Streamlit with it: a stopped launcher leaves nothing serving."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_terminating_the_launcher_stops_streamlit(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), AFTERCARE_PATHS_SERVING=str(tmp_path / "serving.duckdb"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "dashboard", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: health(url) == "ok", 60), "the dashboard did not come up"
        launcher.terminate()
        launcher.wait(timeout=30)
        assert wait_for(lambda: health(url) is None, 30), "Streamlit still serves after the launcher stopped"
    finally:
        launcher.kill()
