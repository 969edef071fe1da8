"""End to end on a generated OEM, with the real parts: generate → ingest (Dagster) → WeChat/WeCom sync
from the simulator on loopback (Dagster) → OneID (Dagster) → quality against the generator's truth.
"""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.identity.oneid import (
    identifier_has_one_oneid,
    identity_quality_report,
    oneid_holds_at_most_one_id_number,
    oneid_tables,
)
from assets.resources import AftercareSettings, RunMonth, WarehouseResource, api_resources
from sources.settings import load_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VEHICLES = int(os.environ.get("AFTERCARE_TEST_IDENTITY_VEHICLES", "20000"))  # scale S, 24 months
PII_KEY = "identity-e2e-key-0123456789abcdefghij"


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    work = tmp_path_factory.mktemp("identity_e2e")
    data = work / "data"
    env = {**os.environ, "AFTERCARE_PII_KEY": PII_KEY, "PYTHONPATH": str(ROOT)}
    generated = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "generate", "--out", str(data), "--vehicles", str(VEHICLES),
         "--end", "2026-10"],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    (work / "aftercare.toml").write_text(f'[paths]\ndata = "{data}"\n')
    previous_key = os.environ.get("AFTERCARE_PII_KEY")
    os.environ["AFTERCARE_PII_KEY"] = PII_KEY  # ingestion and OneID read the key from the environment
    from assets.ingestion.assets import landing_tables

    resources = {
        "settings": AftercareSettings(config_file=str(work / "aftercare.toml")),
        "warehouse": WarehouseResource(database=str(data / "warehouse.duckdb")),
        "run_month": RunMonth(month="2026-11"),
    }
    from assets.wechat.wechat_assets import (
        EXTERNAL_CONTACTS,
        FOLLOW_USERS,
        OA_FOLLOWERS,
        callback_events,
        wechat_pulls,
        wecom_activity,
    )
    from pipelines.demo import wechat_simulator

    saved = {k: v for k, v in os.environ.items() if k.startswith("AFTERCARE_WE")}
    try:
        with wechat_simulator(data):  # sets the simulator's address and secrets: the APIs' settings
            apis = api_resources(load_settings(work / "aftercare.toml"))
            ingested = dg.materialize(
                [landing_tables, callback_events, wechat_pulls, wecom_activity],
                selection=dg.AssetSelection.assets(landing_tables, callback_events)
                | dg.AssetSelection.assets(OA_FOLLOWERS, FOLLOW_USERS, EXTERNAL_CONTACTS),
                resources={**resources, **apis},
            )
            assert ingested.success
    finally:
        for k in [k for k in os.environ if k.startswith("AFTERCARE_WE")]:
            os.environ.pop(k)
        os.environ.update(saved)
    checks = [oneid_holds_at_most_one_id_number, identifier_has_one_oneid]
    first = dg.materialize([oneid_tables, identity_quality_report, *checks], resources=resources)
    assert first.success
    second = dg.materialize([oneid_tables, identity_quality_report, *checks], resources=resources)
    assert second.success
    yield data, first, second
    if previous_key is None:
        os.environ.pop("AFTERCARE_PII_KEY", None)
    else:
        os.environ["AFTERCARE_PII_KEY"] = previous_key


def quality(data: Path) -> dict[str, float]:
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return dict(
            con.execute(
                "select metric, value from identity.quality_report where section = 'pairwise'"
            ).fetchall()
        )
    finally:
        con.close()


def test_pairwise_precision_and_recall_on_generated_data(resolved):
    data, first, _ = resolved
    metrics = quality(data)
    print(f"identity quality on {VEHICLES:,} vehicles: {metrics}")
    assert (
        metrics["evaluated_identifiers"] > VEHICLES
    )  # the truth was joined, mobiles and IDs via their HMACs
    assert metrics["precision"] >= 0.995, metrics
    # Plain recall over every true pair, on the default world (dealers following the delivery and
    # service SOPs, spec.SOP_FOLLOWED): issue 5's target.
    assert metrics["recall"] >= 0.98, metrics
    # Over the pairs some record ties together, OneID finds nearly all; what it misses of the plain
    # recall is evidence no record carries (test_evidence_density.py asserts this on a sparse world).
    assert metrics["recall_linkable"] >= 0.995, metrics
    report = (data / "runs" / first.run_id / "identity_quality.md").read_text()
    assert "| precision |" in report


def test_rerun_on_the_same_data_changes_nothing(resolved):
    data, _, _ = resolved
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from identity.oneid_changes").fetchall() == [(0,)]
        assert (
            con.execute("select count(*) from identity.oneid_issued").fetchall()[0][0]
            == con.execute("select count(distinct oneid) from identity.oneid_map").fetchall()[0][0]
        )
    finally:
        con.close()


def test_the_generated_dirt_is_caught(resolved):
    data, first, _ = resolved
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        excluded = dict(
            con.execute("select reason, count(*) from identity.excluded_identifiers group by 1").fetchall()
        )
        # every kind of bad mobile the generator injects is recognized
        assert excluded.get("placeholder_mobile", 0) > 0
        assert excluded.get("staff_mobile", 0) > 0
        assert excluded.get("shared_mobile", 0) > 0
        # resold cars: no OneID holds two ID numbers
        assert con.execute(
            "select count(*) from (select oneid from identity.oneid_map where identifier_type = 'id_number' "
            "group by oneid having count(*) > 1)"
        ).fetchall() == [(0,)]
    finally:
        con.close()
    assert all(check.passed for check in first.get_asset_check_evaluations())
