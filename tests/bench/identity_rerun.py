"""The identity stage's resolve alone, run on a kept warehouse: laps in wall and CPU seconds, peak memory.

For measuring OneID changes quickly (issue 16): the bench's ``identity`` stage pays Dagster's start-up
and reports only its total, while this runs ``resolve`` in a bare process and prints each lap's wall
and CPU time (CPU = this process's user + system time, DuckDB's threads included: comparable under
load) and a checksum of every identity table, so two versions of the code can be compared for the same
result. Run it twice on the same warehouse for the cost of a second run (what a month pays)::

    python -m tests.bench.identity_rerun data/bench/M            # one run on data/bench/M's warehouse
    python -m tests.bench.identity_rerun data/bench/M --copy-to /work/scratch/m-copy.duckdb
    python -m tests.bench.identity_rerun data/bench/L --copy-to /work/scratch/l.duckdb --runs 2

``--copy-to`` copies the warehouse first (the runs then work on the copy). The checksums are
order-independent sums of row hashes (a multiset of rows), ``oneid_changes`` without its ``run_at``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import time
from pathlib import Path

import duckdb

from assets.identity.resolve import OneidParams, resolve
from sources.pii import PiiVault
from sources.settings import load_settings

CHECKED_TABLES = {
    "oneid_map": "identifier_type, identifier_key, oneid, first_seen_at, last_seen_at",
    "oneid_registry": "identifier_type, identifier_key, oneid, first_seen_at, last_seen_at, active",
    "oneid_issued": "oneid, seq",
    "oneid_changes": "change, old_oneid, new_oneid",
    "oneid_links": "left_type, left_key, right_type, right_key, source, record_key, rule, tier, seen_at, "
    "oneid",
    "dropped_links": "left_type, left_key, right_type, right_key, source, record_key, rule, tier, seen_at, "
    "reason, detail",
    "excluded_identifiers": "identifier_type, identifier_key, reason, detail",
    "suspicious_clusters": "oneid, n_vehicles, n_mobiles, n_id_numbers, n_identifiers, reasons",
}


def table_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    """Row count and an order-independent sum of row hashes of each identity table."""
    con.execute("set enable_progress_bar = false")
    out = {}
    for table, columns in CHECKED_TABLES.items():
        n, total = con.execute(
            f"select count(*), coalesce(sum(hash({columns})::hugeint), 0)::varchar from identity.{table}"
        ).fetchall()[0]
        out[table] = [n, total]
    return out


class TracedConnection:
    """A DuckDB connection that prints each statement's wall and CPU seconds and the process's peak
    memory so far (``--trace``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, threshold: float = 0.5):
        self._con, self._threshold = con, threshold

    def execute(self, query: str, *args, **kwargs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = self._con.execute(query, *args, **kwargs)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if wall >= self._threshold:
            # the process's peak resident memory so far: the statement that raised it shows where
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            print(f"{wall:7.1f} s {cpu:7.1f} cpu {peak:6d} MB  {' '.join(query.split())[:140]}", flush=True)
        return result

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a bench data folder (its aftercare.toml and warehouse)")
    parser.add_argument("--copy-to", type=Path, help="copy the warehouse here first and run on the copy")
    parser.add_argument("--run-at", default=None, help="the run's timestamp (default now)")
    parser.add_argument("--trace", action="store_true", help="print each statement over 0.5 s")
    parser.add_argument("--json", type=Path, help="append the result as one JSON line to this file")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="resolve this many times in a row on the same warehouse (2: a first run, then what a month "
        "pays; with --copy-to the copy is made once, before the first)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("AFTERCARE_PII_KEY", "bench-only-key-0123456789abcdefghijkl")
    settings = load_settings(args.data / "aftercare.toml")
    warehouse = settings.paths.warehouse
    if args.copy_to:
        shutil.copyfile(warehouse, args.copy_to)
        warehouse = args.copy_to
    params = OneidParams.from_settings(settings.oneid, PiiVault(settings.pii_key()).hash)
    memory = os.environ.get("AFTERCARE_ONEID_DUCKDB_MEMORY")
    if memory:
        params = OneidParams(**{**params.__dict__, "duckdb_memory_limit": memory})
    run_at = dt.datetime.fromisoformat(args.run_at) if args.run_at else None
    for number in range(1, args.runs + 1):
        _run_once(warehouse, params, run_at, number, args)
        run_at = run_at + dt.timedelta(days=1) if run_at else None


def _run_once(warehouse: Path, params: OneidParams, run_at, number: int, args) -> None:
    started, cpu_started = time.perf_counter(), time.process_time()
    with duckdb.connect(str(warehouse)) as con:
        summary = resolve(TracedConnection(con) if args.trace else con, params, run_at)
        # the stage's peak, before the checksums: they scan every table without the stage's memory cap
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        checksums = table_checksums(con)
    result = {
        "run": number,
        "warehouse": str(warehouse),
        "memory_limit": params.duckdb_memory_limit,
        "wall": round(time.perf_counter() - started, 1),
        "cpu": round(time.process_time() - cpu_started, 1),
        "peak_mb": peak_mb,  # of the process so far, at the end of resolve
        "load": os.getloadavg()[0],
        "laps": summary.seconds,
        "cpu_laps": getattr(summary, "cpu_seconds", None),
        "changes": summary.changes,
        "identifiers": summary.identifiers,
        "oneids": summary.oneids,
        "checksums": checksums,
    }
    print(json.dumps(result, indent=1))
    if args.json:
        with open(args.json, "a") as handle:
            handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
