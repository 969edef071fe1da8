"""The dashboard signs people in first, then renders real numbers (Streamlit AppTest)."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import APP, sign_in


def test_before_signing_in_there_is_only_the_login_form(serving_db, accounts):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["售后客户数据平台"]
    assert len(at.text_input) == 2 and len(at.metric) == 0 and len(at.dataframe) == 0
    # no page of the app is registered, so none is reachable by its URL path either
    with pytest.raises(ValueError, match="Known pages: \\['登录'\\]"):
        at.switch_page("app_pages/overview.py")


def test_a_wrong_password_is_refused_in_chinese(serving_db, accounts):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="login_name").input("qian.analyst")
    at.text_input(key="login_password").input("not-the-password-1")
    at.button[0].click().run()
    assert at.error[0].value == "用户名或密码错误。"
    assert len(at.metric) == 0


def test_overview_shows_network_totals_in_chinese(serving_db, accounts):
    at = sign_in("analyst")
    assert at.title[0].value == "网络总览"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["经销商数"] == "3"
    assert metrics["近12个月工单数"] == "240"
    assert any("2026-10-31" in c.value for c in at.main.caption)


def test_region_filter_narrows_the_totals(serving_db, accounts):
    at = sign_in("analyst")
    at.sidebar.selectbox[1].select("华东").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["经销商数"] == "2"
    assert metrics["近12个月工单数"] == "120"


def test_english_is_selectable(serving_db, accounts):
    at = sign_in("analyst", language="en")
    assert at.title[0].value == "Network overview"
    assert "Dealers" in {m.label for m in at.metric}


def test_logout_brings_back_the_login_form(serving_db, accounts):
    at = sign_in("analyst")
    at.sidebar.button(key="logout").click().run()
    assert not at.exception
    assert len(at.metric) == 0
    assert at.success[0].value == "已退出登录。"
    assert len(at.text_input) == 2


def test_before_the_first_publish_the_page_says_what_to_do(dashboard_env, accounts):
    at = sign_in("analyst")
    assert "aftercare run" in at.info[0].value


def test_customer_page_counts_the_base_and_looks_up_by_vin_without_hashes(serving_db, accounts):
    at = sign_in("analyst")
    at.switch_page("app_pages/customers.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["客户数(OneID)"] == "7"
    assert metrics["活跃(12个月内进厂)"] == "5"  # VIN 4 lapsed, VIN 5 at risk
    at.text_input[0].input("lvshcamb1ce000001").run()
    fields = at.dataframe[0].value
    shown = dict(zip(fields["字段"], fields["数值"], strict=True))
    assert shown["OneID"] == "OID000000000001"
    assert shown["手机(掩码)"] == "139****0001"
    assert (shown["流失状态"], shown["客户分级"], shown["已绑定公众号"]) == ("活跃", "A 高价值", "是")
    assert not [k for k in shown if "hmac" in k or "_" in k]  # every field by its name, no hash
    assert at.dataframe[1].value["vin"].tolist() == ["LVSHCAMB1CE000001"]
    assert at.dataframe[1].value["lapse_status"].tolist() == ["活跃"]


def test_identity_page_shows_oneids_and_identifiers(serving_db, accounts):
    at = sign_in("analyst")
    at.switch_page("app_pages/identity.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["OneID 数"] == "2"
    assert metrics["标识数"] == "4"
