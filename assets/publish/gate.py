"""The quality gate a candidate serving database must pass before it replaces the live one."""

from __future__ import annotations

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


class GateFailed(Exception):
    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


@dataclass
class GateReport:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, passed: bool, detail: str = "") -> None:
        self.checks.append((name, passed, detail))

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {detail}" for name, passed, detail in self.checks if not passed]

    def summary_markdown(self) -> str:
        lines = ["| check | result | detail |", "|---|---|---|"]
        lines += [f"| {n} | {'pass' if p else 'FAIL'} | {d} |" for n, p, d in self.checks]
        return "\n".join(lines)


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


def run_quality_gate(candidate: Path, previous: Path | None, report_dir: Path) -> GateReport:
    """Check the candidate; raise ``GateFailed`` listing every failed check."""
    report = GateReport()
    con = duckdb.connect(str(candidate), read_only=True)
    try:
        hits = scan_for_plaintext_pii(con)
        report.add("no plaintext mobile or ID number", not hits, ", ".join(hits) or "none found")
    finally:
        con.close()
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "quality_gate.md").write_text(report.summary_markdown() + "\n")
    if report.failures:
        raise GateFailed(report.failures)
    return report
