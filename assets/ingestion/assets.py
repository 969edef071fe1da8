"""Dagster assets of the landing schema: one scan of the inbox, one output per landing table.

A ``multi_asset`` because the inbox is read once (manifest, ordering, the dealer check of later
tables depends on master data landed first) and each table is an output that dbt and OneID depend
on by key (``["landing", <table>]``).
"""

import datetime as dt
from pathlib import Path

import dagster as dg

from assets.ingestion import store
from assets.ingestion.ingest import IngestionResult, ingest_inbox, report_markdown, report_rows, summarize
from assets.resources import AftercareSettings, RunMonth, WarehouseResource
from assets.run_notes import notes_metadata
from sources.exports.personal import PersonalData
from sources.exports.tables import TABLES
from sources.pii import PiiVault

GROUP = "ingestion"
BOOKKEEPING = ("quarantine", "file_manifest", "ingestion_report")

_SPECS = [
    dg.AssetSpec(
        ["landing", table.name],
        group_name=GROUP,
        kinds={"duckdb"},
        description=(
            f"{table.system}/{table.name} exports, typed; current version per key ({', '.join(table.key)})."
        ),
    )
    for table in TABLES
] + [
    dg.AssetSpec(
        ["landing", "quarantine"],
        group_name=GROUP,
        kinds={"duckdb"},
        description="Rows that could not be typed: file, row, column, reason, raw row (PII hashed).",
    ),
    dg.AssetSpec(
        ["landing", "file_manifest"],
        group_name=GROUP,
        kinds={"duckdb"},
        description="One row per inbox file: size, SHA-256, rows read/typed/quarantined, status.",
    ),
    dg.AssetSpec(
        ["landing", "ingestion_report"],
        group_name=GROUP,
        kinds={"duckdb"},
        description="One row per file per ingestion run: what was done with it.",
    ),
]


@dg.multi_asset(specs=_SPECS, name="landing_tables", can_subset=False)
def landing_tables(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
    run_month: RunMonth,
):
    """Ingest the inbox files dated up to ``run_month.as_of`` (undated files always)."""
    cfg = settings.settings
    inbox = Path(cfg.paths.inbox)
    personal = PersonalData(PiiVault(cfg.pii_key()), cfg.oneid.placeholder_mobiles)
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    with warehouse.get_connection() as con:
        result = ingest_inbox(con, inbox, personal, as_of=run_month.as_of, run_id=context.run_id, now=run_at)
        store.append_report(con, report_rows(result, context.run_id, run_at))
        counts = {name: store.row_count(con, name) for name in [t.name for t in TABLES] + list(BOOKKEEPING)}

    for outcome in result.outcomes:
        if outcome.action == "failed":
            context.log.warning(f"{outcome.relative}: not ingested: {outcome.error}")
        elif outcome.action in ("ingested", "duplicate"):
            context.log.info(
                f"{outcome.relative}: {outcome.action}, {outcome.rows_read} read, {outcome.rows_typed} "
                f"typed, {outcome.rows_quarantined} quarantined"
            )
    for warning in result.warnings:
        context.log.warning(warning)

    report_dir = Path(cfg.paths.runs) / context.run_id
    report_dir.mkdir(parents=True, exist_ok=True)
    report_path = report_dir / "ingestion_report.md"
    report_path.write_text(report_markdown(result, context.run_id, run_at, [t.name for t in TABLES]))

    summary = summarize(result)
    for table in TABLES:
        rows = result.table_rows(table.name)
        yield dg.MaterializeResult(
            asset_key=["landing", table.name],
            metadata={
                "files_ingested": rows["files"],
                "rows_read": rows["rows_read"],
                "rows_typed": rows["rows_typed"],
                "rows_quarantined": rows["rows_quarantined"],
                "dagster/row_count": counts[table.name],
            },
        )
    yield dg.MaterializeResult(
        asset_key=["landing", "quarantine"],
        metadata={"rows_quarantined_this_run": sum(o.rows_quarantined for o in result.outcomes),
                  "dagster/row_count": counts["quarantine"]},
    )  # fmt: skip
    yield dg.MaterializeResult(
        asset_key=["landing", "file_manifest"],
        metadata={
            **summary,
            "as_of": str(run_month.as_of),
            "dagster/row_count": counts["file_manifest"],
            **notes_metadata(*run_notes(result)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["landing", "ingestion_report"],
        metadata={**summary, "report": dg.MetadataValue.path(str(report_path)),
                  "dagster/row_count": counts["ingestion_report"]},
    )  # fmt: skip


def run_notes(result: IngestionResult) -> tuple[list[str], list[str]]:
    """(warnings, notices) for the run summary: files not ingested and files dated in the future are
    warnings; files left for a later month's run are a notice."""
    warnings = [f"{o.relative}: not ingested: {o.error}" for o in result.outcomes if o.action == "failed"]
    warnings += result.warnings
    waiting = [o for o in result.outcomes if o.deferral == "not_yet_due"]
    notices = []
    if waiting:
        shown = ", ".join(o.relative for o in waiting[:3]) + (
            f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
        )
        notices.append(
            f"{len(waiting)} file(s) dated after the cut-off {result.as_of} wait for a later month's run: "
            f"{shown}"
        )
    return warnings, notices
