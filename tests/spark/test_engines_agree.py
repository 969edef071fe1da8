"""Proof of sameness (docs/spark.md): one small generated OEM, one month, run on DuckDB and on Spark
(``engine.kind``), and every published table compared: the same rows by key, the same measures.

The month runs first on DuckDB through ``aftercare run``; the data folder is then copied and the
same month runs again with ``engine.kind = "spark"`` (ingestion skips the files it has, OneID
finds the same ids, dbt builds on a local pyspark session without its data tests, the marts come
back, the gate publishes). It needs Java and the ``spark`` dependency group: without either the
test skips, saying which, except under CI (``CI`` set), where it fails; ``make test`` installs
both where it can (Debian's openjdk-17-jre-headless, ``uv sync --group spark``).
"""

from __future__ import annotations

import decimal
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sources.sample_oem.generate import default_end
from tests.processes import cli_environment, free_port, wait_until_up
from tests.spark.conftest import require_spark

ROOT = Path(__file__).resolve().parents[2]
# minutes of a local Spark session: started first under xdist, so the quick modules fill the other worker
pytestmark = pytest.mark.slow
VEHICLES = 300
MONTH = default_end()
# publish_log says which run published: never the same in two runs
RUN_COLUMNS = {"publish_log": {"run_id", "published_at"}}
# what OneID and publish stamp with the run's wall clock (identity.oneid_changes.run_at)
CLOCK_COLUMNS = {"run_at", "published_at", "ingested_at", "_ingested_at", "seen_at"}
# a measure rounded to 6 places (kpi_rate) from a double that lies on the half in the 7th: DuckDB
# rounds the binary value, Spark its shortest decimal form, so one may say .191666 and the other
# .191667; anything further apart is a difference
MEASURE_TOLERANCE = 1.5e-6
# empty after a chain's first month on either engine, so compared only as empty: the reminder KPIs
# cover the months before M (no list before the first), OneID's changes are between two runs
EMPTY_IN_A_FIRST_MONTH = {"kpi_reminders_monthly", "oneid_changes"}
# Spark as a small OEM's local run needs it, without dbt's data tests: the proof is every published
# table equal to the DuckDB run's, whose same tests passed; OneID's components on SciPy, as
# test_oneid_components.py proves Spark's equal to them (docs/spark.md "Proof of sameness")
SPARK_CONFIG = """[paths]
data = "data"

[engine]
kind = "spark"
spark_data_tests = false
spark_oneid = false
"""


def _aftercare(env: dict[str, str], cwd: Path, *args: str, timeout: int = 1800):
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stdout[-6000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory) -> dict[str, Path]:
    """serving.duckdb of the same month published by each engine: {"duckdb": path, "spark": path}."""
    require_spark("the Spark engine's sameness test")
    work = tmp_path_factory.mktemp("engines")
    duck, spark = work / "duckdb", work / "spark"
    duck.mkdir()
    (duck / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    env = cli_environment(
        AFTERCARE_CONFIG=str(duck / "aftercare.toml"),
        AFTERCARE_PII_KEY="engines-test-key-0123456789abcdefghijklmnop",
        DAGSTER_HOME=str(duck / "dagster_home"),
        PYTHONPATH=str(ROOT),
    )
    (duck / "dagster_home").mkdir()
    started = time.monotonic()
    _aftercare(env, duck, "generate", "--out", str(duck / "data"), "--vehicles", str(VEHICLES),
               "--end", MONTH, "--months", "13")  # fmt: skip
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "simulate", "--data", str(duck / "data"),
         "--port", str(port)],
        env=env, cwd=duck, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/__sim/state") is not None, "the simulator did not start"
        state = duck / "data" / "wechat"
        env.update(
            {
                "AFTERCARE_WECHAT_BASE_URL": url,
                "AFTERCARE_WECOM_BASE_URL": url,
                "AFTERCARE_WECHAT_SECRET": json.loads((state / "oa_account.json").read_text())["secret"],
                "AFTERCARE_WECOM_SECRET": json.loads((state / "wecom_corp.json").read_text())["secret"],
            }
        )
        print(f"\ngenerating {VEHICLES} vehicles took {time.monotonic() - started:.0f} s")
        started = time.monotonic()
        _aftercare(env, duck, "run", "--month", MONTH)
        print(f"the month on DuckDB took {time.monotonic() - started:.0f} s")
        # the same OEM as it stood, run again on Spark
        shutil.copytree(duck, spark, ignore=shutil.ignore_patterns("dagster_home"))
        (spark / "dagster_home").mkdir()
        (spark / "aftercare.toml").write_text(SPARK_CONFIG)
        spark_env = {
            **env,
            "AFTERCARE_CONFIG": str(spark / "aftercare.toml"),
            "DAGSTER_HOME": str(spark / "dagster_home"),
        }
        started = time.monotonic()
        done = _aftercare(spark_env, spark, "run", "--month", MONTH)
        print(f"the month on Spark took {time.monotonic() - started:.0f} s")
        assert "spark" in (spark / "data" / "runs").joinpath(_last_run(spark)).joinpath("run.log").read_text()
        assert done.returncode == 0
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)
    return {"duckdb": duck / "data" / "serving.duckdb", "spark": spark / "data" / "serving.duckdb"}


def _last_run(workdir: Path) -> str:
    runs = sorted((workdir / "data" / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return runs[-1].name


def _tables(serving: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows = con.execute(
            "select table_name, column_name from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _is_number(value) -> bool:
    return isinstance(value, decimal.Decimal | float | int) and not isinstance(value, bool)


def _rows(serving: Path, table: str, columns: list[str]) -> list[tuple[tuple, tuple]]:
    """The table's rows as (the other values, the numbers), in an order both engines share: numbers
    as floats (Spark and DuckDB may type a measure differently, e.g. decimal vs double)."""
    con = duckdb.connect(str(serving), read_only=True)
    try:
        listed = ", ".join(f'"{c}"' for c in columns)
        rows = con.execute(f'select {listed} from "{table}"').fetchall()
    finally:
        con.close()
    numeric = [i for i in range(len(columns)) if any(_is_number(row[i]) for row in rows)]
    split = [
        (
            tuple(v for i, v in enumerate(row) if i not in numeric),
            tuple(None if row[i] is None else float(row[i]) for i in numeric),
        )
        for row in rows
    ]
    return sorted(split, key=lambda r: (repr(r[0]), [(n is None, n or 0.0) for n in r[1]]))


def _same_row(duck: tuple[tuple, tuple], spark: tuple[tuple, tuple]) -> bool:
    if duck[0] != spark[0] or len(duck[1]) != len(spark[1]):
        return False
    return all(
        (a is None and b is None) or (a is not None and b is not None and abs(a - b) <= MEASURE_TOLERANCE)
        for a, b in zip(duck[1], spark[1], strict=True)
    )


def test_both_engines_publish_the_same_tables(both_engines):
    duck, spark = _tables(both_engines["duckdb"]), _tables(both_engines["spark"])
    assert sorted(duck) == sorted(spark)
    for table, columns in duck.items():
        assert spark[table] == columns, f"{table}: columns differ"


def test_every_published_table_has_rows_to_compare(both_engines):
    """The comparison means something: every table has rows, but the two a first month leaves empty."""
    con = duckdb.connect(str(both_engines["duckdb"]), read_only=True)
    try:
        empty = {
            t
            for t in _tables(both_engines["duckdb"])
            if not con.execute(f'select count(*) from "{t}"').fetchone()[0]
        }
    finally:
        con.close()
    assert empty == EMPTY_IN_A_FIRST_MONTH


def test_every_published_table_has_the_same_rows(both_engines):
    tables = _tables(both_engines["duckdb"])
    compared = 0
    differing = {}
    for table, columns in sorted(tables.items()):
        kept = [c for c in columns if c not in RUN_COLUMNS.get(table, set()) and c not in CLOCK_COLUMNS]
        duck = _rows(both_engines["duckdb"], table, kept)
        spark = _rows(both_engines["spark"], table, kept)
        compared += 1
        if len(duck) != len(spark) or not all(map(_same_row, duck, spark)):
            pairs = [(d, s) for d, s in zip(duck, spark, strict=False) if not _same_row(d, s)][:3]
            differing[table] = (len(duck), len(spark), [d for d, _ in pairs], [s for _, s in pairs])
    assert compared > 20
    assert not differing, "\n".join(
        f"{t}: {n} rows on DuckDB, {m} on Spark; first differing rows: DuckDB {a}, Spark {b}"
        for t, (n, m, a, b) in differing.items()
    )


def test_the_oneid_partition_is_the_same(both_engines):
    """Every identifier has the same OneID on both runs: the same partition, the same stable ids."""
    query = "select identifier_type, identifier_key, oneid from oneid_map"
    results = []
    for engine in ("duckdb", "spark"):
        con = duckdb.connect(str(both_engines[engine]), read_only=True)
        try:
            results.append(sorted(con.execute(query).fetchall()))
        finally:
            con.close()
    assert results[0], "no identifier was resolved"
    assert results[0] == results[1]
