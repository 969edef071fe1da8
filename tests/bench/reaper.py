"""Run a command so that every process it starts is counted, orphans included (Linux).

``python -m tests.bench.reaper COMMAND...`` makes itself a *child subreaper*
(``prctl(PR_SET_CHILD_SUBREAPER)``), starts COMMAND and waits for every descendant to end, then
exits with COMMAND's exit code.

Why: the bench reads a stage's CPU time and peak memory from the kernel's accounting of the
process it waited for (``wait4``: itself and every descendant that *was waited for*) and from a
sampling of its process tree (``process_tree.py``). A JVM that pyspark starts (dbt-spark's session,
OneID's components on Spark) is never waited for by its parent: pyspark leaves it running and the
JVM ends by itself when its parent's pipe closes, i.e. after the parent has exited. Orphaned, it
would be re-parented to init: its CPU time would leave the sampled tree (a stage's CPU could come
out negative) and never reach ``wait4``. With this wrapper as the launched process, the orphan is
re-parented to the wrapper, stays in the sampled tree, and is reaped by it, so its CPU time and
peak resident set reach the bench's ``wait4``.

A descendant still running ``GRACE_SECONDS`` after COMMAND ended is left alone (and named on
stderr): the bench must not hang on a stray daemon.

SIGTERM to the wrapper (the bench's ``--timeout``) ends the whole tree and still accounts for it:
every descendant gets SIGTERM (SIGKILL ``KILL_AFTER`` seconds later if still there) and is reaped
here, and the wrapper exits with 124, as ``timeout`` does.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

from tests.bench.process_tree import process_stats

PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
GRACE_SECONDS = 120.0
KILL_AFTER = 30.0
TIMED_OUT = 124  # the exit code of `timeout`


def descendants(root: int) -> list[int]:
    """The live descendants of ``root``, from ``/proc``'s parent links."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_) in process_stats().items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _signal_tree(sig: int) -> None:
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, sig)


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def run(command: list[str], grace: float = GRACE_SECONDS) -> int:
    """Start ``command``, reap it and every orphan it leaves; ``command``'s exit code."""
    become_subreaper()
    terminated: list[float] = []  # when SIGTERM came

    def terminate(signum, frame):
        if not terminated:
            terminated.append(time.monotonic())
            _signal_tree(signal.SIGTERM)
            signal.alarm(int(KILL_AFTER))  # then SIGKILL what is left

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGALRM, lambda signum, frame: _signal_tree(signal.SIGKILL))
    main_pid = os.posix_spawnp(command[0], command, os.environ)
    code = None
    deadline = None
    while True:
        # until the command ends, block; then poll for the orphans it left, up to the grace period
        flags = 0 if deadline is None else os.WNOHANG
        try:
            pid, status = os.waitpid(-1, flags)
        except ChildProcessError:
            break  # no child left: everything was reaped
        if pid == 0:  # WNOHANG and none ended yet: the grace period after the command
            if time.monotonic() > deadline:
                print(
                    f"reaper: leaving processes still running {grace:.0f} s after the command",
                    file=sys.stderr,
                )
                break
            time.sleep(0.1)
            continue
        if pid == main_pid:
            code = os.waitstatus_to_exitcode(status)
            deadline = time.monotonic() + grace
    assert code is not None
    if terminated:
        return TIMED_OUT
    return code if code >= 0 else 128 - code  # killed by signal N: 128 + N, as a shell says


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tests.bench.reaper COMMAND [ARG...]")
    sys.exit(run(sys.argv[1:]))
