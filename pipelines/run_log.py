"""The run's log file: everything the process and its children write while a run goes.

Dagster logs through Python's ``logging`` to stderr, dagster-dbt streams dbt's lines, dbt runs as a
child process, libraries print warnings: redirecting ``sys.stdout`` would miss the child processes,
so the redirection is at the file descriptors 1 and 2, through a pipe that a thread copies to the log
file (and to the terminal too when ``echo``, for ``--verbose``). The terminal stays reachable
through the stream ``run_log`` yields, for the few lines the operator reads.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from multiprocessing import resource_tracker
from pathlib import Path
from typing import TextIO


def _copy(source: int, log_file: Path, terminal: int | None) -> None:
    with open(log_file, "ab") as log:
        while chunk := os.read(source, 65536):
            log.write(chunk)
            log.flush()
            if terminal is not None:
                os.write(terminal, chunk)


@contextlib.contextmanager
def run_log(log_file: Path, echo: bool = False) -> Iterator[TextIO]:
    """Send this process's stdout and stderr (and its children's) to ``log_file`` while inside; yield
    a text stream to the terminal (the stdout from before). Restored on the way out, also on error."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # multiprocessing's resource tracker is a helper process started on first need and kept until
    # this process ends; started inside, it would inherit the pipe and hold it open, and the copier
    # would wait for an end that never comes. Started here, it keeps the terminal's stdout/stderr.
    resource_tracker.ensure_running()
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    read_end, write_end = os.pipe()
    copier = threading.Thread(
        target=_copy, args=(read_end, log_file, saved_out if echo else None), name="run-log", daemon=True
    )
    copier.start()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    terminal = os.fdopen(os.dup(saved_out), "w", encoding="utf-8", buffering=1, closefd=True)
    try:
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)  # the pipe's last write ends close here: the copier reads to its end
        os.dup2(saved_err, 2)
        # (a child process still holding the pipe would keep it open: do not wait for it long; what
        # a straggler writes after the run is not the run's)
        copier.join(timeout=5)
        terminal.close()
        os.close(saved_out)
        os.close(saved_err)
        if not copier.is_alive():
            os.close(read_end)
