"""The identity quality report: pair counting, truth joining, histogram and rule counts."""

import itertools
import random

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from assets.identity.quality import pairwise_counts, quality_report, write_report
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
    table = pa.table(
        {k: [r[j] for r in rows] for j, k in enumerate(["identifier_type", "value", "person_id", "kind"])}
    )
    pq.write_table(table, truth / "identifiers.parquet")
    return truth


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
