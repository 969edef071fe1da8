"""A torture inbox: every physical form and dirty value ``SOURCES.md`` promises to accept.

``build_torture_inbox(inbox)`` writes the files and returns what each should come to (outcome and
rows), so tests compare against numbers written down here, not against what ingestion computed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

from sources.identifiers import id_check_char

# VINs with a correct check digit (the ISO 3779 textbook examples) and one with a wrong one
VIN_OK = "1M8GDM9AXKP042788"
VIN_OK2 = "1HGCM82633A004352"
VIN_BAD_CHECK = "LSVAU2180N2183294"


def id18(body17: str) -> str:
    return body17 + id_check_char(body17)


ID_VALID = id18("11010519491231002")  # ends in X
ID_VALID2 = id18("44030619850615123")
ID_BAD = ID_VALID2[:17] + ("0" if ID_VALID2[17] != "0" else "1")
ID15 = "110105491231002"  # 1989 form of a 1949 birth


@dataclass
class Expected:
    action: str  # ingested / failed / deferred
    rows_read: int = 0
    rows_quarantined: int = 0
    error_contains: str = ""


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _xlsx(path: Path, rows: list[list], title_rows: int = 0) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("导出")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r in range(title_rows):
        sheet.write(r, 0, f"客户投诉导出 第{r + 1}行标题")
    for r, row in enumerate(rows, start=title_rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date_format)
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()


def build_torture_inbox(inbox: Path) -> dict[str, Expected]:
    for system in ("dms", "csc", "master"):
        (inbox / system).mkdir(parents=True, exist_ok=True)
    expected: dict[str, Expected] = {}

    # master/dealers.csv: plain UTF-8, English headers, a stray unknown column
    (inbox / "master/dealers.csv").write_text(
        _csv([
            ["dealer_code", "name", "region", "province", "city", "status", "opened_year"],
            ["D001", "北京一店", "华北", "北京", "北京", "营业", "2010"],
            ["D002", "上海二店", "华东", "上海", "上海", "营业", "2012"],
            ["Ｄ００３", "广州三店", "华南", "广东", "广州", "营业", "2015"],  # full-width code
        ]),
        encoding="utf-8",
    )  # fmt: skip
    expected["master/dealers.csv"] = Expected("ingested", 3, 0)

    # master/staff.xlsx: xlsx, one title row, Chinese headers, a mobile stored as a number
    _xlsx(
        inbox / "master/staff.xlsx",
        [
            ["员工编号", "经销商代码", "姓名", "岗位", "手机号码", "企业微信账号"],
            ["S001", "D001", "王小明", "服务顾问", 13912345678, "wangxm"],
            ["S002", "D002", "李华", "DCRC专员", "+86 139-2345-6789", "lihua"],
            ["S003", "D009", "赵强", "销售顾问", "13934567890", "zhaoq"],  # unknown dealer
        ],
        title_rows=1,
    )
    expected["master/staff.xlsx"] = Expected("ingested", 3, 1)

    # dms/vehicle_sales: GBK (Excel on Chinese Windows), two title rows, Chinese headers, every dirt
    sales = [
        ["车辆销售开票明细"],
        ["导出日期：2026年9月30日"],
        [" 车架号 ", "经销商代码", "车型代码", "车型名称", "开票日期", "上牌日期", "使用性质", "座位数",
         "车主姓名", "证件号码", "手机号码", "销售顾问", "备注"],
        [VIN_OK, "D001", "M1", "轩逸", "2026-09-03", "2026/9/10", "非营运", "5", "张三", ID_VALID.lower(),
         "+86 138-0013-8001", "S010", "老客户 13800138009"],
        [VIN_OK2.lower(), "D002", "M2", "天籁", "2026/9/3", "20260912", "非营运", "５", "欧阳娜娜", ID15,
         "１３９ ００１３ ９００２", "S011", ""],
        [VIN_BAD_CHECK, "D001", "M1", "轩逸", "20260904", "", "营运", "7", "李四", ID_BAD, "13700137003",
         "S010", ""],  # ID fails checksum but a mobile exists: kept, flagged
        ["LFV2A21K5G3000004", "D001", "M1", "轩逸", "2026年9月5日", "", "非营运", "5", "王五", ID_BAD, "",
         "S010", ""],  # ID fails checksum and is the only identity: quarantined
        ["LFV2A21K5G3000005", "D002", "M2", "天籁", "2026-02-30", "", "非营运", "5", "赵六", ID_VALID2, "",
         "S011", ""],  # impossible date
        # no VIN
        ["", "D002", "M2", "天籁", "2026-09-06", "", "非营运", "5", "钱七", "", "13600136006", "S011", ""],
        ["LFV2A21K5G3000007", "D404", "M2", "天籁", "46271", "", "非营运", "5", "孙八", "", "13500135007",
         "S011", ""],  # unknown dealer (date as an Excel serial)
        ["LFV2A21K5G3000008", "D003", "M3", "楼兰", "2026-09-07 14:05:00", "", "非营运", "五", "周九", "",
         "13400134008", "S012", ""],  # seats not a number
    ]  # fmt: skip
    (inbox / "dms/vehicle_sales_2026-09-30.csv").write_bytes(_csv(sales).encode("gbk"))
    expected["dms/vehicle_sales_2026-09-30.csv"] = Expected("ingested", 8, 5)

    # csc/repair_orders: UTF-8 with BOM, tab-separated, English headers with spaces and full-width letters
    orders = [
        ["ro_no", " dealer_code ", "ｖｉｎ", "opened_at", "closed_at", "mileage_km", "service_type",
         "labor_amount", "parts_amount", "total_amount", "next_maintenance_date", "sender_name",
         "sender_mobile", "campaign_code", "workshop_bay"],
        ["RO001", "D001", VIN_OK, "2026-10-03 09:00:00", "2026-10-03 17:30:00", "12,345", "定期保养",
         "¥1,200.00", "￥350.5", "1,550.50", "2027/4/3", "张三", "138 0013 8001", "", "A1"],
        ["RO002", "D002", VIN_OK2, "46298.375", "46298.75", "8000 km", "首保", "0", "0", "0", "46480",
         "欧阳娜娜", "00861390013900２", "", "B2"],
        ["RO003", "D001", VIN_BAD_CHECK, "2026/10/5 8:05", "", "", "一般维修", "abc", "", "", "", "李四",
         "123", "", ""],  # unreadable amount
        ["RO004", "D002", "LSVAU2180N218329I", "2026-10-06", "", "", "一般维修", "", "", "", "", "", "", "",
         ""],  # malformed VIN (I)
        ["", "D001", VIN_OK, "2026-10-07", "", "", "一般维修", "", "", "", "", "", "", "", ""],  # missing key
        ["RO006", "D001", VIN_OK, "2026-13-01", "", "", "一般维修", "", "", "", "", "", "", "", ""],
        # negative km
        ["RO007", "D003", VIN_OK2, "２０２６年１０月８日", "", "-5", "索赔", "", "", "", "", "", "", "", ""],
        ["RO008", "D003", VIN_OK2, "20261009", "", "", "召回", "", "", "", "", "", "", "", ""],
    ]  # fmt: skip
    (inbox / "csc/repair_orders_2026-10-31.csv").write_bytes(
        b"\xef\xbb\xbf" + _csv(orders, delimiter="\t").encode("utf-8")
    )
    expected["csc/repair_orders_2026-10-31.csv"] = Expected("ingested", 8, 5)

    # dms/bookings: GB18030 with a character outside GBK, booleans in every spelling
    bookings = [
        ["预约单号", "预约渠道", "OpenID", "联系电话", "车架号", "经销商代码", "创建时间", "预约日期",
         "预约项目", "预约状态", "需电话反馈", "电话反馈时间", "反馈结果"],
        ["B001", "微信", "oA1", "13800138001", VIN_OK, "D001", "2026-10-01 10:00", "2026-10-05", "保养",
         "已确认", "是", "2026-10-02 09:00", "已联系"],
        ["B002", "电话", "", "13800138000", VIN_OK2, "D002", "2026-10-02", "2026-10-06", "维修", "待确认",
         "N", "", "𠀾客户"],  # placeholder mobile; a CJK Extension B character only GB18030 encodes
        ["B003", "APP", "", "", "", "D001", "", "2026-10-07", "年检", "已取消", "1", "", ""],
        ["B004", "到店", "", "", "", "D001", "", "2026-10-08", "其他", "已确认", "true", "", ""],
        ["B005", "到店", "", "", "", "D001", "", "2026-10-09", "其他", "已确认", "False", "", ""],
        ["B006", "到店", "", "", "", "D002", "", "", "其他", "已确认", "Y", "", ""],  # missing scheduled_date
        # bad boolean
        ["B007", "到店", "", "", "", "D002", "", "2026-10-10", "其他", "已确认", "maybe", "", ""],
    ]  # fmt: skip
    (inbox / "dms/bookings_2026-10-31.csv").write_bytes(_csv(bookings).encode("gb18030"))
    expected["dms/bookings_2026-10-31.csv"] = Expected("ingested", 7, 2)

    # dms/wechat_bindings: a bad-checksum ID beside an openid is kept and flagged
    (inbox / "dms/wechat_bindings_2026-10-31.csv").write_text(
        _csv([
            ["binding_id", "openid", "unionid", "vin_last8", "id_number", "mobile", "bound_at", "status"],
            ["WB1", "oA1", "uA1", VIN_OK[-8:], ID_BAD, "13800138001", "2026-10-01 08:00:00", "有效"],
            ["WB2", "oA2", "", VIN_OK2[-8:], ID_VALID2, "13900139002", "2026-10-02", "解绑"],
            ["WB3", "oA3", "", "", "", "", "2026-10-03", "未知"],  # status outside the contract's domain
        ]),
        encoding="utf-8",
    )  # fmt: skip
    expected["dms/wechat_bindings_2026-10-31.csv"] = Expected("ingested", 3, 1)

    # csc/complaints.xlsx: two title rows, Chinese headers, real datetime cells
    _xlsx(
        inbox / "csc/complaints_2026-10-31.xlsx",
        [
            [
                "投诉单号",
                "渠道",
                "类别",
                "级别",
                "经销商代码",
                "车架号",
                "手机号码",
                "受理时间",
                "关闭时间",
                "VRT启动",
                "满意度",
                "客户备注",
            ],
            [
                "C001",
                "热线",
                "服务",
                "一般",
                "D001",
                VIN_OK,
                "13800138001",
                dt.datetime(2026, 10, 3, 14, 5),
                dt.datetime(2026, 10, 4, 9, 0),
                "否",
                5,
                "电话 13800138001 回访",
            ],
            ["C002", "微信", "品质", "升级", "D002", "", "", "2026年10月4日", None, "Y", "4", None],
            ["C003", "微信", "品质", "升级", "D002", "", "", "", None, "N", "4", None],  # no received_at
            [
                "C004",
                "媒体",
                "其他",
                "重大",
                "D001",
                "",
                "",
                "2026-10-05",
                None,
                "N",
                9,
                None,
            ],  # satisfaction 9
        ],  # fmt: skip
        title_rows=2,
    )
    expected["csc/complaints_2026-10-31.xlsx"] = Expected("ingested", 4, 2)

    # csc/reminder_calls: a file missing a required column (reminder_type) is rejected whole
    (inbox / "csc/reminder_calls_2026-10-31.csv").write_text(
        _csv([["call_id", "dealer_code", "vin", "called_at"], ["K1", "D001", VIN_OK, "2026-10-03 10:00"]])
    )
    expected["csc/reminder_calls_2026-10-31.csv"] = Expected(
        "failed", error_contains="missing required column"
    )

    # csc/rescues: a truncated xlsx (the copy was interrupted)
    whole = inbox / "csc/rescues_2026-10-31.xlsx"
    _xlsx(whole, [["救援单号", "受理时间"], ["R1", "2026-10-01"]])
    whole.write_bytes(whole.read_bytes()[:700])
    expected["csc/rescues_2026-10-31.xlsx"] = Expected("failed", error_contains="cannot open as .xlsx")

    # csc/campaigns: binary garbage with a .csv name
    (inbox / "csc/campaigns_2026-10-31.csv").write_bytes(bytes(range(256)) * 8 + os.urandom(512))
    expected["csc/campaigns_2026-10-31.csv"] = Expected("failed", error_contains="binary")

    # csc/campaign_participants: empty
    (inbox / "csc/campaign_participants_2026-10-31.csv").write_bytes(b"")
    expected["csc/campaign_participants_2026-10-31.csv"] = Expected("failed", error_contains="empty")

    # an export whose name is not a known table
    (inbox / "csc/service_log_2026-10-31.csv").write_text("a,b\n1,2\n")
    expected["csc/service_log_2026-10-31.csv"] = Expected("failed", error_contains="unrecognised table name")

    # a file dated after the cut-off of a run for 2026-11 (as of 2026-10-31)
    (inbox / "csc/repair_orders_2026-11-30.csv").write_text(
        _csv([["ro_no", "dealer_code", "vin", "opened_at"], ["RO900", "D001", VIN_OK, "2026-11-03"]])
    )
    expected["csc/repair_orders_2026-11-30.csv"] = Expected("deferred")
    return expected
