"""Build ``serving.duckdb`` next to the live one, gate it, then swap it in atomically.

A run for a month older than the published one (a rerun or backfill of a past month) publishes
only that month's rows of the month-grain tables, into a copy of the live database: see
``build_candidate_for_older_month``.

The dashboard opens short read-only connections to ``paths.serving``. Building the new file under
another name and ``os.replace``-ing it over the old one means a reader sees either yesterday's
complete database or today's, never a half-built one, and never holds a lock the pipeline needs
(DuckDB allows one writer per file; the shared spec's stack notes, §6).
"""

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from assets.publish.candidates import candidate_path
from assets.publish.gate import CHECK_KINDS, MONTH_GRAIN_TABLES, GateFailed, GateReport, run_quality_gate
from assets.resources import AftercareSettings, RunMonth, WarehouseResource
from assets.transform.project import dbt_project
from sources.duckdb_files import changed_settings
from sources.sql_text import quote_literal

# warehouse relations published beside the marts, under these names
EXTRA_PUBLISHED = {
    "oneid_map": "identity.oneid_map",
    "oneid_changes": "identity.oneid_changes",
    "oneid_links": "identity.oneid_links",
    "quarantine": "landing.quarantine",
    "file_manifest": "landing.file_manifest",
    # files dated after the cut-off, and whether a later run takes them (the data-quality page)
    "deferred_files": "landing.deferred_files",
}


def mart_asset_keys() -> list[dg.AssetKey]:
    """Asset keys of every dbt model under ``models/marts`` (read from the manifest)."""
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    keys = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["fqn"][1:2] == ["marts"]:
            keys.append(dg.AssetKey([node["config"].get("schema") or "marts", node["name"]]))
    return sorted(keys, key=lambda k: k.to_user_string())


@dataclass(frozen=True)
class PublishedTable:
    name: str
    relation: str  # schema.table in the warehouse


def tables_to_publish(con: duckdb.DuckDBPyConnection) -> list[PublishedTable]:
    present = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    marts = sorted(rel for rel in present if rel.startswith("marts."))
    tables = [PublishedTable(rel.split(".", 1)[1], rel) for rel in marts]
    tables += [PublishedTable(name, rel) for name, rel in EXTRA_PUBLISHED.items() if rel in present]
    return tables


def build_candidate(
    con: duckdb.DuckDBPyConnection, candidate: Path, tables: list[PublishedTable], run_info: dict[str, str]
) -> dict[str, int]:
    """Copy the published tables into a fresh file at ``candidate``; return row counts."""
    candidate.unlink(missing_ok=True)
    Path(f"{candidate}.wal").unlink(missing_ok=True)
    con.execute(f"attach {quote_literal(candidate)} as serving_candidate")
    counts: dict[str, int] = {}
    try:
        # a published table is a set: every reader sorts what it shows (the dealer lists by a total
        # key, the dashboard's queries), so DuckDB may write each copy in parallel, in any order
        with changed_settings(con, preserve_insertion_order=False):
            for table in tables:
                con.execute(
                    f'create table serving_candidate.main."{table.name}" as select * from {table.relation}'
                )
                counts[table.name] = con.execute(
                    f'select count(*) from serving_candidate.main."{table.name}"'
                ).fetchone()[0]
        columns = ", ".join(f"'{v}' as {k}" for k, v in run_info.items())
        con.execute(f"create table serving_candidate.main.publish_log as select {columns}")
        con.execute("checkpoint serving_candidate")
    finally:
        con.execute("detach serving_candidate")
    return counts


def published_month(serving: Path) -> str | None:
    """The month (YYYY-MM) the live serving database shows; None when there is none yet."""
    if not serving.exists():
        return None
    con = duckdb.connect(str(serving), read_only=True)
    try:
        present = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        if "publish_log" not in present:
            return None
        row = con.execute("select month from publish_log").fetchone()
        return str(row[0]) if row else None
    finally:
        con.close()


def build_candidate_for_older_month(
    con: duckdb.DuckDBPyConnection,
    serving: Path,
    candidate: Path,
    tables: list[PublishedTable],
    month_first_day: dt.date,
    run_info: dict[str, str],
) -> dict[str, int]:
    """A candidate for a run of a month older than the published one: the live database with that
    month's rows of the month-grain tables replaced by the warehouse's, and nothing else changed.

    Such a run rebuilt every other table as of an older cut-off; publishing those would roll the
    dashboard back to an older view of the current state. So the candidate starts as a copy of the
    live file and takes only the recomputed month from the warehouse. ``publish_log`` keeps the
    month and cut-off of the view it shows; its ``run_id`` and ``published_at`` are this run's.
    """
    candidate.unlink(missing_ok=True)
    Path(f"{candidate}.wal").unlink(missing_ok=True)
    shutil.copyfile(serving, candidate)
    by_name = {t.name: t for t in tables}
    con.execute(f"attach {quote_literal(candidate)} as serving_candidate")
    try:
        present = {
            t for (t,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'serving_candidate'"
            ).fetchall()
        }  # fmt: skip
        con.execute("begin")
        for name, month_column in MONTH_GRAIN_TABLES.items():
            if name not in by_name:
                continue
            rows = f'select * from {by_name[name].relation} where "{month_column}" = ?'
            if name in present:
                con.execute(
                    f'delete from serving_candidate.main."{name}" where "{month_column}" = ?',
                    [month_first_day],
                )
                con.execute(f'insert into serving_candidate.main."{name}" by name {rows}', [month_first_day])
            else:
                con.execute(f'create table serving_candidate.main."{name}" as {rows}', [month_first_day])
        con.execute(
            "update serving_candidate.main.publish_log set run_id = ?, published_at = ?",
            [run_info["run_id"], run_info["published_at"]],
        )
        con.execute("commit")
        counts = {
            t: con.execute(f'select count(*) from serving_candidate.main."{t}"').fetchone()[0]
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'serving_candidate' "
                "and table_name <> 'publish_log' order by 1"
            ).fetchall()
        }
        con.execute("checkpoint serving_candidate")
    finally:
        con.execute("detach serving_candidate")
    return counts


SERVING_KEY = dg.AssetKey(["serving", "database"])


def gate_check_results(report: GateReport) -> list[dg.AssetCheckResult]:
    """One Dagster asset check per kind of gate check, failed when any table failed it."""
    results = []
    for kind, checks in report.by_kind().items():
        failed = [c for c in checks if not c.passed]
        results.append(
            dg.AssetCheckResult(
                asset_key=SERVING_KEY,
                check_name=kind,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "tables_checked": len(checks),
                    "failures": dg.MetadataValue.md(
                        "\n".join(f"- {c.table}: {c.detail}" for c in failed) or "none"
                    ),
                },
            )
        )
    return results


@dg.asset(
    key=SERVING_KEY,
    deps=[*mart_asset_keys()],
    group_name="publish",
    kinds={"duckdb"},
    description="serving.duckdb: the marts and identity tables, swapped in only when the gate passes.",
    check_specs=[
        dg.AssetCheckSpec(kind, asset=SERVING_KEY, description=text) for kind, text in CHECK_KINDS.items()
    ],
)
def serving_database(
    context: dg.AssetExecutionContext,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
    run_month: RunMonth,
):
    paths = settings.settings.paths
    serving = Path(paths.serving)
    serving.parent.mkdir(parents=True, exist_ok=True)
    candidate = candidate_path(serving, context.run_id)  # one per run: runs never share a candidate
    run_dir = Path(paths.runs) / context.run_id
    run_info = {
        "run_id": context.run_id,
        "month": run_month.month,
        "as_of_date": run_month.as_of.isoformat(),
        "published_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    live_month = published_month(serving)
    older = live_month is not None and run_month.month < live_month
    with warehouse.get_connection() as con:
        tables = tables_to_publish(con)
        if older:
            context.log.info(
                f"{run_month.month} is older than the published {live_month}: only its rows of "
                f"{', '.join(MONTH_GRAIN_TABLES)} are replaced, every other table stays as published"
            )
            counts = build_candidate_for_older_month(
                con, serving, candidate, tables, run_month.first_day, run_info
            )
        else:
            counts = build_candidate(con, candidate, tables, run_info)
    try:
        report = run_quality_gate(
            candidate, previous=serving if serving.exists() else None, report_dir=run_dir
        )
    except GateFailed as failed:
        candidate.unlink(missing_ok=True)
        if failed.report is not None:
            yield from gate_check_results(failed.report)
        raise dg.Failure(
            description=f"quality gate failed; {serving} was left as it was: {failed}",
            metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed.failures))},
        ) from failed
    os.replace(candidate, serving)
    context.log.info(f"published {len(counts)} tables to {serving}")
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(serving)),
            "tables": dg.MetadataValue.json(counts),
            "mode": f"month {run_month.month} only (published view: {live_month})" if older else "full",
            "gate": dg.MetadataValue.md(report.summary_markdown()),
            "data_docs": dg.MetadataValue.path(str(report.data_docs or run_dir)),
        },
        check_results=gate_check_results(report),
    )
