"""The dealer workspace: its lists, its download files, closing and reopening tasks."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import polars as pl

from dashboards.dealer_lists import download_rows, list_file, spec_of, with_full_mobiles
from dashboards.scope import Scope
from sources.decisions import read_decisions
from sources.pii import PiiVault
from tests.dashboards.conftest import sign_in
from tests.dashboards.fixture_serving import MOBILES, MONTH, PII_KEY

VAULT = PiiVault(PII_KEY)
D002 = Scope("dealer_manager", dealer_code="D002")
EAST = Scope("region_manager", region="华东")


def rows_as(scope: Scope, dealer: str) -> pl.DataFrame:
    return download_rows(scope, MONTH, dealer)


def test_a_not_returned_csv_has_chinese_headers_a_bom_and_own_full_mobiles(serving_db):
    built = list_file(rows_as(D002, "D002"), MONTH, spec_of("not_returned"), "D002", "csv", VAULT)
    assert built.data.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(built.data.decode("utf-8-sig"))))
    # 2026-10 tasks of D002 not returned: t002a, t002b (t002c returned, t002d closed by the manager)
    assert [r["任务编号"] for r in table] == ["t002a", "t002b"]
    assert [r["手机号"] for r in table] == [MOBILES["LVSHCAMB1CE000003"], MOBILES["LVSHCAMB1CE000004"]]
    assert table[0]["提醒类型"] == "首保" and table[1]["微信提醒状态"] == "用户拒收"
    assert "手机(掩码)" not in table[0]
    assert (built.rows, built.full_mobiles) == (2, 2)


def test_the_due_xlsx_is_one_chinese_sheet_with_mobiles_as_text(serving_db):
    built = list_file(rows_as(D002, "D002"), MONTH, spec_of("due"), "D002", "xlsx", VAULT)
    sheet = openpyxl.load_workbook(io.BytesIO(built.data))["应提醒"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["任务编号", "车架号", "车型", "提醒类型"] and "手机号" in header
    mobiles = [sheet.cell(r, header.index("手机号") + 1).value for r in range(2, sheet.max_row + 1)]
    assert sorted(mobiles) == sorted(MOBILES[f"LVSHCAMB1CE00000{n}"] for n in (3, 4, 5))
    due = sheet.cell(2, header.index("到期日期") + 1).value
    assert isinstance(due, dt.datetime)  # a real date cell, not text


def test_a_region_managers_files_keep_the_masks(serving_db):
    built = list_file(rows_as(EAST, "D002"), MONTH, spec_of("not_returned"), "D002", "csv", VAULT)
    text = built.data.decode("utf-8-sig")
    assert built.full_mobiles == 0
    assert "139****0003" in text and MOBILES["LVSHCAMB1CE000003"] not in text


def test_no_row_of_another_dealer_is_ever_decrypted():
    token = VAULT.encrypt("13911110001")
    frame = pl.DataFrame(
        {
            "dealer_code": ["D001", "D002"],
            "owner_mobile_enc": [token, token],
            "owner_mobile_masked": ["m1", "m2"],
        }
    )
    shown, full = with_full_mobiles(frame, "D002", VAULT)
    assert shown["owner_mobile"].to_list() == ["m1", "13911110001"] and full == 1
    broken = frame.with_columns(pl.lit("not-a-token").alias("owner_mobile_enc"))
    assert with_full_mobiles(broken, "D002", VAULT)[0]["owner_mobile"].to_list() == ["m1", "m2"]


def workspace(key: str):
    at = sign_in(key)
    assert at.title[0].value == "经销商工作台"  # the managers' home page
    return at


def test_a_dealer_manager_sees_its_lists_counted(serving_db, accounts):
    at = workspace("dealer_manager")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "应提醒 (2026-11)": "3",
        "未提醒 (2026-10)": "2",
        "未跟踪 (2026-10)": "1",
        "未回厂 (2026-10)": "2",
        "已关闭任务": "0",
    }
    due = at.tabs[0].dataframe[0].value
    assert sorted(due["任务编号"]) == ["t002a", "t002b", "t002e"]
    assert set(due["手机(掩码)"]) == {"139****0003", "139****0004", "139****0005"}


def test_a_dealer_manager_closes_and_reopens_a_task(serving_db, accounts):
    at = workspace("dealer_manager")
    # a form sends its values with its submit button
    at.selectbox(key="close_task_id").select("t002b")
    at.selectbox(key="close_reason").select("serviced_elsewhere")
    at.button(key="close_submit").click().run()
    assert not at.exception, at.exception
    decisions = read_decisions(serving_db.parent / "state")
    assert [(d.task_id, d.action, d.reason, d.decided_by, d.dealer_code, d.month) for d in decisions] == [
        ("t002b", "close", "serviced_elsewhere", "li.d002", "D002", "2026-11")
    ]
    closed = at.tabs[4].dataframe[0].value
    assert closed.iloc[0]["关闭原因"] == "已在他处服务" and closed.iloc[0]["状态"] == "下次运行生效"

    at.selectbox(key="reopen_task_id").select("t002b").run()
    at.button(key="reopen_button").click().run()
    assert [d.action for d in read_decisions(serving_db.parent / "state")] == ["close", "reopen"]


def test_a_region_manager_reads_its_dealers_lists_but_decides_nothing(serving_db, accounts):
    at = workspace("region_manager")
    box = at.selectbox(key="workspace_dealer")
    assert box.options == ["D002 上海一店", "D003 杭州一店"]
    box.select("D003").run()
    assert {m.label: m.value for m in at.metric}["应提醒 (2026-11)"] == "1"
    assert "仅经销商经理可关闭或重开本店任务。" in [c.value for c in at.caption]
    assert not [s for s in at.selectbox if s.key == "close_task_id"]
