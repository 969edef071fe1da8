"""`aftercare dashboard` stops Streamlit with it: a stopped launcher leaves nothing serving."""

import os
import time
from pathlib import Path

from tests.processes import fetch_text, free_port, start_dashboard, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


def test_terminating_the_launcher_stops_streamlit(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), AFTERCARE_PATHS_SERVING=str(tmp_path / "serving.duckdb"))
    port = free_port()
    health = f"http://127.0.0.1:{port}/_stcore/health"
    launcher = start_dashboard(port, env, tmp_path)
    try:
        assert wait_until_up(health) == "ok", "the dashboard did not come up"
        launcher.terminate()
        launcher.wait(timeout=30)
        deadline = time.monotonic() + 30
        while fetch_text(health) is not None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert fetch_text(health) is None, "Streamlit still serves after the launcher stopped"
    finally:
        launcher.kill()
