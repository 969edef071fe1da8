"""OneID as Dagster assets: the identity tables, their checks, and the quality report.

The rules live in the pure modules beside this one (``sources``, ``graph``, ``stability``,
``resolve``, ``quality``); this module only wires them to the warehouse and the settings.
"""

import dataclasses
import datetime as dt
import os
from pathlib import Path

import dagster as dg

from assets.identity.quality import quality_report, write_report
from assets.identity.resolve import OneidParams, resolve
from assets.identity.scratch import DEFAULT_MEMORY_LIMIT
from assets.identity.spark_components import SparkComponents
from assets.resources import AftercareSettings, WarehouseResource
from sources.pii import PiiVault
from sources.settings import Settings

LANDING_INPUTS = [
    "vehicle_sales",
    "wechat_bindings",
    "bookings",
    "complaints",
    "campaign_participants",
    "rescues",
    "staff",
]
WECHAT_INPUTS = ["oa_followers", "wecom_external_contacts"]
INPUT_KEYS = [dg.AssetKey(["landing", t]) for t in LANDING_INPUTS] + [
    dg.AssetKey(["wechat", t]) for t in WECHAT_INPUTS
]

IDENTITY_TABLES = {
    "oneid_map": "One row per identifier: its OneID, first and last sighting (published).",
    "oneid_changes": "One row per OneID merged or split in a run (published).",
    "oneid_links": "Every identity link kept: which record, which rule, which OneID.",
    "oneid_registry": "Every identifier ever seen and its current or last OneID (stability).",
    "dropped_links": "Links refused: unclean mobile, or a weak link that would join two ID numbers.",
    "excluded_identifiers": "Mobiles that are never an identity: placeholder, staff, shared.",
    "suspicious_clusters": "OneIDs above the review thresholds of settings.oneid.",
}


def duckdb_memory_limit() -> str:
    """DuckDB's share of memory in the identity steps: ``AFTERCARE_ONEID_DUCKDB_MEMORY`` or the default.

    An operations knob: DuckDB spills beyond it to the scratch database beside the warehouse, so a
    lower cap trades time and disk for memory (docs/identity.md).
    """
    return os.environ.get("AFTERCARE_ONEID_DUCKDB_MEMORY") or DEFAULT_MEMORY_LIMIT


def spark_components(config: Settings) -> SparkComponents | None:
    """The Spark job for OneID's connected components, or None for SciPy in this process.

    With ``engine.kind = "spark"`` the components run in a Spark job (a subprocess: this process
    starts no JVM) unless ``engine.spark_oneid`` is off; everything else of OneID stays in the
    DuckDB warehouse."""
    if config.engine.kind == "spark" and config.engine.spark_oneid:
        return SparkComponents.from_settings(config)
    return None


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["identity", name], description=text, group_name="identity", deps=INPUT_KEYS, kinds={"duckdb"}
        )
        for name, text in IDENTITY_TABLES.items()
    ],
    can_subset=False,
)
def oneid_tables(
    context: dg.AssetExecutionContext, settings: AftercareSettings, warehouse: WarehouseResource
):
    """Resolve every identifier in the warehouse to a stable OneID."""
    config = settings.settings
    params = OneidParams.from_settings(config.oneid, PiiVault(config.pii_key()).hash)
    params = dataclasses.replace(
        params, duckdb_memory_limit=duckdb_memory_limit(), spark=spark_components(config)
    )
    with warehouse.get_connection() as con:
        summary = resolve(con, params)
        counts = {
            name: con.execute(f"select count(*) from identity.{name}").fetchall()[0][0]
            for name in IDENTITY_TABLES
        }
    for missing in summary.sources_missing:
        context.log.warning(missing)
    context.log.info(
        f"OneID: {summary.identifiers:,} identifiers -> {summary.oneids:,} OneIDs; changes "
        f"{summary.changes}; dropped {summary.links_dropped}; timings {summary.seconds}; "
        f"CPU {summary.cpu_seconds}"
    )
    shared = {
        "sources_read": dg.MetadataValue.json(summary.sources_read),
        "sources_missing": dg.MetadataValue.json(summary.sources_missing),
        "seconds": dg.MetadataValue.json(summary.seconds),
        "cpu_seconds": dg.MetadataValue.json(summary.cpu_seconds),
    }
    if summary.spark:
        shared["spark_components"] = dg.MetadataValue.json(summary.spark)
    extra = {
        "oneid_map": {"oneids": summary.oneids, "identifiers": summary.identifiers},
        "oneid_changes": {"this_run": dg.MetadataValue.json(summary.changes)},
        "dropped_links": {"by_reason": dg.MetadataValue.json(summary.links_dropped)},
        "excluded_identifiers": {"by_reason": dg.MetadataValue.json(summary.excluded_identifiers)},
    }
    for name in IDENTITY_TABLES:
        yield dg.MaterializeResult(
            asset_key=["identity", name],
            metadata={"dagster/row_count": counts[name], **shared, **extra.get(name, {})},
        )


@dg.asset_check(
    asset=dg.AssetKey(["identity", "oneid_map"]), description="No OneID holds two valid ID numbers (rule 4)."
)
def oneid_holds_at_most_one_id_number(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        offenders = con.execute(
            "select count(*) from (select oneid from identity.oneid_map where identifier_type = 'id_number' "
            "group by oneid having count(*) > 1)"
        ).fetchall()[0][0]
    return dg.AssetCheckResult(passed=offenders == 0, metadata={"oneids_with_2plus_id_numbers": offenders})


@dg.asset_check(
    asset=dg.AssetKey(["identity", "oneid_map"]), description="Each identifier has exactly one OneID."
)
def identifier_has_one_oneid(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        duplicates = duplicated_identifiers(con)
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicated_identifiers": duplicates})


def duplicated_identifiers(con) -> int:
    """How many identifiers ``identity.oneid_map`` lists more than once.

    First by a 64-bit hash of each identifier: when the map has as many distinct hashes as rows, no
    identifier repeats (at L 4.4 s against 9.0 for grouping 37M strings). Only when some hashes
    repeat, a duplicate or a collision, are the strings grouped for the exact count."""
    rows, hashes = con.execute(
        "select count(*), count(distinct hash(identifier_type, identifier_key)) from identity.oneid_map"
    ).fetchall()[0]
    if rows == hashes:
        return 0
    return con.execute(
        "select count(*) from (select identifier_type, identifier_key from identity.oneid_map "
        "group by all having count(*) > 1)"
    ).fetchall()[0][0]


class QualityReportConfig(dg.Config):
    # folder holding the generator's truth/identifiers.parquet; empty: <paths.data>/truth when present.
    # The production pipeline has no truth: then only sizes and rule counts are reported.
    truth_dir: str = ""


@dg.asset(
    key=["identity", "quality_report"],
    deps=[dg.AssetKey(["identity", "oneid_map"])],
    group_name="identity",
    kinds={"duckdb"},
    description=(
        "Identity health: cluster sizes, rules fired, links dropped; pairwise precision/recall when "
        "truth exists."
    ),
)
def identity_quality_report(
    context: dg.AssetExecutionContext,
    config: QualityReportConfig,
    settings: AftercareSettings,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    paths = settings.settings.paths
    truth = Path(config.truth_dir) if config.truth_dir else Path(paths.data) / "truth"
    has_truth = (truth / "identifiers.parquet").exists()
    key = settings.settings.pii_key() if has_truth else None
    with warehouse.get_connection() as con:
        report = quality_report(
            con,
            truth if has_truth else None,
            key,
            duckdb_memory_limit(),
            truth_cache_dir=Path(paths.state) / "identity_truth",
        )
        markdown = Path(paths.runs) / context.run_id / "identity_quality.md"
        write_report(con, report, dt.datetime.now().replace(microsecond=0), markdown)
    return dg.MaterializeResult(
        metadata={
            "precision": report.precision,
            "recall": report.recall,
            "truth": str(truth) if has_truth else "none",
            "seconds": dg.MetadataValue.json(report.seconds),
            "report": dg.MetadataValue.md(report.markdown()),
            "path": dg.MetadataValue.path(str(markdown)),
        }
    )
