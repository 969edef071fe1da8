"""The quality gate a candidate serving database must pass before it replaces the live one.

The checks:

* a personal-number scan over every column of every table, whatever its type (cast to text, JSON
  and lists included), with the rule the ingestion scrubber masks by (``sources.scrub``): every
  written form of a mobile (``+86``/``0086``/``86``, spaces, dashes, full-width digits) and 15- or
  18-digit ID numbers; a hit names the table, the column and the number of rows;
* the published tables must all be there (``PUBLISHED_TABLES``: the warehouse copies and every
  mart with an enforced dbt contract);
* each table's key unique and not null (``check_key``), set-based in DuckDB, one pass per table; a
  mart's key and columns come from its dbt YAML (``assets/publish/contracts.py``);
* a Great Expectations suite per published table, run on pandas frames pulled from the candidate
  file (GX's SQL path on DuckDB is broken, stack-notes §4): row count within
  ``ROW_COUNT_TOLERANCE`` of the previous publish and every ``*_rate`` / ``*_share`` column in
  [0, 1]; and the contract's columns present;
* for the month-grain tables (``MONTH_GRAIN_TABLES``), the row-count band per month, in SQL.

GX runs in ephemeral mode; its Data Docs (HTML) are written under ``report_dir/data_docs`` with the
run, next to ``quality_gate.md`` and ``quality_gate.json`` (which list every check, the key checks
too). Only the columns an expectation needs are pulled into pandas: a row count pulls one boolean
column. Where the gate's time goes at M and what each choice bought: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.publish.contracts import mart_contracts
from sources.scrub import sql_holds_personal_number

# The tables copied from the warehouse, not built by dbt: their keys and columns are made by the
# identity and ingestion code (PRODUCT.md "Published tables"), so they are named here.
NOT_FROM_DBT_KEYS: dict[str, tuple[str, ...]] = {"oneid_map": ("identifier_type", "identifier_key")}
NOT_FROM_DBT_COLUMNS: dict[str, tuple[str, ...]] = {
    "oneid_map": ("identifier_type", "identifier_key", "oneid", "first_seen_at", "last_seen_at"),
    "oneid_changes": ("run_at", "change", "old_oneid", "new_oneid"),
    "quarantine": ("source", "file", "row_number", "reason"),
}
NOT_FROM_DBT = frozenset(NOT_FROM_DBT_COLUMNS)

# The marts: their keys and contract columns are in their dbt YAML, read from the manifest
# (assets/publish/contracts.py). A mart with an enforced contract is a published table of the
# product contract and must be in every publish; the other marts are published when built.
MARTS = mart_contracts()
PUBLISHED_TABLES: tuple[str, ...] = (
    *sorted(NOT_FROM_DBT),
    *sorted(name for name, mart in MARTS.items() if mart.enforced),
)
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    **NOT_FROM_DBT_KEYS,
    **{name: mart.key for name, mart in sorted(MARTS.items()) if mart.key},
}
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    **NOT_FROM_DBT_COLUMNS,
    **{name: mart.columns for name, mart in sorted(MARTS.items()) if mart.enforced},
}


def required_tables(manifest_path: Path | None = None) -> list[str]:
    """The tables every publish must hold: the warehouse copies and every mart whose contract is
    enforced in the project's manifest."""
    marts = MARTS if manifest_path is None else mart_contracts(manifest_path)
    return [*sorted(NOT_FROM_DBT), *sorted(name for name, mart in marts.items() if mart.enforced)]


# A publish may grow or shrink a table by at most half against the previous one: a month adds a
# few percent, a doubled batch or a lost source file moves far more.
ROW_COUNT_TOLERANCE = 0.5

# Append-only logs grow with every run (and a month with many merges, files or bad rows is not a
# bad batch), so they are not held to the band; their content is checked where they are made.
# (`deferred_files` is no log, but it lists what the inbox holds beyond the cut-off: it comes and goes)
APPEND_ONLY_LOGS = frozenset({"oneid_changes", "quarantine", "file_manifest", "deferred_files"})

# Month-grain tables: one slice per month M, kept for every month run so far (the month column
# holds the first day of M). Their total grows by a month at every run, so the row-count band
# applies per month instead: no month of the previous publish may disappear, and each month in
# both keeps its row count within the band. A month new in this publish has nothing to compare with.
MONTH_GRAIN_TABLES: dict[str, str] = {"reminders": "month"}

# KPI tables (the marts under models/marts/kpis) gain rows with every run by design (a new month;
# the reminder KPIs start from one month and double the next), so only a shrink beyond the tolerance
# fails them; warnings come and go, so the size of `alerts` says nothing about a batch (docs/kpis.md).
KPI_TABLES = frozenset(name for name, mart in MARTS.items() if mart.folder == "kpis" and name != "alerts")
GROWING_TABLES = KPI_TABLES
# summaries with a row per distinct value (identifier types, cluster sizes): their row count follows
# the values that occur, not the batch (a first WeChat month adds three identifier types); the
# table they summarise, oneid_map, keeps its band
SUMMARY_TABLES = frozenset({"oneid_identifier_types", "oneid_cluster_sizes"})
# month-grain tables get their band per month below, not over the whole table
UNBANDED_TABLES = APPEND_ONLY_LOGS | SUMMARY_TABLES | {"alerts"} | MONTH_GRAIN_TABLES.keys()


class GateFailed(Exception):
    def __init__(self, failures: list[str], report: GateReport | None = None):
        super().__init__("; ".join(failures))
        self.failures = failures
        self.report = report


@dataclass
class GateCheck:
    name: str  # the kind of check: one of CHECK_KINDS
    table: str  # "*" for a database-wide check
    passed: bool
    detail: str = ""


# The kinds of check, fixed so Dagster can declare one asset check per kind.
CHECK_KINDS = {
    "no_plaintext_pii": "no plaintext mobile or ID number in any column of any type",
    "tables_present": "every published table of PRODUCT.md and every table of the previous publish is there",
    "contract_columns": "the columns PRODUCT.md names are present",
    "keys_unique": "each table's key is unique and not null",
    "row_counts_in_range": f"row counts within ±{ROW_COUNT_TOLERANCE:.0%} of the previous publish",
    "rates_in_range": "every *_rate and *_share column is within [0, 1]",
}


@dataclass
class GateReport:
    checks: list[GateCheck] = field(default_factory=list)
    data_docs: Path | None = None

    def add(self, name: str, passed: bool, detail: str = "", table: str = "*") -> None:
        self.checks.append(GateCheck(name, table, passed, detail))

    @property
    def failures(self) -> list[str]:
        return [f"{c.name} [{c.table}]: {c.detail}" for c in self.checks if not c.passed]

    def by_kind(self) -> dict[str, list[GateCheck]]:
        kinds: dict[str, list[GateCheck]] = {kind: [] for kind in CHECK_KINDS}
        for check in self.checks:
            kinds.setdefault(check.name, []).append(check)
        return kinds

    def summary_markdown(self) -> str:
        lines = ["| check | table | result | detail |", "|---|---|---|---|"]
        lines += [
            f"| {c.name} | {c.table} | {'pass' if c.passed else 'FAIL'} | {c.detail} |" for c in self.checks
        ]
        if self.data_docs is not None:
            lines += ["", f"Data Docs: {self.data_docs}"]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "passed": not self.failures,
                "checks": [c.__dict__ for c in self.checks],
                "data_docs": str(self.data_docs) if self.data_docs else None,
            },
            ensure_ascii=False,
            indent=2,
        )


# ---------------------------------------------------------------------------- reading the files


def scan_for_plaintext_pii(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``table.column (N rows)`` for every column, of any type, holding a mobile or ID number.

    Each column is cast to text (numbers, dates, JSON, lists and structs alike) and matched with
    ``sources.scrub``'s rule; one pass per table counts every column at once.
    """
    hits = []
    for table, columns in table_columns(con).items():
        # each column cast once, in the subquery: the predicate reads its value several times
        quoted = [f'"{c}"' for c in columns]
        as_text = ", ".join(f"cast({q} as varchar) as {q}" for q in quoted)
        counts = ", ".join(f"count(*) filter (where {sql_holds_personal_number(q)})" for q in quoted)
        found = con.execute(f'select {counts} from (select {as_text} from main."{table}")').fetchone()
        hits += [f"{table}.{c} ({n} rows)" for c, n in zip(columns, found, strict=True) if n]
    return hits


def table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' order by table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    return columns


def previous_row_counts(previous: Path | None) -> dict[str, int]:
    """Row counts of the live serving database, read-only; empty when there is none yet."""
    if previous is None or not previous.exists():
        return {}
    con = duckdb.connect(str(previous), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()]  # fmt: skip
        return {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def row_count_bounds(previous_rows: int | None, growing: bool = False) -> tuple[int, int | None] | None:
    """The accepted row-count range against the previous publish; None when there is nothing to
    compare. A growing table has no upper bound."""
    if not previous_rows:
        return None
    return (
        math.floor(previous_rows * (1 - ROW_COUNT_TOLERANCE)),
        None if growing else math.ceil(previous_rows * (1 + ROW_COUNT_TOLERANCE)),
    )


def month_row_counts(con: duckdb.DuckDBPyConnection, table: str, month_column: str) -> dict[str, int]:
    rows = con.execute(
        f'select cast("{month_column}" as varchar), count(*) from main."{table}" group by 1'
    ).fetchall()
    return {str(month): n for month, n in rows}


def previous_month_row_counts(previous: Path | None) -> dict[str, dict[str, int]]:
    """Row counts per month of the month-grain tables of the live serving database."""
    if previous is None or not previous.exists():
        return {}
    con = duckdb.connect(str(previous), read_only=True)
    try:
        present = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()}  # fmt: skip
        return {
            table: month_row_counts(con, table, column)
            for table, column in MONTH_GRAIN_TABLES.items()
            if table in present
        }
    finally:
        con.close()


def check_month_grain_counts(
    table: str, previous: dict[str, int], candidate: dict[str, int]
) -> tuple[bool, str]:
    """No month lost; every month in both within the band. Returns (passed, detail)."""
    problems = [f"month {m} ({n} rows) is gone" for m, n in sorted(previous.items()) if m not in candidate]
    for month in sorted(set(previous) & set(candidate)):
        bounds = row_count_bounds(previous[month])
        if bounds is not None and not bounds[0] <= candidate[month] <= bounds[1]:
            problems.append(f"month {month}: {candidate[month]} rows, expected {bounds[0]}..{bounds[1]}")
    if problems:
        return False, "; ".join(problems)
    new = sorted(set(candidate) - set(previous))
    return True, f"{len(candidate)} months kept" + (f", new: {', '.join(new)}" if new else "")


def check_key(con: duckdb.DuckDBPyConnection, table: str, key: tuple[str, ...]) -> list[GateCheck]:
    """``keys_unique`` for one table, set-based in DuckDB: no two rows share a key, no key column null.

    One pass counts each key column's nulls and the rows beyond the first of each key; only a failed
    check reads the table again, for a few examples. The rules are Great Expectations' (which ran
    them on pandas frames until 2026-11-30): uniqueness ignores a row whose key columns are all
    null, the not-null check fails on any null. At M, GX took ~9 s of CPU for the 6.3M repair-order
    numbers (hashing a pandas frame); DuckDB takes ~2 s (docs/benchmarks.md, "The publish stage at M").
    """
    cols = ", ".join(f'"{c}"' for c in key)
    keyed = " or ".join(f'"{c}" is not null' for c in key)
    value = f'"{key[0]}"' if len(key) == 1 else f"row({cols})"
    nulls = ", ".join(f'count(*) filter (where "{c}" is null)' for c in key)
    row = con.execute(
        f"select count(*) filter (where {keyed}) - count(distinct {value}) filter (where {keyed}), {nulls} "
        f'from main."{table}"'
    ).fetchone()
    duplicates, null_counts = row[0], row[1:]
    what = f"{key[0]} column values" if len(key) == 1 else f"{','.join(key)} compound columns"
    detail = f"{what} to be unique"
    if duplicates:
        sample = con.execute(
            f'select {cols}, count(*) from main."{table}" where {keyed} group by all having count(*) > 1 '
            "order by count(*) desc limit 3"
        ).fetchall()
        examples = [(found[:-1] if len(key) > 1 else found[0], found[-1]) for found in sample]
        detail += f": {duplicates} rows repeat a key, e.g. (key, rows) {examples}"
    checks = [GateCheck("keys_unique", table, not duplicates, detail)]
    for column, n in zip(key, null_counts, strict=True):
        detail = f"{column} column values to not be null" + (f": {n} null rows" if n else "")
        checks.append(GateCheck("keys_unique", table, not n, detail))
    return checks


def rate_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c.endswith("_rate") or c.endswith("_share")]


# ---------------------------------------------------------------------------- Great Expectations


@dataclass
class TableSuite:
    table: str
    frame_columns: list[str]
    expectations: list  # great_expectations.expectations.Expectation


# which gate check each GX expectation type serves
EXPECTATION_KINDS = {
    "expect_table_row_count_to_be_between": "row_counts_in_range",
    "expect_column_values_to_be_between": "rates_in_range",
}


def build_suite(table: str, columns: list[str], previous_rows: int | None) -> TableSuite:
    import great_expectations.expectations as gxe

    expectations: list = []
    frame_columns: list[str] = []

    bounds = row_count_bounds(previous_rows, growing=table in GROWING_TABLES)
    if bounds is not None:
        expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=bounds[0], max_value=bounds[1]))

    for column in rate_columns(columns):
        frame_columns.append(column)
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1))

    return TableSuite(table, list(dict.fromkeys(frame_columns)), expectations)


def _describe(result) -> str:
    info = result.result or {}
    kwargs = result.expectation_config.kwargs
    what = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or "table"
    what = f"{what} {result.expectation_config.type.removeprefix('expect_').replace('_', ' ')}"
    if "observed_value" in info:
        expected = (kwargs.get("min_value"), kwargs.get("max_value"))
        return f"{what}: observed {info['observed_value']}, expected {expected[0]}..{expected[1]}"
    if info.get("unexpected_count"):
        sample = info.get("partial_unexpected_list", [])[:3]
        return f"{what}: {info['unexpected_count']} unexpected rows, e.g. {sample}"
    return what


def run_expectations(
    con: duckdb.DuckDBPyConnection, suites: list[TableSuite], docs_dir: Path
) -> tuple[list[GateCheck], Path | None]:
    """Validate each table's frame with GX (ephemeral); Data Docs HTML goes to ``docs_dir``.

    Each table's validation definition is run on its own (GX stores the result in the context), and
    the Data Docs site is built once at the end. A checkpoint per table with an ``UpdateDataDocsAction``
    did the same but built a new site builder per table, whose Jinja environment compiled every
    template again: ~1 s of CPU per table whatever its size (docs/benchmarks.md, "The publish stage at M").
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # progress bars are cosmetic; an API change must not fail the gate
        pass
    context.add_data_docs_site(
        site_name="quality_gate",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    source = context.data_sources.add_pandas("serving_candidate")
    checks: list[GateCheck] = []
    for suite in suites:
        if not suite.expectations:
            continue
        if suite.frame_columns:
            cols = ", ".join(f'"{c}"' for c in suite.frame_columns)
            frame = con.sql(f'select {cols} from main."{suite.table}"').df()
        else:  # a row count needs rows, not columns
            frame = con.sql(f'select true as present from main."{suite.table}"').df()
        batch = source.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe("candidate")
        gx_suite = context.suites.add(gx.ExpectationSuite(name=suite.table, expectations=suite.expectations))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.table, data=batch, suite=gx_suite)
        )
        result = validation.run(batch_parameters={"dataframe": frame})
        del frame  # one table's columns in memory at a time
        for expectation_result in result.results:
            kind = EXPECTATION_KINDS[expectation_result.expectation_config.type]
            checks.append(
                GateCheck(kind, suite.table, bool(expectation_result.success), _describe(expectation_result))
            )
    context.build_data_docs(site_names=["quality_gate"])
    index = docs_dir / "index.html"
    return checks, index if index.exists() else None


# ---------------------------------------------------------------------------- the gate


def run_quality_gate(
    candidate: Path, previous: Path | None, report_dir: Path, required: Iterable[str] | None = None
) -> GateReport:
    """Check the candidate; raise ``GateFailed`` listing every failed check.

    ``required``: the tables that must be published (default ``required_tables()``). The report
    (markdown, JSON, Data Docs HTML) is written to ``report_dir`` either way.
    """
    required = list(required_tables() if required is None else required)
    report = GateReport()
    report_dir.mkdir(parents=True, exist_ok=True)
    previous_counts = previous_row_counts(previous)
    previous_months = previous_month_row_counts(previous)
    con = duckdb.connect(str(candidate), read_only=True)
    try:
        hits = scan_for_plaintext_pii(con)
        report.add("no_plaintext_pii", not hits, ", ".join(hits) or "none found")

        columns = table_columns(con)
        # a published table of the contract that is not there, or one that was published before and
        # is gone now, means a model or a source went missing
        missing_tables = sorted({t for t in [*required, *previous_counts] if t not in columns})
        report.add("tables_present", not missing_tables, ", ".join(missing_tables) or "all present")

        for table, wanted in CONTRACT_COLUMNS.items():
            if table in columns:
                missing = [c for c in wanted if c not in columns[table]]
                report.add("contract_columns", not missing, ", ".join(missing) or "all present", table=table)

        suites = [
            build_suite(table, cols, None if table in UNBANDED_TABLES else previous_counts.get(table))
            for table, cols in sorted(columns.items())
            if table != "publish_log"
        ]
        checks, report.data_docs = run_expectations(con, suites, report_dir / "data_docs")
        report.checks += checks
        for table, cols in sorted(columns.items()):
            key = TABLE_KEYS.get(table, ())
            if key and all(c in cols for c in key):  # a missing key column fails contract_columns
                report.checks += check_key(con, table, key)
        for table in sorted(columns):
            if table in MONTH_GRAIN_TABLES and MONTH_GRAIN_TABLES[table] in columns[table]:
                counts = month_row_counts(con, table, MONTH_GRAIN_TABLES[table])
                passed, detail = check_month_grain_counts(table, previous_months.get(table, {}), counts)
                report.add("row_counts_in_range", passed, detail, table=table)
            elif table in APPEND_ONLY_LOGS:
                report.add("row_counts_in_range", True, "append-only log: not compared", table=table)
            elif table in SUMMARY_TABLES:
                report.add("row_counts_in_range", True, "a row per value: not compared", table=table)
            elif table in UNBANDED_TABLES:
                report.add("row_counts_in_range", True, "warnings come and go: not compared", table=table)
            elif table != "publish_log" and row_count_bounds(previous_counts.get(table)) is None:
                report.add("row_counts_in_range", True, "no previous rows to compare with", table=table)
    finally:
        con.close()

    (report_dir / "quality_gate.md").write_text(report.summary_markdown() + "\n")
    (report_dir / "quality_gate.json").write_text(report.to_json() + "\n")
    if report.failures:
        raise GateFailed(report.failures, report)
    return report
