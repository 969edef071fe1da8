"""What every run does before its first step and after its last, however it was launched.

``aftercare run`` calls ``start_of_run`` itself before Dagster starts (so a second run is refused
before it loads anything); a run launched by the Dagster daemon (schedule, sensor, UI) gets the same
from the ``settings`` resource, which Dagster sets up once per run before the first step (the code
location uses the in-process executor) and tears down after the last.

Start: take the run lock (``pipelines.run_lock``), run ``aftercare check`` (a failed check stops the
run before it reads or writes anything), and remove candidate serving files that crashed runs left
(``serving.duckdb.<run_id>.next``: no other run can be writing one while this run holds the lock).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assets.publish.candidates import remove_stale_candidates
from pipelines import run_lock
from pipelines.check import Finding, require_ready
from sources.settings import Settings


def start_of_run(
    settings: Settings,
    holder: dict[str, str],
    api: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Lock, check, tidy; returns the check's findings. The lock stays held: call ``end_of_run``."""
    assert settings.paths.state is not None
    run_lock.acquire(run_lock.lock_path(settings.paths.state), holder)
    try:
        findings = require_ready(settings, api=api, log=log)
        for path in remove_stale_candidates(Path(settings.paths.serving)):
            if log is not None:
                log(f"removed {path}, left by a run that stopped before publishing")
    except BaseException:
        end_of_run(settings)
        raise
    return findings


def end_of_run(settings: Settings) -> None:
    assert settings.paths.state is not None
    run_lock.release(run_lock.lock_path(settings.paths.state))
