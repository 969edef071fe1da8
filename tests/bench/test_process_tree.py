"""The bench's split of one process's month by stage: step spans over samples of the process tree."""

from __future__ import annotations

import subprocess
import sys

from tests.bench.process_tree import Sample, TreeSampler, sum_tree, tree_usage, usage_by_stage
from tests.bench.run import StageResult, phase_totals


def test_usage_by_stage_splits_cpu_and_memory_by_the_steps_spans():
    # CPU grows 1 s per second from t=100, then 2 s per second from t=110 (dbt beside Dagster)
    samples = [
        Sample(100 + t, t if t <= 10 else 10 + 2 * (t - 10), 500 + (900 if 12 <= t <= 14 else 0))
        for t in range(0, 21)
    ]
    spans = {
        "landing_tables": (101.0, 105.0),
        "aftercare_dbt_models": (110.0, 115.0),
        "aftercare_dbt_monthly": (115.0, 118.5),
    }
    stages = usage_by_stage(
        samples,
        spans,
        {"landing_tables": "ingest", "aftercare_dbt_models": "dbt", "aftercare_dbt_monthly": "dbt"},
    )
    assert set(stages) == {"ingest", "dbt"}
    assert (stages["ingest"].seconds, stages["ingest"].cpu_seconds, stages["ingest"].peak_rss_mb) == (
        4.0,
        4.0,
        500,
    )
    # dbt: two steps, 8.5 s of wall at 2 CPU seconds a second; the 1,400 MB peak fell in its first step
    assert (stages["dbt"].seconds, stages["dbt"].cpu_seconds, stages["dbt"].peak_rss_mb) == (8.5, 17.0, 1400)
    assert stages["dbt"].steps == {"aftercare_dbt_models": 5.0, "aftercare_dbt_monthly": 3.5}


def test_a_step_not_in_the_map_counts_under_its_own_name():
    samples = [Sample(0.0, 0.0, 100.0), Sample(1.0, 0.5, 100.0)]
    stages = usage_by_stage(samples, {"mystery_op": (0.0, 1.0)}, {})
    assert stages["mystery_op"].cpu_seconds == 0.5


def test_the_sampler_sees_a_childs_cpu_and_memory():
    busy = (
        "import time\n"
        "x = bytearray(200 * 2**20)\n"
        "end = time.process_time() + 0.6\n"
        "while time.process_time() < end: pass\n"
        "time.sleep(0.3)"
    )
    process = subprocess.Popen([sys.executable, "-c", busy])
    sampler = TreeSampler(process.pid, interval=0.05)
    sampler.start()
    process.wait()
    samples = sampler.stop()
    assert samples, "no sample of a running process"
    assert 0.4 < samples[-1].cpu_seconds < 5
    assert max(s.rss_mb for s in samples) > 200
    assert tree_usage(process.pid) == (0.0, 0.0)  # gone: nothing left to count


def test_month_totals_of_a_one_process_month_are_the_kernels():
    def stage(name, phase, seconds, cpu, peak):
        return StageResult(name, seconds, peak, True, cpu_seconds=cpu, phase=phase, month="2026-11")

    results = [
        stage("ingest", "month", 8.0, 9.0, 500),
        stage("dbt", "month", 25.0, 30.0, 450),
        stage("start-up", "month", 6.0, 5.5, 520),
        stage("whole run", "month:total", 39.2, 44.8, 610),
    ]
    month = phase_totals(results, "month")
    assert (month["seconds"], month["cpu_seconds"], month["peak_mb"], month["one_process"]) == (
        39.2,
        44.8,
        610,
        True,
    )
    assert month["stages"] == ["ingest", "dbt", "start-up"]


def test_a_child_sharing_its_parents_memory_is_not_counted_twice():
    # what the M bench met: the JVM (7,044 MB) spawning a helper, which until its exec reports the
    # JVM's very resident set and virtual size under its thread's name; a real child (dbt's own
    # 244 MB beside Dagster) counts
    gb = 2**30
    stats = {
        10: (1, 5.0, 514.0, "python", 2 * gb),  # Dagster, the root
        11: (10, 3.0, 244.0, "dbt", 1 * gb),
        12: (11, 900.0, 7044.0, "java", 14 * gb),
        13: (12, 0.1, 7044.0, "Executor task l", 14 * gb),  # spawned by the JVM, not yet exec'd
        14: (12, 0.2, 3.0, "chmod", gb // 100),  # another, after its exec: its own memory
    }
    by_name: dict[str, float] = {}
    cpu, rss = sum_tree(stats, 10, by_name)
    assert rss == 514 + 244 + 7044 + 3
    assert by_name == {"python": 514, "dbt": 244, "java": 7044, "chmod": 3}
    assert cpu == 5.0 + 3.0 + 900.0 + 0.1 + 0.2  # its CPU is its own: counted
