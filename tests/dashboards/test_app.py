"""The dashboard's pages render real numbers from the serving database (Streamlit AppTest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def test_overview_shows_network_totals_in_chinese(serving_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "网络总览"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["经销商数"] == "3"
    assert metrics["近12个月工单数"] == "240"
    assert "2026-10-31" in at.caption[0].value


def test_region_filter_narrows_the_totals(serving_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox[1].select("华东").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["经销商数"] == "2"
    assert metrics["近12个月工单数"] == "120"


def test_english_is_selectable(serving_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.sidebar.selectbox[0].select("en").run()
    assert at.title[0].value == "Network overview"
    assert "Dealers" in {m.label for m in at.metric}


def test_before_the_first_publish_the_page_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("AFTERCARE_PATHS_SERVING", str(tmp_path / "missing.duckdb"))
    from dashboards import data

    data.serving_path.cache_clear()
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "aftercare run" in at.info[0].value
    data.serving_path.cache_clear()


def test_customer_page_counts_the_base_and_looks_up_by_vin_without_hashes(serving_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("app_pages/customers.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["客户数(OneID)"] == "3"
    assert metrics["活跃(12个月内进厂)"] == "2"
    assert metrics["公众号绑定率"] == "33.3%"
    at.text_input[0].input("lvshcamb1ce000001").run()
    fields = at.dataframe[0].value
    shown = dict(zip(fields["field"], fields["value"], strict=True))
    assert shown["oneid"] == "OID000000000001"
    assert shown["mobile_masked"] == "139****5670"
    assert "mobile_hmac" not in shown and "id_number_hmac" not in shown
    assert at.dataframe[1].value["vin"].tolist() == ["LVSHCAMB1CE000001"]


def test_identity_page_shows_oneids_and_identifiers(serving_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("app_pages/identity.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["OneID 数"] == "2"
    assert metrics["标识数"] == "4"
