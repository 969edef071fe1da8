"""WeCom's activity pulls started by one step and reported by a later one: the month's overlap.

The consultants' behaviour statistics and the group-message results feed only the communication
KPIs (dbt), yet they are the month's longest pulls: mostly waiting on WeCom's rate limit (10,000
calls a minute, one behaviour call per consultant and day). OneID and its checks, which run between
the pulls and dbt, do not read them. So ``wechat_pulls`` starts them in threads of the run's process
(``start``) next to its own pulls, and ``wecom_activity`` waits for them (``take``) just before dbt:
the waiting happens while OneID computes (docs/wechat.md "The activity pulls run beside OneID").

That needs the run's steps in one process, as the in-process executor runs them (``aftercare run``,
the schedules, ``dagster.materialize``). A run whose ``wecom_activity`` finds nothing started for it
(the nightly pull, a re-execution, another executor) pulls in its own step, as before.

A pull started early writes to the warehouse through its own connection, like the pull threads of one
step; it logs through a ``RelayLog`` that holds its lines until the reporting step attaches its log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

PullResults = list  # the dg.MaterializeResult of a pull


class RelayLog:
    """A logger for work that outlives the step that started it.

    Lines logged before ``attach`` are kept, stamped with their clock time, and logged to the
    attached log when it comes; later lines go straight to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[tuple[str, str, str]] = []
        self._target = None

    def info(self, message: str) -> None:
        self._log("info", message)

    def warning(self, message: str) -> None:
        self._log("warning", message)

    def _log(self, level: str, message: str) -> None:
        with self._lock:
            if self._target is None:
                self._held.append((level, time.strftime("%H:%M:%S"), message))
                return
            target = self._target
        getattr(target, level)(message)

    def attach(self, log) -> None:
        """Log what was held (in order, each line with the time it was logged), then pass lines on."""
        with self._lock:  # nothing logs in between: the held lines stay in order
            for level, at, message in self._held:
                getattr(log, level)(f"[logged at {at}] {message}")
            self._held, self._target = [], log


@dataclass(frozen=True)
class LogOnly:
    """What a pull takes of a step's context: its log (``context.log``)."""

    log: RelayLog


_lock = threading.Lock()
_started: dict[str, tuple[dict[str, Future], RelayLog]] = {}


def start(run_id: str, pulls: dict[str, Callable[[], PullResults]], log: RelayLog) -> bool:
    """Start ``pulls`` (name: function) in threads of this process, for the run ``run_id``; False
    (nothing started) when pulls of that run are started and not yet taken: two pulls of one table
    at once would write over each other (a step retried in the same run).

    The threads are not daemons: a process whose run failed before ``take`` still lets them finish
    (each pull commits its progress as it goes; a thread cut off would only lose the last wave)."""
    with _lock:
        if run_id in _started:
            return False
        pool = ThreadPoolExecutor(max_workers=len(pulls), thread_name_prefix="wecom-activity")
        _started[run_id] = ({name: pool.submit(pull) for name, pull in pulls.items()}, log)
        pool.shutdown(wait=False)  # the threads end with their pulls
    return True


def take(run_id: str) -> tuple[dict[str, Future], RelayLog] | None:
    """The pulls ``start`` began for ``run_id`` and their log, once; None when none were started."""
    with _lock:
        return _started.pop(run_id, None)
