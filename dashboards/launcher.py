"""``aftercare dashboard``: start Streamlit on the serving database.

Streamlit runs ``server.py``, an ``st.App`` that serves ``app.py`` plus the sign-in routes.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from sources.settings import load_settings

SERVER = Path(__file__).resolve().parent / "server.py"
PROJECT_ROOT = SERVER.parents[1]


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(SERVER),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",        # no "Deploy" or developer menu for users
        "--server.fileWatcherType", "none",      # a server, not a development session
        "--client.showErrorDetails", "none",     # tracebacks go to the log, not to the browser
        "--client.disableDataExport", "true",    # files leave only through the audited downloads
        # the pages write through st.* calls only; "magic" parses each page into a Python AST, and
        # CPython 3.11's AST objects are not thread-safe across concurrent parses (gh-106905:
        # "AST constructor recursion depth mismatch", seen in the suite with two script threads)
        "--runner.magicEnabled", "false",
    ]  # fmt: skip


def dashboard_env(config_file: str | None) -> dict[str, str]:
    settings = load_settings(config_file)
    env = dict(os.environ)
    env["AFTERCARE_PATHS_SERVING"] = str(settings.paths.serving)
    if config_file:
        env["AFTERCARE_CONFIG"] = str(Path(config_file).resolve())
    # the app imports `dashboards.*` from the project root
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def start_dashboard(host: str, port: int, config_file: str | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(streamlit_command(host, port), env=dashboard_env(config_file), **popen)


def serve_until_stopped(process: subprocess.Popen) -> int:
    """Wait on the Streamlit child; Ctrl-C or SIGTERM (a scheduler, a test) stops it too.

    Without forwarding SIGTERM, stopping ``aftercare dashboard`` would leave Streamlit serving.
    """
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=20)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def dashboard_command(args: argparse.Namespace) -> int:
    print(f"aftercare dashboard: http://{args.host}:{args.port}", flush=True)
    return serve_until_stopped(start_dashboard(args.host, args.port, args.config))
