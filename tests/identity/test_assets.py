"""The identity assets materialize through Dagster on a warehouse file, and join the one lineage graph."""

import dagster as dg

from assets.identity.oneid import (
    identifier_has_one_oneid,
    identity_quality_report,
    oneid_holds_at_most_one_id_number,
    oneid_tables,
)
from assets.resources import AftercareSettings, WarehouseResource
from tests.identity.fixtures import KEY, FixtureWarehouse, id_number, mobile
from tests.identity.test_quality import write_truth


def test_materialize_identity_assets_and_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PII_KEY", KEY.decode())
    (tmp_path / "aftercare.toml").write_text(f'[paths]\ndata = "{tmp_path}"\n')
    warehouse = tmp_path / "warehouse.duckdb"
    wh = FixtureWarehouse(str(warehouse))
    wh.sale("LSVAA000000000001", "2023-01-05", id_number(1), mobile(1))
    wh.binding("o1", "u1", id_number(1), mobile(1), "2023-02-01")
    wh.sale("LSVAA000000000002", "2023-01-05", id_number(2), "13800138000")
    wh.con.close()
    write_truth(
        tmp_path,
        [
            ("id_number", id_number(1), "P1", "personal"),
            ("mobile", mobile(1), "P1", "personal"),
            ("oa_openid", "o1", "P1", "personal"),
            ("id_number", id_number(2), "P2", "personal"),
        ],
    )
    resources = {
        "settings": AftercareSettings(config_file=str(tmp_path / "aftercare.toml")),
        "warehouse": WarehouseResource(database=str(warehouse)),
    }
    result = dg.materialize(
        [oneid_tables, identity_quality_report, oneid_holds_at_most_one_id_number, identifier_has_one_oneid],
        resources=resources,
    )
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"identity/oneid_map", "identity/oneid_changes", "identity/quality_report"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 2 and all(c.passed for c in checks)

    report = tmp_path / "runs" / result.run_id / "identity_quality.md"
    assert "| precision | 1.0000 |" in report.read_text()  # placeholder mobile merged nobody
    wh = FixtureWarehouse.__new__(FixtureWarehouse)
    import duckdb

    wh.con = duckdb.connect(str(warehouse), read_only=True)
    assert wh.oneid_of("oa_openid", "o1") == wh.oneid_of("mobile", mobile(1)) is not None
    wh.con.close()


def test_identity_assets_depend_on_landing_and_wechat_keys():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    key = dg.AssetKey(["identity", "oneid_map"])
    parents = {k.to_user_string() for k in graph.get(key).parent_keys}
    assert {
        "landing/vehicle_sales",
        "landing/wechat_bindings",
        "wechat/oa_followers",
        "landing/staff",
    } <= parents
    assert graph.get(key).group_name == "identity"
    assert dg.AssetKey(["identity", "quality_report"]) in graph.get_all_asset_keys()


def test_identifier_check_counts_identifiers_held_by_two_oneids(tmp_path):
    """The check counts distinct hashes first: the strings still decide, and a duplicate is counted once."""
    import duckdb

    from assets.identity.stability import ensure_tables

    warehouse = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        ensure_tables(con)
        con.execute(  # as resolve publishes it
            "create view identity.oneid_map as select identifier_type, identifier_key, oneid, "
            "first_seen_at, last_seen_at from identity.oneid_registry where active"
        )
        con.execute(
            "insert into identity.oneid_registry values "
            "('mobile', 'm1', 'OID000000000001', null, null, true), "
            "('mobile', 'm1', 'OID000000000002', null, null, true), "  # m1 in two OneIDs
            "('oa_openid', 'm1', 'OID000000000001', null, null, true), "  # same key, other type: fine
            "('mobile', 'm2', 'OID000000000003', null, null, true), "
            "('mobile', 'm2', 'OID000000000004', null, null, false)"  # retired rows are not the map
        )
    result = identifier_has_one_oneid(warehouse=WarehouseResource(database=warehouse))
    assert not result.passed
    assert result.metadata["duplicated_identifiers"].value == 1
    # without the second row of m1, every hash is distinct: passed without grouping the strings
    with duckdb.connect(warehouse) as con:
        con.execute("delete from identity.oneid_registry where oneid = 'OID000000000002'")
    result = identifier_has_one_oneid(warehouse=WarehouseResource(database=warehouse))
    assert result.passed
    assert result.metadata["duplicated_identifiers"].value == 0
