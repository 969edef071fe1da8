"""The run process gives freed memory back before dbt starts beside it (sources/process_memory.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sources.process_memory import _malloc_trim, release_freed_memory, resident_mb

ROOT = Path(__file__).resolve().parents[2]

# a child interpreter, so the measure is not this worker's heap: ~300 MiB of 2 KiB strings in
# glibc's heap, every 64th kept so the heap cannot shrink from its top on its own
FRAGMENTED_HEAP = """
import json
from sources.process_memory import release_freed_memory, resident_mb
blocks = [bytes(2048) + i.to_bytes(4, "little") for i in range(150_000)]
kept = blocks[::64]
del blocks
print(json.dumps(release_freed_memory()))
"""


def test_resident_memory_is_measured_on_linux():
    if sys.platform != "linux":
        pytest.skip("/proc is Linux's")
    assert 10 < resident_mb() < 100_000
    before, after = release_freed_memory()
    assert before is not None and after is not None


def test_freed_heap_pages_go_back_to_the_system():
    if _malloc_trim() is None:
        pytest.skip("not glibc: nothing to trim")
    done = subprocess.run(
        [sys.executable, "-c", FRAGMENTED_HEAP], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after = json.loads(done.stdout)
    assert before - after > 150, (before, after)  # most of the ~300 MiB freed, not the kept 1/64
