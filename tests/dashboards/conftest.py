import duckdb
import pytest


@pytest.fixture()
def serving_db(tmp_path, monkeypatch):
    """A small published database shaped like the real one."""
    path = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        """
        create table dealers as select * from (values
            ('D001', '北京一店', '华北', '北京', '北京', 'active', 120, 80, 150000.0),
            ('D002', '上海一店', '华东', '上海', '上海', 'active', 90, 60, 99000.0),
            ('D003', '杭州一店', '华东', '浙江', '杭州', 'active', 30, 25, 41000.0)
        ) t(dealer_code, dealer_name, region, province, city, dealer_status,
            repair_orders_12m, vehicles_serviced_12m, revenue_12m)
        """
    )
    con.execute(
        "create table publish_log as select 'r1' as run_id, '2026-11' as month, "
        "'2026-10-31' as as_of_date, '2026-10-31T20:00:00' as published_at"
    )
    con.execute(
        "create table quarantine as select 'csc' as source, 'repair_orders' as table_name, "
        "'csc/repair_orders_2026-10-31.csv' as file, 7 as row_number, 'opened_at' as \"column\", "
        "'impossible date' as reason"
    )
    con.close()
    monkeypatch.setenv("AFTERCARE_PATHS_SERVING", str(path))
    from dashboards import data

    data.serving_path.cache_clear()
    yield path
    data.serving_path.cache_clear()
