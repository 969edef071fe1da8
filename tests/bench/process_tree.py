"""CPU time and resident memory of a running process tree, sampled from ``/proc`` (Linux).

``make bench`` runs a month as ops run it, one ``aftercare run`` process (dbt and the WeChat
simulator's clients inside it), so the kernel's accounting at the end (``wait4``) gives only the
month's totals. To split them by stage, a thread samples the tree a few times a second and the run's
Dagster step spans (start, end) pick out each stage's share: CPU as the difference of the tree's
cumulative CPU between a step's start and end, memory as the largest sampled sum of the tree's
resident sets during its steps.

The tree's CPU to date is every live process's own time plus the time of the children it has
waited for (``cutime``/``cstime``): a finished process is counted once, in its parent's.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(frozen=True)
class Sample:
    at: float  # time.time(), the clock Dagster's step statistics use
    cpu_seconds: float  # the tree's cumulative user + system time
    rss_mb: float  # the tree's resident memory, summed over its live processes


def _stat(pid: int) -> tuple[int, float, float, str, int] | None:
    """(parent pid, own + waited-for children's CPU seconds, resident MB, command name, virtual
    size in bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            head, tail = f.read().rsplit(")", 1)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = tail.split()
    # after the command name: state ppid ... utime(12) stime(13) cutime(14) cstime(15) ... vsize(21) rss(22)
    ppid = int(fields[1])
    cpu = sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS
    return ppid, cpu, int(fields[21]) * PAGE_MB, head.split("(", 1)[1], int(fields[20])


def sum_tree(
    stats: dict[int, tuple[int, float, float, str, int]], root: int, by_name: dict[str, float] | None = None
) -> tuple[float, float]:
    """CPU seconds and resident MB of ``root`` and its descendants in ``stats`` (``_stat`` per pid).

    A child spawned by a large process (the JVM runs ``chmod`` and the like through posix_spawn)
    shares its parent's memory until it execs: it reports the parent's resident set and virtual
    size exactly, and adding it would count the JVM twice (a 7 GB JVM read as 14 GB). Such a
    child's memory is not added."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_) in stats.items():
        children.setdefault(ppid, []).append(pid)
    cpu = rss = 0.0
    stack = [root] if root in stats else []
    while stack:
        pid = stack.pop()
        ppid, own_cpu, own_rss, name, vsize = stats[pid]
        parent = stats.get(ppid)
        shares_parent = pid != root and parent is not None and (parent[2], parent[4]) == (own_rss, vsize)
        cpu += own_cpu
        if not shares_parent:
            rss += own_rss
            if by_name is not None:
                by_name[name] = by_name.get(name, 0.0) + own_rss
        stack.extend(children.get(pid, ()))
    return cpu, rss


def tree_usage(root: int, by_name: dict[str, float] | None = None) -> tuple[float, float]:
    """Cumulative CPU seconds and resident MB of ``root`` and its live descendants; ``by_name``,
    when given, receives the resident MB per command name (``java``, ``python``, ``dbt``)."""
    return sum_tree(process_stats(), root, by_name)


def process_stats() -> dict[int, tuple[int, float, float, str, int]]:
    """``_stat`` of every live process, by pid."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                stats[int(entry)] = stat
    return stats


class TreeSampler(threading.Thread):
    """Samples ``tree_usage(pid)`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[Sample] = []
        # what made up the largest sample: resident MB per command name (a JVM shows as ``java``)
        self.peak_by_name: dict[str, float] = {}
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            by_name: dict[str, float] = {}
            cpu, rss = tree_usage(self.pid, by_name)
            if rss:  # the process is gone (or not yet there): nothing to record
                if rss > sum(self.peak_by_name.values()):
                    self.peak_by_name = by_name
                self.samples.append(Sample(time.time(), cpu, rss))
            self._stopped.wait(self.interval)

    def stop(self) -> list[Sample]:
        self._stopped.set()
        self.join()
        return self.samples


def _cpu_at(samples: list[Sample], at: float) -> float:
    """The tree's cumulative CPU at ``at``, interpolated between the samples around it."""
    times = [s.at for s in samples]
    i = bisect.bisect_left(times, at)
    if i == 0:
        return samples[0].cpu_seconds
    if i == len(samples):
        return samples[-1].cpu_seconds
    before, after = samples[i - 1], samples[i]
    share = (at - before.at) / (after.at - before.at) if after.at > before.at else 1.0
    return before.cpu_seconds + share * (after.cpu_seconds - before.cpu_seconds)


@dataclass
class StageUsage:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    steps: dict[str, float]


def usage_by_stage(
    samples: list[Sample], spans: dict[str, tuple[float, float]], stage_of_step: dict[str, str]
) -> dict[str, StageUsage]:
    """Each stage's wall seconds (its steps' durations), CPU and peak memory during its steps.

    Steps not in ``stage_of_step`` (none, when the map is complete) count under their own name."""
    stages: dict[str, StageUsage] = {}
    for step, (start, end) in sorted(spans.items(), key=lambda item: item[1][0]):
        stage = stages.setdefault(stage_of_step.get(step, step), StageUsage(0.0, 0.0, 0.0, {}))
        stage.seconds += end - start
        stage.steps[step] = round(end - start, 2)
        if samples:
            stage.cpu_seconds += _cpu_at(samples, end) - _cpu_at(samples, start)
            during = [s.rss_mb for s in samples if start <= s.at <= end]
            # a step shorter than the interval between two samples: the nearest sample stands for it
            nearest = min(samples, key=lambda s: abs(s.at - start)).rss_mb
            stage.peak_rss_mb = max(stage.peak_rss_mb, *during, nearest)
    for stage in stages.values():
        stage.seconds, stage.cpu_seconds = round(stage.seconds, 1), round(stage.cpu_seconds, 1)
        stage.peak_rss_mb = round(stage.peak_rss_mb)
    return stages
