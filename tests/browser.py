"""A real browser for dashboard tests: Debian's Chromium driven by Playwright.

Playwright's own browser download cannot run here (no network beyond package registries), so the
tests use the system Chromium (`apt-get install chromium`; `.ci/run` installs it). Without one the
browser tests skip locally and fail under CI, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil

import pytest

# flags for a sandboxed machine with a closed network (no GPU, no background calls home)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("AFTERCARE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path:
        return path
    message = "no Chromium on this machine: `apt-get install chromium` (or set AFTERCARE_CHROMIUM)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
