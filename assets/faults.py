"""Crash points for the reliability suite: ``AFTERCARE_FAULT_CRASH_AT=<point>`` kills the run there.

A test starts ``aftercare run`` with the variable set and checks that the warehouse and
``serving.duckdb`` survive a ``kill -9`` at that point and that the next run completes with
nothing lost or doubled (``tests/reliability/test_monthly_run.py``). Without the variable a crash
point does nothing. Points: ``ingestion`` (after a table's files are committed, with more to come)
and ``identity`` (inside the transaction that publishes OneID); dbt and publish are killed from
outside while they run.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "AFTERCARE_FAULT_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)  # as abrupt as a power cut: no cleanup, no finally
