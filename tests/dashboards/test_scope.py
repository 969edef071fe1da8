"""The data layer's scope: what each role can read of the published database, whatever it asks."""

from __future__ import annotations

import pytest

from dashboards import data
from dashboards.scope import OTHER_DEALER, Scope
from tests.dashboards.fixture_serving import DEALERS, OWNERS, mask

ANALYST = Scope("analyst")
D001 = Scope("dealer_manager", dealer_code="D001")
D002 = Scope("dealer_manager", dealer_code="D002")
EAST = Scope("region_manager", region="华东")


def visible_tables(scope: Scope) -> list[str]:
    frame = data.read(
        "select table_name from information_schema.tables where table_catalog = 'memory'", scope=scope
    )
    return sorted(frame.to_series().to_list())


def everything_as_text(scope: Scope) -> str:
    """Every value of every table the scope can read, as one string."""
    parts = []
    for table in visible_tables(scope):
        frame = data.read(f'select * from "{table}"', scope=scope)
        parts.append(" ".join(frame.columns))
        parts.extend(str(value) for row in frame.iter_rows() for value in row)
    return "\n".join(parts)


def traces_of(dealer: str) -> list[str]:
    """Strings that would betray a dealer: its code, name, its customers' VINs and mobiles."""
    name = next(d[1] for d in DEALERS if d[0] == dealer)
    owners = [o for o in OWNERS if o[2] == dealer]
    return [dealer, name] + [o[1] for o in owners] + [mask(o[3]) for o in owners] + [o[3] for o in owners]


KPI_TABLES = ["alerts", "kpi_bookings_monthly", "kpi_campaigns", "kpi_communication_monthly",
              "kpi_complaints_monthly", "kpi_customers_monthly", "kpi_dealer_scorecard",
              "kpi_reminders_monthly", "kpi_rescues_monthly", "kpi_staff_rankings"]  # fmt: skip


def test_network_roles_read_every_table(serving_db):
    assert visible_tables(ANALYST) == sorted(
        ["customer_360", "dealers", "file_manifest", "oneid_changes", "oneid_cluster_sizes",
         "oneid_identifier_types", "oneid_map", "publish_log", "quarantine", "reminders", "vehicles",
         *KPI_TABLES]
    )  # fmt: skip


def test_managers_read_only_tables_with_a_scope_rule(serving_db):
    assert visible_tables(D001) == sorted(
        ["customer_360", "dealers", "publish_log", "reminders", "vehicles", *KPI_TABLES]
    )
    assert visible_tables(EAST) == visible_tables(D001)


def test_kpi_rows_of_a_manager_are_the_nation_its_region_and_its_dealers(serving_db):
    sql = "select distinct level, level_key from kpi_reminders_monthly order by 1, 2"
    assert data.read(sql, scope=D002).rows() == [("dealer", "D002"), ("nation", "nation"), ("region", "华东")]
    assert data.read(sql, scope=EAST).rows() == [
        ("dealer", "D002"), ("dealer", "D003"), ("nation", "nation"), ("region", "华东"),
    ]  # fmt: skip
    consultants = "select level_key from kpi_communication_monthly where level = 'consultant' group by 1"
    assert data.read(consultants, scope=D002).rows() == [("wc0002",)]
    # another dealer's own campaign is not in any row, not even the nation's
    campaigns = "select distinct campaign_code from kpi_campaigns order by 1"
    assert data.read(campaigns, scope=D001).to_series().to_list() == [
        "DCD0010001",
        "NC202605001",
        "NC202609002",
    ]
    alerts = "select alert_code from alerts order by 1"
    assert data.read(alerts, scope=D002).to_series().to_list() == ["lapse_spike", "return_rate_drop"]


def test_a_dealer_manager_of_d001_finds_no_trace_of_d002(serving_db):
    seen = everything_as_text(D001)
    for trace in traces_of("D002") + traces_of("D003"):
        assert trace not in seen, trace
    # and does find its own
    for trace in traces_of("D001")[:4]:
        assert trace in seen, trace


def test_a_region_manager_reads_its_dealers_only(serving_db):
    seen = everything_as_text(EAST)
    for trace in traces_of("D001"):
        assert trace not in seen, trace
    assert data.read(
        "select distinct dealer_code from reminders order by 1", scope=EAST
    ).to_series().to_list() == [
        "D002",
        "D003",
    ]


def test_other_dealers_are_named_other_dealer(serving_db):
    # OID..03 services at D002 but bought at D001
    row = data.read("select selling_dealer_code, servicing_dealer_code from customer_360 where oneid = ?",
                    ("OID000000000003",), scope=D002).row(0)  # fmt: skip
    assert row == (OTHER_DEALER, "D002")
    assert (
        data.read(
            "select selling_dealer_code from customer_360 where oneid = ?",
            ("OID000000000003",),
            scope=ANALYST,
        ).item()
        == "D001"
    )


def test_hashes_and_ciphertext_are_never_read(serving_db):
    for scope in (ANALYST, D001, EAST):
        for table in visible_tables(scope):
            columns = data.read(f'select * from "{table}" limit 0', scope=scope).columns
            assert not [c for c in columns if c.endswith(("_hmac", "_enc"))], (scope, table)


def test_ciphertext_for_a_download_only_on_the_dealers_own_rows(serving_db):
    rows = data.read("select dealer_code, owner_mobile_enc from reminders", scope=D002, reveal_mobiles=True)
    assert set(rows["dealer_code"]) == {"D002"} and rows["owner_mobile_enc"].null_count() == 0
    # a region manager and an analyst never get ciphertext, even asking for a download
    for scope in (EAST, ANALYST):
        columns = data.read("select * from reminders limit 0", scope=scope, reveal_mobiles=True).columns
        assert "owner_mobile_enc" not in columns


@pytest.mark.parametrize(
    "sql",
    [
        "select * from published.main.reminders",
        "select 1; select 2",
        "set variable x = 1",
        "create view v as select 1",
        "attach '/tmp/other.duckdb' as other",
        "copy reminders to '/tmp/out.csv'",
    ],
)
def test_only_one_select_over_the_views_runs(serving_db, sql):
    with pytest.raises(data.UnsafeQuery):
        data.read(sql, scope=D001)


def test_no_file_can_be_read_through_a_query(serving_db, tmp_path):
    secret = tmp_path / "other.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(Exception, match="disabled by configuration"):
        data.read(f"select * from read_csv('{secret}')", scope=D001)


def test_pages_cannot_query_without_a_signed_in_account(serving_db):
    with pytest.raises(data.NotSignedIn):
        data.query("select count(*) from reminders")


def test_a_new_publish_is_read_at_the_next_query(serving_db):
    import os

    import duckdb

    assert data.read("select count(*) from dealers", scope=D001).item() == 1
    assert data.read("select count(*) from dealers", scope=ANALYST).item() == 3
    candidate = serving_db.with_name("serving.duckdb.next")
    con = duckdb.connect(str(candidate))
    con.execute("create table dealers as select 'D001' as dealer_code, '华北' as region union all "
                "select 'D009', '华北'")  # fmt: skip
    con.close()
    os.replace(candidate, serving_db)  # the publish step's atomic swap
    assert data.read("select count(*) from dealers", scope=ANALYST).item() == 2
    assert data.read("select dealer_code from dealers", scope=D001).to_series().to_list() == ["D001"]
    assert visible_tables(D001) == ["dealers"]
