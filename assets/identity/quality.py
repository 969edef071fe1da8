"""Identity quality: pairwise precision/recall against the generator's truth, cluster sizes, rule counts.

Pairwise metrics over identifiers (RULES.md rule 7): a pair of identifiers is predicted when they
share a OneID and true when they belong to one person. Counting pairs one by one would be
quadratic in the cluster sizes, so they come from the contingency table of (OneID, person) counts:

    true positives  = Σ C(n_op, 2)  over (OneID o, person p)
    predicted pairs = Σ C(n_o, 2)   over OneIDs
    true pairs      = Σ C(n_p, 2)   over persons

Only ``personal`` identifiers count: family-shared, placeholder and consultant mobiles belong to
nobody in particular and OneID is right to leave them out. A personal identifier that the sources
show but OneID excluded (e.g. a mobile wrongly judged shared) counts as its own singleton, so it
costs recall; identifiers the sources never show are not evaluated.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from assets.identity.graph import _components
from assets.identity.scratch import DEFAULT_MEMORY_LIMIT, lap_timer, scratch_space
from assets.identity.sightings import work_table
from sources.identifiers import keyed_hash_params, keyed_hash_sql
from sources.sql_text import quote_literal

# the generator's names for identifier types, mapped onto oneid_map's
_TRUTH_TYPES = {
    "unionid": "unionid",
    "oa_openid": "oa_openid",
    "openid": "oa_openid",
    "wecom_external_userid": "wecom_external_userid",
    "external_userid": "wecom_external_userid",
    "mobile": "mobile",
    "id_number": "id_number",
}
SIZE_BUCKETS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, None)]


@dataclass
class QualityReport:
    precision: float | None = None
    recall: float | None = None
    true_positive_pairs: int | None = None
    predicted_pairs: int | None = None
    true_pairs: int | None = None
    evaluated_identifiers: int | None = None
    # pairs some source record ties together (through that person's own identifiers): the most
    # any resolver could find; recall_linkable = found / linkable
    linkable_pairs: int | None = None
    recall_linkable: float | None = None
    cluster_sizes: dict[str, int] = field(default_factory=dict)
    rules_fired: dict[str, int] = field(default_factory=dict)
    links_dropped: dict[str, int] = field(default_factory=dict)
    identifiers_by_type: dict[str, int] = field(default_factory=dict)
    oneids: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # time of each step against truth

    def rows(self) -> list[tuple[str, str, float | None]]:
        """(section, metric, value) rows for ``identity.quality_report``."""
        rows: list[tuple[str, str, float | None]] = [
            ("pairwise", "precision", self.precision),
            ("pairwise", "recall", self.recall),
            ("pairwise", "true_positive_pairs", self.true_positive_pairs),
            ("pairwise", "predicted_pairs", self.predicted_pairs),
            ("pairwise", "true_pairs", self.true_pairs),
            ("pairwise", "evaluated_identifiers", self.evaluated_identifiers),
            ("pairwise", "linkable_pairs", self.linkable_pairs),
            ("pairwise", "recall_linkable", self.recall_linkable),
            ("totals", "oneids", self.oneids),
        ]
        rows += [("cluster_size", k, v) for k, v in self.cluster_sizes.items()]
        rows += [("rule_fired", k, v) for k, v in self.rules_fired.items()]
        rows += [("link_dropped", k, v) for k, v in self.links_dropped.items()]
        rows += [("identifiers", k, v) for k, v in self.identifiers_by_type.items()]
        return rows

    def markdown(self) -> str:
        def fmt(v):
            return "n/a" if v is None else (f"{v:.4f}" if isinstance(v, float) else f"{v:,}")

        lines = ["# Identity quality", ""]
        if self.precision is None and self.true_pairs is None:
            lines += ["No truth available: pairwise precision and recall not computed.", ""]
        else:
            lines += [
                "| pairwise | value |",
                "|---|---:|",
                f"| precision | {fmt(self.precision)} |",
                f"| recall | {fmt(self.recall)} |",
                f"| true positive pairs | {fmt(self.true_positive_pairs)} |",
                f"| predicted pairs | {fmt(self.predicted_pairs)} |",
                f"| true pairs | {fmt(self.true_pairs)} |",
                f"| evaluated identifiers | {fmt(self.evaluated_identifiers)} |",
                f"| linkable pairs | {fmt(self.linkable_pairs)} |",
                f"| recall of linkable pairs | {fmt(self.recall_linkable)} |",
                "",
                "Recall counts every pair of one person's identifiers. Linkable pairs are those some source "
                "record ties together, directly or through that person's other identifiers; the others no "
                "source connects, so no resolver could find them.",
                "",
            ]
        for title, values in (
            ("identifiers per OneID", self.cluster_sizes),
            ("links kept, by rule", self.rules_fired),
            ("links dropped, by reason", self.links_dropped),
            ("identifiers, by type", self.identifiers_by_type),
        ):
            lines += [f"| {title} | count |", "|---|---:|"]
            lines += [f"| {k} | {fmt(v)} |" for k, v in values.items()]
            lines.append("")
        lines.append(f"OneIDs: {self.oneids:,}")
        return "\n".join(lines) + "\n"


def _bucket_sql() -> str:
    cases = []
    for low, high in SIZE_BUCKETS:
        label = str(low) if low == high else (f"{low}-{high}" if high else f"{low}+")
        cond = f"n = {low}" if low == high else (f"n between {low} and {high}" if high else f"n >= {low}")
        cases.append(f"when {cond} then '{label}'")
    return "case " + " ".join(cases) + " end"


def pairwise_counts(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, int, int]:
    """(true positive, predicted, true) pair counts from ``relation``.

    ``relation`` has one row per identifier: its cluster and its person.
    """
    row = con.execute(
        f"""
        with cells as (select cluster, person, count(*) as n from {relation} group by all),
        clusters as (select cluster, sum(n) as n from cells group by all),
        persons as (select person, sum(n) as n from cells group by all)
        select (select coalesce(sum(n * (n - 1) // 2), 0) from cells),
               (select coalesce(sum(n * (n - 1) // 2), 0) from clusters),
               (select coalesce(sum(n * (n - 1) // 2), 0) from persons)
        """
    ).fetchall()[0]
    return int(row[0]), int(row[1]), int(row[2])


def load_truth(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path,
    key: bytes,
    work: str = "temp",
    cache_dir: Path | None = None,
) -> None:
    """Work table ``truth_identifiers`` (identifier_type, identifier_key, person_id): personal, unambiguous.

    Truth mobiles and ID numbers are keyed like landing, by HMAC-SHA256 computed in DuckDB
    (``keyed_hash_sql``, equal to ``keyed_hash``): the truth (~50M rows at L) never passes through
    Python. ``work``: ``temp`` or an attached scratch database.

    ``cache_dir``: keep the keyed table there as Parquet and read it back while the truth file and
    the key are the same. The truth does not change between a bench's or a demo's months, and
    keying it was half of the report's time (~11 s of ~23 at M, docs/benchmarks.md).
    """
    path = Path(truth_dir) / "identifiers.parquet"
    cache = truth_cache_path(path, key, cache_dir) if cache_dir is not None else None
    _drop_work_relation(con, work, "truth_identifiers")  # an earlier report's, table or view (``temp``)
    if cache is not None and cache.exists():
        # a view: the comparison reads it once, in one join
        kind, name = (
            ("temp view", "truth_identifiers") if work == "temp" else ("view", f"{work}.truth_identifiers")
        )
        con.execute(f"create or replace {kind} {name} as select * from read_parquet({quote_literal(cache)})")
        return
    types = " ".join(f"when '{a}' then '{b}'" for a, b in _TRUTH_TYPES.items())
    con.execute(
        f"""
        {work_table(work, "truth_identifiers")} as
        with t as (
            select case identifier_type {types} end as identifier_type, cast(value as varchar) as value,
                   cast(person_id as varchar) as person_id
            from read_parquet({quote_literal(path)})
            where kind = 'personal' and value is not null)
        select identifier_type,
               case when identifier_type in ('mobile', 'id_number') then {keyed_hash_sql("value")}
                    else value end as identifier_key,
               any_value(person_id) as person_id
        from t
        where identifier_type is not null
        group by 1, 2
        having count(distinct person_id) = 1
        """,
        keyed_hash_params(key),
    )
    if cache is not None:
        _write_truth_cache(con, f"{work}.truth_identifiers", cache)


def _drop_work_relation(con: duckdb.DuckDBPyConnection, work: str, name: str) -> None:
    found = con.execute(
        "select table_type from information_schema.tables where table_catalog = ? and table_name = ?",
        [work, name],
    ).fetchall()
    if found:
        con.execute(f"drop {'view' if found[0][0] == 'VIEW' else 'table'} {work}.{name}")


def truth_cache_path(truth_file: Path, key: bytes, cache_dir: Path) -> Path:
    """The keyed truth's cache file: named by the truth file (path, size, modification time) and
    the key (an HMAC of a constant, never the key), so a new truth or a new key is keyed again."""
    stat = truth_file.stat()
    key_mark = hmac.digest(key, b"aftercare identity truth cache", "sha256").hex()
    fingerprint = hashlib.sha256(
        f"{truth_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{key_mark}".encode()
    ).hexdigest()[:24]
    return Path(cache_dir) / f"truth_identifiers-{fingerprint}.parquet"


def _write_truth_cache(con: duckdb.DuckDBPyConnection, table: str, cache: Path) -> None:
    """Write the cache whole or not at all (a crash leaves a ``.tmp``, never a half file that would
    be read), and drop the caches of an older truth or key."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp")
    con.execute(f"copy (select * from {table}) to {quote_literal(partial)} (format parquet)")
    partial.replace(cache)
    for old in cache.parent.glob("truth_identifiers-*"):
        if old != cache:
            old.unlink(missing_ok=True)


def quality_report(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path | None = None,
    key: bytes | None = None,
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
    truth_cache_dir: Path | None = None,
) -> QualityReport:
    """Measure ``identity.oneid_map`` (and against truth when ``truth_dir`` holds identifiers.parquet).

    The comparison with truth works in its own scratch database under ``memory_limit``, like OneID;
    ``truth_cache_dir`` keeps the keyed truth between runs (``load_truth``).
    """
    report = QualityReport()
    report.oneids = con.execute("select count(distinct oneid) from identity.oneid_map").fetchall()[0][0]
    report.cluster_sizes = dict(
        con.execute(
            f"""
            select {_bucket_sql()} as bucket, count(*) from (
                select oneid, count(*) as n from identity.oneid_map group by oneid)
            group by bucket order by min(n)
            """
        ).fetchall()
    )
    report.rules_fired = dict(
        con.execute("select rule, count(*) from identity.oneid_links group by rule order by rule").fetchall()
    )
    report.links_dropped = dict(
        con.execute(
            "select reason, count(*) from identity.dropped_links group by reason order by reason"
        ).fetchall()
    )
    report.identifiers_by_type = dict(
        con.execute(
            "select identifier_type, count(*) from identity.oneid_map group by 1 order by 1"
        ).fetchall()
    )
    if truth_dir is None or not (Path(truth_dir) / "identifiers.parquet").exists():
        return report
    if key is None:
        raise ValueError("the pii key is needed to join truth mobiles and ID numbers to their HMACs")
    with scratch_space(con, "quality_work", memory_limit) as work:
        _compare_with_truth(con, Path(truth_dir), key, work, report, truth_cache_dir)
    return report


def _compare_with_truth(
    con: duckdb.DuckDBPyConnection,
    truth_dir: Path,
    key: bytes,
    work: str,
    report: QualityReport,
    truth_cache_dir: Path | None = None,
) -> None:
    lap = lap_timer(report.seconds)

    load_truth(con, truth_dir, key, work, truth_cache_dir)
    lap("load_truth")
    excluded = (
        "select identifier_type, identifier_key from identity.excluded_identifiers"
        if con.execute(
            "select count(*) from information_schema.tables where table_schema = 'identity' "
            "and table_name = 'excluded_identifiers'"
        ).fetchall()[0][0]
        else "select null::varchar as identifier_type, null::varchar as identifier_key where false"
    )
    con.execute(
        f"""
        {work_table(work, "quality_pairs")} as
        select t.identifier_type, t.identifier_key,
               coalesce(m.oneid, 'excluded:' || t.identifier_type || ':' || t.identifier_key) as cluster,
               t.person_id as person
        from {work}.truth_identifiers t
        left join identity.oneid_map m using (identifier_type, identifier_key)
        left join ({excluded}) x using (identifier_type, identifier_key)
        where m.oneid is not null or x.identifier_key is not null
        """
    )
    tp, predicted, true = pairwise_counts(con, f"{work}.quality_pairs")
    report.true_positive_pairs, report.predicted_pairs, report.true_pairs = tp, predicted, true
    report.precision = tp / predicted if predicted else None
    report.recall = tp / true if true else None
    report.evaluated_identifiers = con.execute(f"select count(*) from {work}.quality_pairs").fetchall()[0][0]
    lap("pairwise")
    found, linkable = linkable_pair_counts(con, work)
    report.linkable_pairs = linkable
    report.recall_linkable = found / linkable if linkable else None
    lap("linkable")


def linkable_pair_counts(con: duckdb.DuckDBPyConnection, work: str = "temp") -> tuple[int, int]:
    """(linkable pairs predicted together, linkable pairs) over work table ``quality_pairs``.

    Evidence components: connected components of the evaluated identifiers over every link a
    source asserted (kept or dropped) between two identifiers of the same person. The ~70M links
    of L scale are matched to identifiers by a 64-bit hash of (type, key) rather than by the strings
    (small hash tables, no spill); by strings when two evaluated identifiers share a hash. A link
    end that is not evaluated could still share a hash with one that is (odds ~1e-5 per run at L):
    at worst one extra evidence edge in a measurement, accepted for the speed.
    """
    con.execute(
        f"{work_table(work, 'quality_nodes')} as "
        "select (row_number() over () - 1)::integer as i, hash(identifier_type, identifier_key) as h, "
        f"identifier_type, identifier_key, cluster, person from {work}.quality_pairs"
    )
    n, distinct_hashes = con.execute(
        f"select count(*), count(distinct h) from {work}.quality_nodes"
    ).fetchall()[0]
    if n == distinct_hashes:
        nodes = f"(select i, h, person from {work}.quality_nodes)"
        match_left, match_right = (
            "l.h = hash(e.left_type, e.left_key)",
            "r.h = hash(e.right_type, e.right_key)",
        )
    else:
        nodes = f"{work}.quality_nodes"
        match_left = "l.identifier_type = e.left_type and l.identifier_key = e.left_key"
        match_right = "r.identifier_type = e.right_type and r.identifier_key = e.right_key"
    links = """
        select left_type, left_key, right_type, right_key from identity.oneid_links
        union all
        select left_type, left_key, right_type, right_key from identity.dropped_links
    """
    edges = con.execute(
        f"""
        select l.i as a, r.i as b from ({links}) e
        join {nodes} l on {match_left}
        join {nodes} r on {match_right}
        where l.person = r.person
        """
    ).fetchnumpy()
    labels = _components(n, edges["a"], edges["b"])
    del edges
    con.register("evidence_arrow", pa.table({"i": np.arange(n, dtype=np.int32), "evidence": labels}))
    found, linkable = con.execute(
        f"""
        with nodes as (
            select q.person, e.evidence, q.cluster
            from {work}.quality_nodes q join evidence_arrow e using (i)),
        linked as (select person, evidence, count(*) as n from nodes group by all),
        found as (select person, evidence, cluster, count(*) as n from nodes group by all)
        select (select coalesce(sum(n * (n - 1) // 2), 0) from found),
               (select coalesce(sum(n * (n - 1) // 2), 0) from linked)
        """
    ).fetchall()[0]
    con.unregister("evidence_arrow")
    return int(found), int(linkable)


def write_report(
    con: duckdb.DuckDBPyConnection, report: QualityReport, run_at, markdown_path: Path | None
) -> None:
    con.execute("create schema if not exists identity")
    con.execute(
        "create or replace table identity.quality_report "
        "(run_at timestamp, section varchar, metric varchar, value double)"
    )
    con.executemany(
        "insert into identity.quality_report values (?, ?, ?, ?)",
        [(run_at, s, m, None if v is None else float(v)) for s, m, v in report.rows()],
    )
    if markdown_path is not None:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(report.markdown())
