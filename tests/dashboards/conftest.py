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
    con.execute(
        """
        create table customer_360 as select * from (values
            ('OID000000000001', '张*', '139****5670', 'h1', 'i1', true, 'active', 'A', true),
            ('OID000000000002', '李*', '138****1234', 'h2', null, false, 'lapsed', 'D', false),
            ('OID000000000003', '王*', null, null, 'i3', false, 'at_risk', 'C', true)
        ) t(oneid, name_masked, mobile_masked, mobile_hmac, id_number_hmac, is_wechat_bound,
            lapse_status, value_segment, is_active_12m)
        """
    )
    con.execute(
        """
        create table vehicles as select * from (values
            ('LVSHCAMB1CE000001', 'OID000000000001', 'A6L', date '2023-05-01', 'D001',
             date '2026-09-01', 41000, date '2027-03-01', 'active')
        ) t(vin, current_owner_oneid, model_name, first_invoice_date, servicing_dealer_code,
            last_visit_date, estimated_mileage_km, next_maintenance_due_date, lapse_status)
        """
    )
    con.execute(
        """
        create table oneid_map as select * from (values
            ('mobile', 'h1', 'OID000000000001'), ('id_number', 'i1', 'OID000000000001'),
            ('oa_openid', 'o1', 'OID000000000001'), ('mobile', 'h2', 'OID000000000002')
        ) t(identifier_type, identifier_key, oneid)
        """
    )
    con.execute(
        "create table oneid_changes (run_at timestamp, change varchar, old_oneid varchar, new_oneid varchar)"
    )
    con.close()
    monkeypatch.setenv("AFTERCARE_PATHS_SERVING", str(path))
    from dashboards import data

    data.serving_path.cache_clear()
    yield path
    data.serving_path.cache_clear()
