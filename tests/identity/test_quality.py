"""The identity quality report: pair counting, truth joining, histogram and rule counts."""

import itertools
import random

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from assets.identity.quality import pairwise_counts, quality_report, truth_cache_path, write_report
from assets.identity.resolve import OneidParams, resolve
from tests.identity.fixtures import KEY, FixtureWarehouse, id_number, mobile


def test_pair_counts_from_the_contingency_table_equal_brute_force():
    rng = random.Random(7)
    rows = [(i, f"c{rng.randrange(40)}", f"p{rng.randrange(50)}") for i in range(400)]
    con = duckdb.connect()
    con.register(
        "cells",
        pa.table({k: [r[j] for r in rows] for j, k in enumerate(["identifier", "cluster", "person"])}),
    )
    tp, predicted, true = pairwise_counts(con, "cells")
    pairs = list(itertools.combinations(rows, 2))
    assert predicted == sum(a[1] == b[1] for a, b in pairs)
    assert true == sum(a[2] == b[2] for a, b in pairs)
    assert tp == sum(a[1] == b[1] and a[2] == b[2] for a, b in pairs)


def write_truth(tmp_path, rows):
    truth = tmp_path / "truth"
    truth.mkdir()
    write_truth_file(truth, rows)
    return truth


def write_truth_file(truth, rows):
    table = pa.table(
        {k: [r[j] for r in rows] for j, k in enumerate(["identifier_type", "value", "person_id", "kind"])}
    )
    pq.write_table(table, truth / "identifiers.parquet")


def test_quality_against_truth_counts_a_wrong_merge_and_a_missed_link(tmp_path):
    wh = FixtureWarehouse()
    # person P1: id 1, mobile 1, openid o1 — all linked
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), None, "2023-02-01")
    # person P2's openid o2 booked with P1's mobile (data error): OneID wrongly merges o2 into P1
    wh.booking("o2", mobile(1))
    # person P3: id 3 and a follower o3 that nothing links: a missed pair
    wh.sale("LSVAA000000000003", "2023-01-05", id_number(3), None)
    wh.follower("o3", "u3")
    # a placeholder mobile is in the truth, but not personal: left out
    wh.sale("LSVAA000000000004", "2023-01-05", id_number(4), "13800138000")
    resolve(wh.con, OneidParams())
    truth = write_truth(
        tmp_path,
        [
            ("id_number", id_number(1), "P1", "personal"),
            ("mobile", mobile(1), "P1", "personal"),
            ("oa_openid", "o1", "P1", "personal"),
            ("unionid", "u1", "P1", "personal"),
            ("oa_openid", "o2", "P2", "personal"),
            ("id_number", id_number(3), "P3", "personal"),
            ("oa_openid", "o3", "P3", "personal"),
            ("unionid", "u3", "P3", "personal"),
            ("id_number", id_number(4), "P4", "personal"),
            ("mobile", "13800138000", "P4", "placeholder"),
            ("oa_openid", "never_seen", "P5", "personal"),
        ],
    )
    report = quality_report(wh.con, truth, KEY)
    # predicted clusters over evaluated identifiers: {id1, m1, o1, u1, o2}, {id3}, {o3, u3}, {id4}
    assert report.evaluated_identifiers == 9
    assert report.predicted_pairs == 10 + 1
    assert report.true_pairs == 6 + 3  # P1: C(4,2), P3: C(3,2)
    assert report.true_positive_pairs == 6 + 1
    assert report.precision == 7 / 11
    assert report.recall == 7 / 9
    # P3's ID number and follower are tied by no record: of the 9 true pairs only 7 are linkable
    assert report.linkable_pairs == 7 and report.recall_linkable == 1.0
    assert report.cluster_sizes == {"1": 2, "2": 1, "5": 1}
    assert report.rules_fired["sale_owner_mobile"] == 1
    assert report.links_dropped == {"placeholder_mobile": 1}

    md = tmp_path / "runs" / "r1" / "identity_quality.md"
    write_report(wh.con, report, "2026-01-01 00:00:00", md)
    assert "| precision | 0.6364 |" in md.read_text()
    stored = dict(
        wh.con.execute(
            "select metric, value from identity.quality_report where section = 'pairwise'"
        ).fetchall()
    )
    assert stored["recall"] == 7 / 9


def test_without_truth_the_report_still_has_sizes_and_rules():
    wh = FixtureWarehouse()
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    resolve(wh.con, OneidParams())
    report = quality_report(wh.con, None)
    assert report.precision is None and report.recall is None
    assert report.cluster_sizes == {"2": 1}
    assert "No truth available" in report.markdown()


def test_the_keyed_truth_is_cached_until_the_truth_or_the_key_changes(tmp_path):
    wh = FixtureWarehouse()
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.sale("LSVAA000000000002", "2023-01-05", id_number(2), mobile(2))
    resolve(wh.con, OneidParams())
    truth = write_truth(
        tmp_path,
        [
            ("id_number", id_number(1), "P1", "personal"),
            ("mobile", mobile(1), "P1", "personal"),
            ("id_number", id_number(2), "P2", "personal"),
            ("mobile", mobile(2), "P2", "personal"),
        ],
    )
    cache_dir = tmp_path / "state" / "identity_truth"
    uncached = quality_report(wh.con, truth, KEY)
    first = quality_report(wh.con, truth, KEY, truth_cache_dir=cache_dir)
    (cache,) = cache_dir.glob("truth_identifiers-*.parquet")
    assert cache == truth_cache_path(truth / "identifiers.parquet", KEY, cache_dir)
    assert (first.precision, first.recall, first.true_pairs) == (1.0, 1.0, 2)
    assert (first.precision, first.recall, first.true_pairs) == (
        uncached.precision,
        uncached.recall,
        uncached.true_pairs,
    )
    # the cache holds HMACs, never a plaintext number
    cached = duckdb.connect().execute(f"select * from read_parquet('{cache}')").fetchall()
    assert len(cached) == 4 and not any(mobile(1) in row or id_number(1) in row for row in cached)

    # a second run reads the cache: a cache saying P2's mobile is P1's shows up in the report
    duckdb.connect().execute(
        f"copy (select identifier_type, identifier_key, case when person_id = 'P2' and "
        f"identifier_type = 'mobile' then 'P1' else person_id end as person_id "
        f"from read_parquet('{cache}')) to '{tmp_path / 'doctored.parquet'}' (format parquet)"
    )
    (tmp_path / "doctored.parquet").replace(cache)
    assert quality_report(wh.con, truth, KEY, truth_cache_dir=cache_dir).recall < 1.0

    # another key: keyed again, the old cache dropped
    other_key = b"another-key-0123456789abcdefghijklmnopqrstuv"
    quality_report(wh.con, truth, other_key, truth_cache_dir=cache_dir)
    (rekeyed,) = cache_dir.glob("truth_identifiers-*.parquet")
    assert rekeyed != cache
    # a new truth file: keyed again, the report is the truth's again
    write_truth_file(
        truth, [("id_number", id_number(1), "P1", "personal"), ("mobile", mobile(1), "P1", "personal")]
    )
    again = quality_report(wh.con, truth, KEY, truth_cache_dir=cache_dir)
    assert again.recall == 1.0 and again.true_pairs == 1
    assert len(list(cache_dir.glob("truth_identifiers-*"))) == 1


def test_a_folder_named_with_a_quote_holds_the_truth_and_its_cache(tmp_path):
    """The truth and the cache are named in SQL: a quote in a folder's name is escaped, not a syntax error."""
    wh = FixtureWarehouse()
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    resolve(wh.con, OneidParams())
    base = tmp_path / "o'brien's data"
    base.mkdir()
    truth = write_truth(
        base, [("id_number", id_number(1), "P1", "personal"), ("mobile", mobile(1), "P1", "personal")]
    )
    cache_dir = base / "state" / "identity_truth"
    written = quality_report(wh.con, truth, KEY, truth_cache_dir=cache_dir)
    assert len(list(cache_dir.glob("truth_identifiers-*.parquet"))) == 1
    read = quality_report(wh.con, truth, KEY, truth_cache_dir=cache_dir)
    assert (written.recall, written.true_pairs) == (read.recall, read.true_pairs) == (1.0, 1)
