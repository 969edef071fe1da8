"""Splink 5 on the same records: it runs, it is measured, and rule 4 is what it lacks."""

from tests.bench.splink_compare import compare_with_splink
from tests.identity.fixtures import KEY, FixtureWarehouse, id_number, mobile
from tests.identity.test_quality import write_truth


def test_splink_and_oneid_side_by_side(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    wh = FixtureWarehouse(str(warehouse))
    truth = []
    for n in range(1, 6):
        wh.sale(f"LSVAA0000000{n:05d}", "2023-01-05", id_number(n), mobile(n))
        wh.binding(f"o{n}", f"u{n}", id_number(n), mobile(n), "2023-02-01")
        wh.follower(f"o{n}", f"u{n}")
        truth += [
            ("id_number", id_number(n), f"P{n}", "personal"),
            ("mobile", mobile(n), f"P{n}", "personal"),
            ("oa_openid", f"o{n}", f"P{n}", "personal"),
            ("unionid", f"u{n}", f"P{n}", "personal"),
        ]
    # person 6 is bound on WeChat; a booking typed with person 1's mobile ties o6 to it
    wh.binding("o6", "u6", id_number(6), None, "2023-02-01")
    wh.booking("o6", mobile(1), on="2024-01-01")
    truth += [
        ("id_number", id_number(6), "P6", "personal"),
        ("oa_openid", "o6", "P6", "personal"),
        ("unionid", "u6", "P6", "personal"),
    ]
    wh.con.close()
    result = compare_with_splink(warehouse, write_truth(tmp_path, truth), KEY)

    assert result.records == 5 * 3 + 2
    assert result.oneid.precision == 1.0 and result.oneid.recall == 1.0
    assert result.oneid.clusters == 6
    # Splink follows the weak link and fuses persons 1 and 6 (4 + 3 identifiers: 12 false pairs)
    assert result.splink.clusters == 5
    assert result.splink.recall == 1.0
    assert result.splink.precision == 33 / 45
    assert result.splink.seconds > 0 and result.oneid.seconds > 0
    assert "| Splink 5 deterministic (DuckDB) |" in result.markdown()
