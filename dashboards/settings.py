"""The dashboard process's configuration: ``aftercare.toml`` and ``AFTERCARE_*`` as the CLI reads them.

``aftercare dashboard`` passes ``AFTERCARE_CONFIG`` on to Streamlit, so the app sees the file the
command was given. Loaded once per process (tests clear the cache after changing the environment).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from sources.settings import Settings, load_settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


def serving_path() -> Path:
    return Path(settings().paths.serving)


def state_dir() -> Path:
    return Path(settings().paths.state)


def runs_dir() -> Path:
    return Path(settings().paths.runs)


def session_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings().dashboard.session_hours)


def lockout_policy():
    from dashboards.accounts import LockoutPolicy

    config = settings().dashboard
    return LockoutPolicy(config.max_failed_logins, dt.timedelta(minutes=config.lockout_minutes))
