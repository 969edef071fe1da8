"""Benchmark companion: the same identifiers resolved by Splink 5, side by side with OneID.

Splink runs deterministic linkage (its blocking rules are the rules: two records match when they
share a unionid, an openid, an external_userid, a clean mobile or a valid ID number) on the DuckDB
backend, then its SQL connected components. It gets exactly OneID's inputs: one row per source
record with the identifiers that record carries, unclean mobiles (placeholder, staff, shared)
already removed, so the comparison isolates the clustering. What Splink has no notion of is rule 4
(no OneID with two ID numbers) and stable ids; the precision column shows what the guard is worth.

    from tests.bench.splink_compare import compare_with_splink
    result = compare_with_splink(Path("data/warehouse.duckdb"), truth_dir=Path("data/truth"), key=key)
    print(result.markdown())

or, with the configuration of a workdir (``paths.warehouse``, ``<paths.data>/truth``, ``pii.key``):

    uv run python -m tests.bench.splink_compare [--config aftercare.toml]

The warehouse is attached read-only; both engines write only to an in-memory scratch database.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from assets.identity import sightings
from assets.identity.quality import load_truth, pairwise_counts, quality_report
from assets.identity.resolve import OneidParams, collect_identifiers, resolve

IDENTIFIER_COLUMNS = ["unionid", "oa_openid", "wecom_external_userid", "mobile", "id_number"]


@dataclass
class EngineResult:
    engine: str
    seconds: float
    clusters: int
    precision: float | None = None
    recall: float | None = None


@dataclass
class Comparison:
    records: int
    oneid: EngineResult
    splink: EngineResult

    def markdown(self) -> str:
        def fmt(v):
            return "n/a" if v is None else f"{v:.4f}"

        lines = [
            f"identity stage on {self.records:,} source records",
            "",
            "| engine | seconds | clusters | pairwise precision | pairwise recall |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in (self.oneid, self.splink):
            lines.append(
                f"| {r.engine} | {r.seconds:.1f} | {r.clusters:,} | {fmt(r.precision)} | {fmt(r.recall)} |"
            )
        return "\n".join(lines)


def _scratch_over(
    warehouse: Path, memory_limit: str | None, scratch: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A scratch database whose landing/wechat schemas are views over the read-only warehouse.

    In memory by default; a file (``scratch``) at scale, so DuckDB can spill beyond ``memory_limit``.
    """
    con = duckdb.connect(str(scratch) if scratch else ":memory:")
    if memory_limit:
        con.execute(f"set memory_limit = '{memory_limit}'")
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    for schema in ("landing", "wechat"):
        con.execute(f"create schema if not exists {schema}")
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'wh' and table_schema = "
            "?",
            [schema],
        ).fetchall()
        for (table,) in tables:
            con.execute(f'create view {schema}."{table}" as select * from wh.{schema}."{table}"')
    return con


def build_splink_records(con: duckdb.DuckDBPyConnection, work: str = "temp") -> None:
    """Temp table ``splink_records``: one row per source record with the (clean) identifiers it carries.

    Each identifier is dictionary-encoded first (work table ``splink_codes``: identifier_type,
    identifier_key, code): Splink compares only for equality, so an integer per distinct identifier
    decides exactly what the 64-character HMAC strings would, while the pairwise tables Splink
    materializes stay narrow (with the strings, Splink at L spilled ~50 GB).
    """
    con.execute(
        f"""
        {sightings.work_table(work, "splink_codes")} as
        select identifier_type, identifier_key, row_number() over () as code
        from (select distinct identifier_type, identifier_key from {work}.id_sightings) s
        anti join {work}.id_excluded e using (identifier_type, identifier_key)
        """
    )
    picks = ",\n".join(
        f"  max(c.code) filter (where c.identifier_type = '{t}') as {t}" for t in IDENTIFIER_COLUMNS
    )
    con.execute(
        f"""
        create or replace temp table splink_records as
        select row_number() over () as unique_id,
        {picks}
        from {work}.id_sightings s
        join {work}.splink_codes c using (identifier_type, identifier_key)
        group by s.source, s.record_key
        """
    )


def run_splink(con: duckdb.DuckDBPyConnection, work: str = "temp") -> tuple[float, int]:
    """Deterministic Splink linkage + clustering over temp table ``splink_records``.

    Leaves temp table ``splink_identifier_clusters`` (identifier_type, identifier_key, cluster),
    decoded through work table ``splink_codes``. Returns (seconds, clusters).
    """
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    db_api = DuckDBAPI(con)
    sdf = db_api.register("splink_records")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on(c) for c in IDENTIFIER_COLUMNS],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdf, settings)
    pairs = linker.inference.deterministic_link()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs)
    con.execute(
        f"""
        create or replace temp table splink_record_clusters as
        select unique_id, cluster_id from {clusters.physical_name}
        """
    )
    seconds = time.perf_counter() - started
    unpivot = " union all ".join(
        f"select {t} as code, c.cluster_id from splink_records r "
        f"join splink_record_clusters c using (unique_id) where {t} is not null"
        for t in IDENTIFIER_COLUMNS
    )
    con.execute(
        f"""
        create or replace temp table splink_identifier_clusters as
        select d.identifier_type, d.identifier_key, cast(u.cluster as varchar) as cluster
        from (select code, min(cluster_id) as cluster from ({unpivot}) group by code) u
        join {work}.splink_codes d using (code)
        """
    )
    n = con.execute("select count(distinct cluster) from splink_identifier_clusters").fetchall()[0][0]
    return seconds, n


def oneid_as_resolved(warehouse: Path) -> EngineResult:
    """OneID's result as the identity stage left it in the warehouse (its quality report, if any)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        oneids = con.execute("select count(distinct oneid) from identity.oneid_map").fetchall()[0][0]
        metrics = dict(
            con.execute(
                "select metric, value from identity.quality_report where section = 'pairwise' "
                "and run_at = (select max(run_at) from identity.quality_report)"
            ).fetchall()
        )
    finally:
        con.close()
    result = EngineResult("OneID (guarded CC, stable ids)", float("nan"), oneids)
    result.precision, result.recall = metrics.get("precision"), metrics.get("recall")
    return result


def compare_with_splink(
    warehouse: Path,
    truth_dir: Path | None = None,
    key: bytes | None = None,
    params: OneidParams | None = None,
    memory_limit: str | None = None,
    scratch: Path | None = None,
    run_oneid: bool = True,
) -> Comparison:
    """Run OneID and Splink on the same warehouse; time both; measure both against truth if given.

    ``run_oneid=False``: take OneID's clusters and quality from the identity tables already in the
    warehouse (the bench's identity stage timed it) and run only Splink here.
    """
    params = params or OneidParams()
    con = _scratch_over(Path(warehouse), memory_limit, scratch)
    try:
        has_truth = truth_dir is not None and (Path(truth_dir) / "identifiers.parquet").exists()
        if run_oneid:
            started = time.perf_counter()
            summary = resolve(con, params)
            oneid = EngineResult(
                "OneID (guarded CC, stable ids)", time.perf_counter() - started, summary.oneids
            )
            if has_truth:
                report = quality_report(con, truth_dir, key)
                oneid.precision, oneid.recall = report.precision, report.recall
        else:
            oneid = oneid_as_resolved(Path(warehouse))

        # Splink gets the same records and the same clean identifiers (sources + rule 3)
        started = time.perf_counter()
        # in a scratch file, the per-record tables are its own (compressed) tables, not temp tables
        work = "temp" if scratch is None else con.execute("select current_database()").fetchall()[0][0]
        collect_identifiers(con, params, work)
        build_splink_records(con, work)
        prep = time.perf_counter() - started
        records = con.execute("select count(*) from splink_records").fetchall()[0][0]
        seconds, clusters = run_splink(con, work)
        splink = EngineResult("Splink 5 deterministic (DuckDB)", prep + seconds, clusters)
        if has_truth:
            load_truth(con, truth_dir, key, work)
            con.execute(
                f"""
                create or replace temp table splink_quality as
                select t.identifier_type, t.identifier_key,
                       coalesce(s.cluster,
                       'excluded:' || t.identifier_type || ':' || t.identifier_key) as cluster,
                       t.person_id as person
                from {work}.truth_identifiers t
                left join splink_identifier_clusters s using (identifier_type, identifier_key)
                left join {work}.id_excluded x using (identifier_type, identifier_key)
                where s.cluster is not null or x.identifier_key is not null
                """
            )
            tp, predicted, true = pairwise_counts(con, "splink_quality")
            splink.precision = tp / predicted if predicted else None
            splink.recall = tp / true if true else None
        return Comparison(records=records, oneid=oneid, splink=splink)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    from sources.pii import PiiVault
    from sources.settings import load_settings

    parser = argparse.ArgumentParser(description="OneID and Splink 5 side by side on the warehouse")
    parser.add_argument("--config", default=None, help="aftercare.toml (default: the usual lookup)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory_limit for the scratch database")
    parser.add_argument("--scratch", default=None, help="scratch database file (default: in memory)")
    parser.add_argument(
        "--splink-only", action="store_true", help="OneID as the identity stage left it in the warehouse"
    )
    parser.add_argument("--json", default=None, help="also write the comparison here as JSON")
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    key = settings.pii_key()
    if args.scratch:
        Path(args.scratch).unlink(missing_ok=True)
    result = compare_with_splink(
        Path(settings.paths.warehouse),
        truth_dir=Path(settings.paths.data) / "truth",
        key=key,
        params=OneidParams.from_settings(settings.oneid, PiiVault(key).hash),
        memory_limit=args.memory_limit,
        scratch=Path(args.scratch) if args.scratch else None,
        run_oneid=not args.splink_only,
    )
    if args.scratch:
        Path(args.scratch).unlink(missing_ok=True)
    print(result.markdown())
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(result), indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Comparison", "EngineResult", "compare_with_splink", "load_truth"]
