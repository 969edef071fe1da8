"""The run's log file (pipelines/run_log.py): the process's and its children's output goes there,
and the run ends when it ends, even when a helper process outlives it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time


def run_script(body: str, tmp_path) -> tuple[float, str, str]:
    script = "\n".join(
        [
            "import subprocess, sys, time",
            "from pathlib import Path",
            "from pipelines.run_log import run_log",
            "started = time.perf_counter()",
            f"with run_log(Path({str(tmp_path / 'run.log')!r})) as terminal:",
            textwrap.indent(textwrap.dedent(body).strip(), "    "),
            "print(f'after the run: {time.perf_counter() - started:.1f}')",
        ]
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seconds = float(done.stdout.rsplit("after the run: ", 1)[1])
    return seconds, (tmp_path / "run.log").read_text(), done.stdout


def test_the_process_and_its_children_write_to_the_log_and_the_terminal_keeps_its_lines(tmp_path):
    seconds, log, terminal = run_script(
        """
        print("from the process")
        print("from its stderr", file=sys.stderr)
        subprocess.run([sys.executable, "-c", "print('from a child')"], check=True)
        print("for the operator", file=terminal)
        """,
        tmp_path,
    )
    assert "from the process" in log and "from its stderr" in log and "from a child" in log
    assert "for the operator" in terminal and "from the process" not in terminal


def test_multiprocessing_s_resource_tracker_started_in_a_run_does_not_hold_its_end(tmp_path):
    # shared memory starts the tracker, a helper process that lives as long as this one: had it
    # inherited the log's pipe, the copier would wait for its end (30 s a run, every run)
    started = time.perf_counter()
    seconds, log, _ = run_script(
        """
        from multiprocessing import shared_memory
        block = shared_memory.SharedMemory(create=True, size=1024)
        print("shared memory", block.size >= 1024)
        block.close(); block.unlink()
        """,
        tmp_path,
    )
    assert "shared memory True" in log
    assert seconds < 4, f"the run's log took {seconds:.1f} s to close"
    assert time.perf_counter() - started < 60
