"""The run process's memory between stages.

A month runs in one process (the in-process executor): ingestion, the WeChat pulls and OneID leave
freed Python objects in glibc's heap, which keeps the pages unless asked to give them back. dbt
then runs as a subprocess beside it, and the month's memory peak is the two together
(docs/benchmarks.md). ``release_freed_memory`` hands the freed pages back before such a step, and
Arrow's pool its cached buffers. DuckDB's own memory needs nothing: it is returned when its
connection closes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from functools import cache


def resident_mb() -> int | None:
    """This process's resident set in MiB (Linux ``/proc``); None where there is none."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") // 2**20


@cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None on another C library (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> tuple[int | None, int | None]:
    """Collect Python's garbage and return glibc's free heap pages to the system; returns the
    resident MiB before and after (None where unknown). Changes no object the process holds."""
    before = resident_mb()
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    if "pyarrow" in sys.modules:  # Arrow's own allocator keeps freed buffers for reuse
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    return before, resident_mb()
