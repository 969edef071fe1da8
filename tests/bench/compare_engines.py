"""Two engines' published tables, compared in SQL: for benches too large for the sameness test's
row-by-row comparison in Python (``tests/spark/test_engines_agree.py``).

    python -m tests.bench.compare_engines A.duckdb B.duckdb [--schema main] [--json out.json]

Each table both databases have is compared as a multiset of rows (``except all`` both ways) over
the columns they share, without the run's and the wall clock's columns (as the sameness test), and
with every number as a double rounded to ``--places`` decimals (Spark and DuckDB may type a measure
as decimal or double, and round a double's last bit differently). A table whose rows differ is
listed with its counts; ``--show N`` prints N differing rows of each side.
"""

from __future__ import annotations

import argparse
import json
import sys

import duckdb

# what differs between two runs by construction (tests/spark/test_engines_agree.py)
RUN_COLUMNS = {"publish_log": {"run_id", "published_at"}}
CLOCK_COLUMNS = {"run_at", "published_at", "ingested_at", "_ingested_at", "seen_at"}
# and what two benches' separate generations and WeChat pulls stamp (the sameness test copies one
# data folder, so it has the same values): the files' mtimes, a pull's wall clock, and OneID's
# sighting times of an identifier that a pull saw (an OA openid)
BENCH_CLOCK_COLUMNS = {"modified_at", "fetched_at", "first_seen_at", "last_seen_at"}
NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "HUGEINT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT")


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str) -> dict[str, dict[str, str]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? order by table_name, ordinal_position",
        [db, schema],
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind
    return tables


def compare(a: str, b: str, schema: str = "main", places: int = 5, show: int = 0, threads: int = 0) -> dict:
    """Per table: rows on each side and rows of each side the other lacks."""
    con = duckdb.connect()
    if threads:  # beside a running bench: leave it the cores
        con.execute(f"set threads = {int(threads)}")
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    left, right = _columns(con, "a", schema), _columns(con, "b", schema)
    report: dict = {"only_in_a": sorted(set(left) - set(right)), "only_in_b": sorted(set(right) - set(left))}
    tables = {}
    for table in sorted(set(left) & set(right)):
        skip = CLOCK_COLUMNS | BENCH_CLOCK_COLUMNS | RUN_COLUMNS.get(table, set())
        shared = [c for c in left[table] if c in right[table] and c not in skip]
        exprs = []
        for column in shared:
            numeric = left[table][column].startswith(NUMERIC) or right[table][column].startswith(NUMERIC)
            quoted = f'"{column}"'
            exprs.append(f"round(cast({quoted} as double), {places})" if numeric else quoted)
        select = ", ".join(exprs)
        count_a = con.execute(f'select count(*) from a.{schema}."{table}"').fetchone()[0]
        count_b = con.execute(f'select count(*) from b.{schema}."{table}"').fetchone()[0]
        a_not_b = (
            f'select {select} from a.{schema}."{table}" except all select {select} from b.{schema}."{table}"'
        )
        b_not_a = (
            f'select {select} from b.{schema}."{table}" except all select {select} from a.{schema}."{table}"'
        )
        only_a = con.execute(f"select count(*) from ({a_not_b})").fetchone()[0]
        only_b = con.execute(f"select count(*) from ({b_not_a})").fetchone()[0]
        entry = {"rows_a": count_a, "rows_b": count_b, "only_in_a": only_a, "only_in_b": only_b}
        if set(left[table]) != set(right[table]):
            entry["columns_differ"] = sorted(set(left[table]) ^ set(right[table]))
        if show and (only_a or only_b):
            entry["examples_a"] = [
                list(map(str, r)) for r in con.execute(f"{a_not_b} limit {show}").fetchall()
            ]
            entry["examples_b"] = [
                list(map(str, r)) for r in con.execute(f"{b_not_a} limit {show}").fetchall()
            ]
            entry["columns"] = shared
        tables[table] = entry
    report["tables"] = tables
    report["differing"] = sorted(t for t, e in tables.items() if e["only_in_a"] or e["only_in_b"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--schema", default="main")
    parser.add_argument("--places", type=int, default=5)
    parser.add_argument("--show", type=int, default=0)
    parser.add_argument("--json", default=None)
    parser.add_argument("--threads", type=int, default=0, help="DuckDB's threads (default: all cores)")
    args = parser.parse_args(argv)
    report = compare(args.a, args.b, args.schema, args.places, args.show, args.threads)
    for table, entry in report["tables"].items():
        mark = "DIFFERS" if table in report["differing"] else "same"
        print(
            f"{table:40s} {entry['rows_a']:>10,} {entry['rows_b']:>10,}  {mark}"
            + (
                f" (only in a {entry['only_in_a']:,}, only in b {entry['only_in_b']:,})"
                if mark != "same"
                else ""
            )
        )
        for key in ("examples_a", "examples_b"):
            for row in entry.get(key, []):
                print(f"    {key[-1]}: {row}")
    if report["only_in_a"] or report["only_in_b"]:
        print(f"tables only in a: {report['only_in_a']}, only in b: {report['only_in_b']}")
    print(f"{len(report['tables'])} tables compared, {len(report['differing'])} differ")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)
    return 1 if report["differing"] or report["only_in_a"] or report["only_in_b"] else 0


if __name__ == "__main__":
    sys.exit(main())
