"""One run at a time: an exclusive lock held for the whole run, by ``aftercare run`` and Dagster alike.

Two runs writing one warehouse interleave their steps (DuckDB lets one process write at a time, so
each step waits for the other's, and the result is neither run's). The lock is ``flock`` on
``paths.state/run.lock``: the kernel releases it when the holding process dies, even by
``kill -9``, so a crashed run never leaves a stale lock behind. The file records who holds it
(pid, run, month, since when) for the message a second run gets.

Re-entrant within a process: the CLI takes the lock before Dagster starts and the ``settings``
resource takes it again when the run's resources are set up (which is all a run launched by the
Dagster daemon does); the lock is released when the outermost holder lets go.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "run.lock"


class RunLocked(RuntimeError):
    """Another run holds the lock; the message says which."""


_held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, depth) held by this process
_guard = threading.Lock()


def lock_path(state_dir: Path) -> Path:
    return Path(state_dir) / LOCK_NAME


def acquire(path: Path, holder: dict[str, str]) -> None:
    """Take the lock at ``path`` without waiting, or raise ``RunLocked`` naming its holder."""
    path = path.resolve()
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            current = _read_holder(fd)
            os.close(fd)
            raise RunLocked(
                f"another aftercare run holds {path}: {describe(current)}; runs go one at a time, wait for "
                "it to finish (a crashed run releases the lock by itself)"
            ) from None
        record = {**holder, "pid": str(os.getpid()), "since": dt.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        _held[path] = (fd, 1)


def release(path: Path) -> None:
    path = path.resolve()
    with _guard:
        fd, depth = _held[path]
        if depth > 1:
            _held[path] = (fd, depth - 1)
            return
        del _held[path]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def run_lock(state_dir: Path, **holder: str):
    path = lock_path(state_dir)
    acquire(path, holder)
    try:
        yield path
    finally:
        release(path)


def holds(state_dir: Path) -> bool:
    """Whether this process holds the run lock of ``state_dir``."""
    return lock_path(state_dir).resolve() in _held


def _read_holder(fd: int) -> dict[str, str]:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}


def describe(holder: dict[str, str]) -> str:
    if not holder:
        return "a run that has not said who it is"
    parts = [f"pid {holder.get('pid', '?')}"]
    for key in ("month", "run_id", "launched_by", "since"):
        if holder.get(key):
            parts.append(f"{key.replace('_', ' ')} {holder[key]}")
    return ", ".join(parts)
