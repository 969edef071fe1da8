"""The bench on either engine: the aftercare.toml it writes, what it records, and that an orphaned
process (pyspark's JVM outlives dbt) is still counted. No Spark run here: docs/benchmarks.md has
the measured months."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sources.settings import load_settings
from tests.bench.run import BenchEngine, _launch, bench_config, main

# the child starts a grandchild and exits at once; the grandchild, orphaned, then burns ~0.8 s of
# CPU with 300 MB resident: what pyspark's JVM does after dbt has exited
ORPHANING = textwrap.dedent(
    """
    import subprocess, sys
    burn = (
        "import time\\n"
        "time.sleep(0.3)\\n"
        "x = bytearray(300 * 2**20)\\n"
        "end = time.process_time() + 0.8\\n"
        "while time.process_time() < end: pass\\n"
    )
    subprocess.Popen([sys.executable, "-c", burn])
    """
)


def test_spark_config_is_read_back_as_the_spark_engine(tmp_path):
    engine = BenchEngine(
        "spark", spark_driver_memory="10g", spark_data_tests=False, spark_dir=tmp_path / "sp"
    )
    config = tmp_path / "aftercare.toml"
    config.write_text(bench_config(tmp_path / "kept", engine))
    settings = load_settings(config, environ={})
    assert settings.env == "local"
    assert settings.paths.warehouse == tmp_path / "kept" / "warehouse.duckdb"
    assert settings.engine.kind == "spark"
    assert settings.engine.spark_driver_memory == "10g"
    assert settings.engine.spark_data_tests is False
    assert settings.engine.spark_path(settings.paths) == tmp_path / "sp"


def test_duckdb_config_has_no_engine_section(tmp_path):
    config = tmp_path / "aftercare.toml"
    config.write_text(bench_config(tmp_path, BenchEngine()))
    assert "[engine]" not in config.read_text()
    assert load_settings(config, environ={}).engine.kind == "duckdb"


def test_the_bench_writes_the_engine_sized_to_the_scale_and_records_it(tmp_path, monkeypatch):
    # no stage: the bench writes its config and its result files, and runs nothing
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERCARE_ENGINE_KIND", raising=False)
    workdir = tmp_path / "m-spark"
    assert main(["--scale", "M", "--engine", "spark", "--stages", "", "--workdir", str(workdir)]) == 0
    settings = load_settings(workdir / "aftercare.toml", environ={})
    assert (settings.engine.kind, settings.engine.spark_driver_memory) == ("spark", "10g")
    [result] = (tmp_path / "bench" / "results").glob("M-spark-*.json")
    payload = json.loads(result.read_text())
    assert payload["engine"]["kind"] == "spark"
    assert payload["engine"]["spark_driver_memory"] == "10g"
    assert payload["engine"]["spark_data_tests"] is True
    assert " on spark (local session, driver 10g) " in payload["summary"]
    [table] = (tmp_path / "bench" / "results").glob("M-spark-*.md")
    assert table.read_text().startswith("scale M (1,000,000 vehicles) on spark (local session, driver 10g)")


def test_kept_data_gets_its_own_config_and_spark_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERCARE_ENGINE_KIND", raising=False)
    kept = tmp_path / "m-onepass"
    kept.mkdir()
    (kept / "aftercare.toml").write_text('env = "local"\n')
    workdir = tmp_path / "m-spark"
    argv = ["--scale", "M", "--engine", "spark", "--spark-driver-memory", "12g", "--no-spark-data-tests",
            "--spark-shuffle-partitions", "8"]  # fmt: skip
    assert main([*argv, "--stages", "", "--data", str(kept), "--workdir", str(workdir)]) == 0
    assert (kept / "aftercare.toml").read_text() == 'env = "local"\n'  # the kept folder's own, untouched
    settings = load_settings(workdir / "aftercare.toml", environ={})
    assert settings.paths.data == kept
    assert settings.engine.spark_driver_memory == "12g"
    assert settings.engine.spark_data_tests is False
    assert settings.engine.spark_shuffle_partitions == 8
    assert settings.engine.spark_path(settings.paths) == workdir / "spark"


def test_an_orphaned_grandchild_is_counted(tmp_path):
    env = dict(os.environ)
    launch = _launch(
        [sys.executable, "-c", ORPHANING], env, tmp_path / "log", tmp_path / "timings.json", sampled=True
    )
    assert launch.ok
    cpu = launch.usage.ru_utime + launch.usage.ru_stime
    assert cpu >= 0.8, f"the orphan's CPU did not reach wait4: {cpu:.2f} s"
    assert launch.usage.ru_maxrss / 1024 > 300
    # the sampled tree kept the orphan: its cumulative CPU reached the orphan's burn
    assert launch.samples[-1].cpu_seconds >= 0.6
    assert max(s.rss_mb for s in launch.samples) > 300
    # the peak's make-up by command name: the orphan's 300 MB under its name, beside the reaper's few
    assert max(mb for name, mb in launch.peak_by_name.items() if name.startswith("python")) > 300


def test_without_the_reaper_the_orphan_is_lost(tmp_path):
    # the reason for the reaper: waited for directly, the child's accounting misses the orphan
    process = subprocess.Popen([sys.executable, "-c", ORPHANING])
    _, _, usage = os.wait4(process.pid, 0)
    assert usage.ru_utime + usage.ru_stime < 0.6


def test_a_timeout_ends_the_whole_tree(tmp_path):
    # a child that starts a busy grandchild (its pid written down) and then sleeps: both would
    # outlive the timeout
    pid_file = tmp_path / "grandchild.pid"
    hang = textwrap.dedent(
        f"""
        import subprocess, sys, time
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        open({str(pid_file)!r}, "w").write(str(busy.pid))
        time.sleep(600)
        """
    )
    started = time.perf_counter()
    launch = _launch(
        [sys.executable, "-c", hang], dict(os.environ), tmp_path / "log", tmp_path / "t.json", timeout=2
    )
    assert time.perf_counter() - started < 30
    assert (launch.ok, launch.timed_out) == (False, True)
    # the grandchild was ended and reaped (no zombie left either)
    grandchild = int(pid_file.read_text())
    assert not Path(f"/proc/{grandchild}").exists()
