"""The quality gate a candidate serving database must pass before it replaces the live one.

Two parts:

* a plaintext-PII scan over every text column (SQL regexes in DuckDB: no mobile number and no ID
  number may stand alone in any value);
* a Great Expectations suite per published table, run on pandas frames pulled from the candidate
  file (GX's SQL path on DuckDB is broken, stack-notes §4): keys unique and not null, row count
  within ``ROW_COUNT_TOLERANCE`` of the previous publish, every ``*_rate`` / ``*_share`` column in
  [0, 1], and the contract's columns present (PRODUCT.md "Published tables");
* for the month-grain tables (``MONTH_GRAIN_TABLES``), the row-count band per month, in SQL.

GX runs in ephemeral mode; its Data Docs (HTML) are written under ``report_dir/data_docs`` with the
run, next to ``quality_gate.md`` and ``quality_gate.json``. Only the columns an expectation needs
are pulled into pandas, so a 6-million-row repair_orders table costs one key column.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# A plaintext mobile or ID number standing alone in a value. Bounded by non-alphanumerics so
# that digit runs inside hex HMACs or base64 ciphertexts do not count.
MOBILE_PATTERN = r"(^|[^0-9A-Za-z])1[3-9][0-9]{9}([^0-9A-Za-z]|$)"
ID_NUMBER_PATTERN = (
    r"(^|[^0-9A-Za-z])[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}[0-9Xx]([^0-9A-Za-z]|$)"
)
ID_NUMBER15_PATTERN = r"(^|[^0-9A-Za-z])[1-9][0-9]{5}[0-9]{2}(0[1-9]|1[0-2])[0-9]{5}([^0-9A-Za-z]|$)"

# A publish may grow or shrink a table by at most half against the previous one: a month adds a
# few percent, a doubled batch or a lost source file moves far more.
ROW_COUNT_TOLERANCE = 0.5

# Append-only logs grow with every run (and a month with many merges, files or bad rows is not a
# bad batch), so they are not held to the band; their content is checked where they are made.
APPEND_ONLY_LOGS = frozenset({"oneid_changes", "quarantine", "file_manifest"})

# Month-grain tables: one slice per month M, kept for every month run so far (the month column
# holds the first day of M). Their total grows by a month at every run, so the row-count band
# applies per month instead: no month of the previous publish may disappear, and each month in
# both keeps its row count within the band. A month new in this publish has nothing to compare with.
MONTH_GRAIN_TABLES: dict[str, str] = {"reminders": "month"}

# The key of each published table (PRODUCT.md grains). A table not listed gets no key check.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "customer_360": ("oneid",),
    "vehicles": ("vin",),
    "dealers": ("dealer_code",),
    "repair_orders": ("ro_no",),
    "bookings": ("booking_id",),
    "complaints": ("complaint_no",),
    "rescues": ("request_no",),
    "campaign_participation": ("participant_id",),
    "wechat_followers": ("openid",),
    "wechat_bindings": ("binding_id",),
    "consultant_relationships": ("external_userid", "consultant_userid"),
    "oneid_map": ("identifier_type", "identifier_key"),
    "reminders": ("month", "task_id"),
}

# Columns PRODUCT.md names for a table ("more columns are welcome"): checked when the table exists.
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "oneid_map": ("identifier_type", "identifier_key", "oneid", "first_seen_at", "last_seen_at"),
    "oneid_changes": ("run_at", "change", "old_oneid", "new_oneid"),
    "customer_360": (
        "oneid", "name_masked", "mobile_masked", "birth_month", "gender", "age_band", "province_code",
        "vehicles_owned_now", "vehicles_owned_before", "selling_dealer_code", "servicing_dealer_code",
        "is_wechat_follower", "is_wechat_bound", "is_wechat_subscribed", "wecom_consultant_userid",
        "visits_12m", "visits_24m", "revenue_12m", "revenue_24m", "lifetime_value", "last_visit_date",
        "next_maintenance_due_date", "next_warranty_expiry_date", "next_insurance_due_date",
        "next_inspection_due_date", "open_complaints", "campaigns_joined", "value_segment", "lapse_status",
    ),
    "vehicles": (
        "vin", "current_owner_oneid", "model_code", "model_name", "selling_dealer_code",
        "servicing_dealer_code", "first_invoice_date", "registration_date", "last_visit_date",
        "estimated_mileage_km", "usage", "seats", "is_usage_assumed", "is_seats_assumed",
    ),
    "reminders": (
        "month", "task_id", "oneid", "vin", "dealer_code", "reminder_type", "due_date", "channel",
        "is_carried_over", "carry_months", "wechat_status", "tracked", "reached", "returned",
        "closed_reason",
    ),
    "quarantine": ("source", "file", "row_number", "reason"),
}  # fmt: skip


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
    "no_plaintext_pii": "no plaintext mobile or ID number in any text column",
    "tables_present": "every table of the previous publish is in the candidate",
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


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'main' and data_type = 'VARCHAR' order by 1, 2"
    ).fetchall()


def scan_for_plaintext_pii(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``table.column`` of every text column holding something shaped like a mobile or ID number."""
    hits = []
    for table, column in text_columns(con):
        found = con.execute(
            f'select count(*) from main."{table}" where regexp_matches("{column}", ?) '
            f'or regexp_matches("{column}", ?) or regexp_matches("{column}", ?)',
            [MOBILE_PATTERN, ID_NUMBER_PATTERN, ID_NUMBER15_PATTERN],
        ).fetchone()[0]
        if found:
            hits.append(f"{table}.{column} ({found} rows)")
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


def row_count_bounds(previous_rows: int | None) -> tuple[int, int] | None:
    """The accepted row-count range against the previous publish; None when there is nothing to compare."""
    if not previous_rows:
        return None
    return (
        math.floor(previous_rows * (1 - ROW_COUNT_TOLERANCE)),
        math.ceil(previous_rows * (1 + ROW_COUNT_TOLERANCE)),
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
    "expect_column_values_to_be_unique": "keys_unique",
    "expect_compound_columns_to_be_unique": "keys_unique",
    "expect_column_values_to_not_be_null": "keys_unique",
    "expect_column_values_to_be_between": "rates_in_range",
}


def build_suite(table: str, columns: list[str], previous_rows: int | None) -> TableSuite:
    import great_expectations.expectations as gxe

    expectations: list = []
    frame_columns: list[str] = []

    bounds = row_count_bounds(previous_rows)
    if bounds is not None:
        expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=bounds[0], max_value=bounds[1]))

    key = [c for c in TABLE_KEYS.get(table, ()) if c in columns]
    if key and len(key) == len(TABLE_KEYS[table]):
        frame_columns += key
        if len(key) == 1:
            expectations.append(gxe.ExpectColumnValuesToBeUnique(column=key[0]))
        else:
            expectations.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
        for column in key:
            expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))

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
    """Validate each table's frame with GX (ephemeral); Data Docs HTML goes to ``docs_dir``."""
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
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"gate_{suite.table}",
                validation_definitions=[validation],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["quality_gate"])],
            )
        )
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        for validation_result in outcome.run_results.values():
            for result in validation_result.results:
                kind = EXPECTATION_KINDS[result.expectation_config.type]
                checks.append(GateCheck(kind, suite.table, bool(result.success), _describe(result)))
    index = docs_dir / "index.html"
    return checks, index if index.exists() else None


# ---------------------------------------------------------------------------- the gate


def run_quality_gate(candidate: Path, previous: Path | None, report_dir: Path) -> GateReport:
    """Check the candidate; raise ``GateFailed`` listing every failed check.

    The report (markdown, JSON, Data Docs HTML) is written to ``report_dir`` either way.
    """
    report = GateReport()
    report_dir.mkdir(parents=True, exist_ok=True)
    previous_counts = previous_row_counts(previous)
    previous_months = previous_month_row_counts(previous)
    con = duckdb.connect(str(candidate), read_only=True)
    try:
        hits = scan_for_plaintext_pii(con)
        report.add("no_plaintext_pii", not hits, ", ".join(hits) or "none found")

        columns = table_columns(con)
        # a table that was published before and is gone now means a model or a source went missing
        missing_tables = sorted(t for t in previous_counts if t not in columns)
        report.add("tables_present", not missing_tables, ", ".join(missing_tables) or "all present")

        for table, wanted in CONTRACT_COLUMNS.items():
            if table in columns:
                missing = [c for c in wanted if c not in columns[table]]
                report.add("contract_columns", not missing, ", ".join(missing) or "all present", table=table)

        unbanded = APPEND_ONLY_LOGS | MONTH_GRAIN_TABLES.keys()
        suites = [
            build_suite(table, cols, None if table in unbanded else previous_counts.get(table))
            for table, cols in sorted(columns.items())
            if table != "publish_log"
        ]
        checks, report.data_docs = run_expectations(con, suites, report_dir / "data_docs")
        report.checks += checks
        for table in sorted(columns):
            if table in MONTH_GRAIN_TABLES and MONTH_GRAIN_TABLES[table] in columns[table]:
                counts = month_row_counts(con, table, MONTH_GRAIN_TABLES[table])
                passed, detail = check_month_grain_counts(table, previous_months.get(table, {}), counts)
                report.add("row_counts_in_range", passed, detail, table=table)
            elif table in APPEND_ONLY_LOGS:
                report.add("row_counts_in_range", True, "append-only log: not compared", table=table)
            elif table != "publish_log" and row_count_bounds(previous_counts.get(table)) is None:
                report.add("row_counts_in_range", True, "no previous rows to compare with", table=table)
    finally:
        con.close()

    (report_dir / "quality_gate.md").write_text(report.summary_markdown() + "\n")
    (report_dir / "quality_gate.json").write_text(report.to_json() + "\n")
    if report.failures:
        raise GateFailed(report.failures, report)
    return report
