"""Profile the publish stage in-process: build the candidate from the warehouse, run the gate on it.

    .venv/bin/python -m tests.bench.profile_publish DATA_DIR MONTH OUT_PREFIX

DATA_DIR holds a copy of a bench's ``warehouse.duckdb`` and ``serving.duckdb`` (never the bench's
own folder: the candidate is built beside them, the gate's report goes to DATA_DIR/runs/profile-*;
nothing is swapped in). Each part (the copy, the personal-number scan, the key checks, GX) is timed
in wall and process CPU seconds (all threads), every SQL statement through a connection proxy, and
cProfile covers the rest: OUT_PREFIX.json (parts and statements) and OUT_PREFIX.prof (pstats).
Findings: docs/benchmarks.md, "The publish stage at M".
"""

import cProfile
import datetime as dt
import inspect
import json
import pstats
import sys
import time
from pathlib import Path

import duckdb

import assets.publish.gate as gate
import assets.publish.serving as serving

data, month, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
timings: list[dict] = []


def clock():
    return time.perf_counter(), time.process_time()


class Proxy:
    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def _timed(self, method, sql, *args):
        caller = inspect.stack()[2].function
        w, c = clock()
        result = getattr(self._con, method)(sql, *args)
        if method == "sql":  # lazy relation: time the .df() too
            result = Rel(result, caller, sql)
        w2, c2 = clock()
        timings.append({"caller": caller, "sql": " ".join(sql.split())[:160], "wall": w2 - w, "cpu": c2 - c})
        return result

    def execute(self, sql, *args):
        return self._timed("execute", sql, *args)

    def sql(self, sql, *args):
        return self._timed("sql", sql, *args)


class Rel:
    def __init__(self, rel, caller, sql):
        self.rel, self.caller, self.sql = rel, caller, sql

    def df(self):
        w, c = clock()
        frame = self.rel.df()
        w2, c2 = clock()
        timings.append(
            {
                "caller": self.caller + ".df",
                "sql": " ".join(self.sql.split())[:160],
                "wall": w2 - w,
                "cpu": c2 - c,
            }
        )
        return frame


real_connect = duckdb.connect
gate.duckdb.connect = lambda *a, **k: Proxy(real_connect(*a, **k))
parts: dict[str, tuple[float, float]] = {}


def part(name, fn, *args, **kwargs):
    """Call ``fn``, adding its wall and CPU seconds to ``parts[name]`` (a part called per table sums)."""
    w, c = clock()
    result = fn(*args, **kwargs)
    w2, c2 = clock()
    wall, cpu = parts.get(name, (0.0, 0.0))
    parts[name] = (round(wall + w2 - w, 2), round(cpu + c2 - c, 2))
    return result


for fname in [
    "scan_for_plaintext_pii",
    "run_expectations",
    "previous_row_counts",
    "previous_month_row_counts",
    "check_key",
]:
    if not hasattr(gate, fname):
        continue
    original = getattr(gate, fname)

    def wrapped(*a, _f=original, _n=fname, **k):
        return part(_n, _f, *a, **k)

    setattr(gate, fname, wrapped)

warehouse = data / "warehouse.duckdb"
serving_db = data / "serving.duckdb"
candidate = data / "serving.duckdb.profile.next"
run_dir = data / "runs" / f"profile-{int(time.time())}"
first = dt.date.fromisoformat(month + "-01")
run_info = {
    "run_id": run_dir.name,
    "month": month,
    "as_of_date": (first - dt.timedelta(days=1)).isoformat(),
    "published_at": dt.datetime.now().isoformat(timespec="seconds"),
}
profiler = cProfile.Profile()
profiler.enable()
w0, c0 = clock()
con = Proxy(real_connect(str(warehouse)))
tables = part("tables_to_publish", serving.tables_to_publish, con)
counts = part("build_candidate", serving.build_candidate, con, candidate, tables, run_info)
con.close()
try:
    part("run_quality_gate", gate.run_quality_gate, candidate, serving_db, run_dir)
except gate.GateFailed as failed:
    print("GATE FAILED", failed.failures)
w1, c1 = clock()
profiler.disable()
parts["total"] = (round(w1 - w0, 2), round(c1 - c0, 2))
print(json.dumps(parts, indent=1))
profiler.dump_stats(out + ".prof")
Path(out + ".json").write_text(json.dumps({"parts": parts, "sql": timings, "counts": counts}, indent=1))
stats = pstats.Stats(profiler)
stats.sort_stats("cumulative").print_stats(60)
candidate.unlink(missing_ok=True)
