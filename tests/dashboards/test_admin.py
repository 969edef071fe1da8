"""The admin page: accounts, audit log, runs with their quality gate, quarantine files per dealer."""

from __future__ import annotations

import io
import json

import openpyxl
import polars as pl

from dashboards import data
from dashboards.audit import Download, record_download
from dashboards.quarantine import ROWS_SQL, quarantine_csv, quarantine_xlsx
from dashboards.scope import Scope
from dashboards.server import data_docs_file
from dashboards.store import connect
from tests.dashboards.conftest import ACCOUNTS, sign_in


def write_run(runs, run_id: str, passed: bool, failed: int = 0) -> None:
    folder = runs / run_id
    (folder / "data_docs").mkdir(parents=True)
    (folder / "data_docs" / "index.html").write_text("<html>docs</html>")
    checks = [{"name": "keys_unique", "table": "bookings", "passed": True, "detail": "ok"}] * 3
    checks += [{"name": "no_plaintext_pii", "table": "*", "passed": False, "detail": "2 mobiles"}] * failed
    (folder / "quality_gate.json").write_text(json.dumps({"passed": passed, "checks": checks}))


def admin_page(at):
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception, at.exception
    return at


def test_only_admins_get_the_admin_page(serving_db, accounts):
    for key in ("analyst", "region_manager", "dealer_manager"):
        at = sign_in(key)
        try:
            at.switch_page("app_pages/admin.py")
        except ValueError:
            continue
        raise AssertionError(f"{key} was offered the admin page")


def test_accounts_are_listed_with_role_scope_and_status(serving_db, accounts):
    at = admin_page(sign_in("admin"))
    users = at.tabs[0].dataframe[0].value
    assert sorted(users["用户名"]) == sorted(a[0] for a in ACCOUNTS.values())
    row = users[users["用户名"] == "li.d002"].iloc[0]
    assert (row["角色"], row["经销商代码"], row["状态"]) == ("经销商经理", "D002", "正常")


def test_an_admin_disables_an_account(serving_db, accounts):
    at = admin_page(sign_in("admin"))
    at.selectbox(key="admin_target").select("qian.analyst").run()
    at.button(key="admin_disable").click().run()
    users = at.tabs[0].dataframe[0].value
    assert users[users["用户名"] == "qian.analyst"].iloc[0]["状态"] == "已停用"


def test_the_audit_log_shows_downloads_and_checks_its_chain(serving_db, accounts):
    con = connect(serving_db.parent / "state")
    record_download(con, Download("li.d002", "dealer_manager", "D002", "2026-10", "not_returned", "csv",
                                  "x.csv", 2, 2, "ab" * 32))  # fmt: skip
    con.close()
    at = admin_page(sign_in("admin"))
    audit = at.tabs[1]
    assert "哈希链校验通过" in audit.success[0].value
    lines = audit.dataframe[0].value
    assert lines.iloc[0]["list_name"] == "未回厂" and lines.iloc[0]["full_mobiles"] == 2
    # the sign-in of this very session is in the sign-in log
    assert "zhao.admin" in set(audit.dataframe[1].value["用户名"])


def test_runs_show_their_gate_and_link_their_data_docs(serving_db, accounts):
    runs = serving_db.parent / "runs"
    write_run(runs, "run-ok", passed=True)
    write_run(runs, "run-bad", passed=False, failed=1)
    at = admin_page(sign_in("admin"))
    titles = [e.label for e in at.tabs[2].expander]
    assert any("质量检查未通过 · run-bad" in title for title in titles)
    assert any("质量检查通过 · run-ok" in title for title in titles)
    # the Data Docs are served from the run's folder only
    assert (
        data_docs_file(runs, "run-ok", "index.html")
        == (runs / "run-ok" / "data_docs" / "index.html").resolve()
    )
    assert data_docs_file(runs, "run-ok", "../quality_gate.json") is None
    assert data_docs_file(runs, "..", "runs/run-ok/data_docs/index.html") is None


def test_quarantine_files_per_dealer_are_masked_and_chinese(serving_db, accounts):
    rows = data.read(ROWS_SQL, ("D002",), scope=Scope("admin"))
    assert rows.height == 1
    csv = quarantine_csv(rows)
    text = csv.data.decode("utf-8")
    assert text.startswith("\ufeff数据表,文件,行号,问题字段,原因,原始数据")
    assert "维修工单" in text and "日期无效或无法识别" in text
    assert "hmac:" not in text and "已脱敏" in text
    book = openpyxl.load_workbook(io.BytesIO(quarantine_xlsx(rows, "D002").data))
    sheet = book["维修工单"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["数据表", "文件", "行号", "问题字段", "原因"] and "sender_mobile" in header
    assert sheet.cell(2, header.index("sender_mobile") + 1).value == "已脱敏"
    assert sheet.cell(2, 3).value == 7


def test_the_quarantine_tab_lists_dealers_with_rejected_rows(serving_db, accounts):
    at = admin_page(sign_in("admin"))
    box = at.selectbox(key="quarantine_dealer")
    assert box.options == ["D001 北京一店 (1)", "D002 上海一店 (1)"]
    box.select("D002").run()
    summary = at.tabs[3].dataframe[0].value
    assert pl.from_pandas(summary).rows() == [("维修工单", "日期无效或无法识别: opened_at", 1)]
