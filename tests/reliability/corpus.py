"""The bad-file corpus of issue 14: the dirt real dealers produce that once failed a whole run.

``build_bad_inbox(inbox)`` writes the files beside whatever the inbox holds already (the torture
set, a generated OEM) and returns what each must come to, written down by hand: the outcome, the
rows read and quarantined, words the reason must contain (English and Chinese) and the quarantine
reasons of the rows set aside.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

# a real VIN (ISO 3779 example) and a dealer every generated OEM and the torture set have
VIN = "1M8GDM9AXKP042788"


@dataclass
class Bad:
    action: str  # ingested / failed / deferred
    rows_read: int = 0
    rows_quarantined: int = 0
    reason: tuple[str, ...] = ()  # fragments of the English reason
    reason_zh: tuple[str, ...] = ()  # fragments of the Chinese reason
    quarantine: list[str] = field(default_factory=list)  # fragments of the quarantine reasons, by row


def _orders(count: int, start: int, dealer: str, extra: str = "", sep: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", delimiter=sep)
    writer.writerow(["ro_no", "dealer_code", "vin", "opened_at", "service_type", "advisor"])
    for i in range(start, start + count):
        writer.writerow([f"BAD{i:06d}", dealer, VIN, "2026-09-03 09:00:00", "定期保养", f"王工{extra}"])
    return out.getvalue()


def build_bad_inbox(inbox: Path, dealer: str = "D001", outside: Path | None = None) -> dict[str, Bad]:
    """Write the corpus under ``inbox/csc``, ``inbox/dms`` and ``inbox/bad``; ``outside``: a folder out of
    the inbox for the symlink targets (default: the inbox's parent)."""
    csc, dms = inbox / "csc", inbox / "dms"
    for folder in (csc, dms):
        folder.mkdir(parents=True, exist_ok=True)
    outside = outside or inbox.parent
    expected: dict[str, Bad] = {}

    # UTF-8 with one bad byte past the first 64 KiB: refused alone, naming the byte and the line
    data = _orders(1500, 0, dealer).encode()
    data = data[:70_000] + b"\xff" + data[70_001:]
    (csc / "repair_orders_2026-09-01.csv").write_bytes(data)
    line = data.count(b"\n", 0, 70_000) + 1
    expected["csc/repair_orders_2026-09-01.csv"] = Bad(
        "failed", reason=("invalid UTF-8 at byte 70000", f"line {line}"), reason_zh=(f"第 {line} 行", "UTF-8")
    )

    # a UTF-8 copy cut in the middle of a character
    (csc / "repair_orders_2026-09-02.csv").write_bytes(_orders(10, 2000, dealer).encode() + "王".encode()[:2])
    expected["csc/repair_orders_2026-09-02.csv"] = Bad(
        "failed", reason=("ends inside a character", "line 12"), reason_zh=("字符中间结束",)
    )

    # one line with far more fields than the header: that line quarantined with its number, the rest lands
    lines = _orders(6, 3000, dealer).splitlines()
    lines[3] += "," + ",".join(["多余"] * 38 + ["+86 139-1234-5678", "证件 11010519491231002X"])  # PII too
    (csc / "repair_orders_2026-09-03.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected["csc/repair_orders_2026-09-03.csv"] = Bad(
        "ingested", 6, 1, quarantine=["ragged line: 46 fields where the header has 6 (line 4)"]
    )

    # a giant line (a lost line break, junk): set aside, the rest lands
    lines = _orders(4, 4000, dealer).splitlines()
    lines[2] += "垃圾" * 40_000
    (csc / "repair_orders_2026-09-04.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected["csc/repair_orders_2026-09-04.csv"] = Bad(
        "ingested", 4, 1, quarantine=["cell longer than 32768 characters: advisor (80002)"]
    )

    # Big5 (traditional Chinese): every byte is valid GB18030, so it would land garbled; refused
    big5 = _orders(20, 5000, dealer, extra="師傅").replace("定期保养", "定期保養").replace("王工", "陳")
    (csc / "repair_orders_2026-09-05.csv").write_bytes(big5.encode("big5"))
    expected["csc/repair_orders_2026-09-05.csv"] = Bad(
        "failed", reason=("not GBK/GB18030", "Big5"), reason_zh=("不是 GBK/GB18030",)
    )

    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated: read
    (csc / "repair_orders_2026-09-06.txt").write_bytes(_orders(5, 6000, dealer, sep="\t").encode("utf-16"))
    expected["csc/repair_orders_2026-09-06.txt"] = Bad("ingested", 5, 0)

    # an unclosed quote would swallow every later row into one cell: refused with the line
    lines = _orders(5, 7000, dealer).splitlines()
    lines[2] = lines[2].replace("王工", '"王工')
    (csc / "repair_orders_2026-09-07.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected["csc/repair_orders_2026-09-07.csv"] = Bad(
        "failed", reason=("cannot parse as CSV at line 3", "unclosed quote"), reason_zh=("第 3 行",)
    )

    # neither UTF-8 nor GB18030
    (csc / "repair_orders_2026-09-08.csv").write_bytes(_orders(3, 8000, dealer).encode("utf-16-le"))
    expected["csc/repair_orders_2026-09-08.csv"] = Bad(
        "failed", reason=("binary content",), reason_zh=("二进制",)
    )

    # a broken workbook
    (csc / "complaints_2026-09-08.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(300))
    expected["csc/complaints_2026-09-08.xlsx"] = Bad(
        "failed", reason=("cannot open as .xlsx",), reason_zh=("无法作为 .xlsx 打开",)
    )

    # files named as dealers name them: a Chinese table name with a YYYYMM date, and one nobody knows
    (dms / "车辆销售_202609.csv").write_text(
        f"车架号,经销商代码,开票日期\n{VIN},{dealer},2026-09-01\n", encoding="utf-8"
    )
    expected["dms/车辆销售_202609.csv"] = Bad("ingested", 1, 0)
    (dms / "车辆保险_202609.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    expected["dms/车辆保险_202609.csv"] = Bad(
        "failed", reason=("unrecognised table name", "vehicle_sales (销售开票, 车辆销售)", "YYYYMM"),
        reason_zh=("无法识别", "车辆销售"),
    )  # fmt: skip

    # a future-dated export: not read, visible
    (csc / "complaints_2062-10-31.csv").write_text(
        "complaint_no,received_at\nC1,2062-10-01\n", encoding="utf-8"
    )
    expected["csc/complaints_2062-10-31.csv"] = Bad("deferred")

    # symlinks leaving the inbox: a file and a folder, both refused, neither opened
    secret = outside / "not_for_the_inbox.csv"
    secret.write_text(_orders(2, 9000, dealer), encoding="utf-8")
    (outside / "elsewhere").mkdir(exist_ok=True)
    (outside / "elsewhere" / "repair_orders_2026-09-10.csv").write_text(_orders(2, 9100, dealer))
    bad = inbox / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "repair_orders_2026-09-09.csv").symlink_to(secret)
    (bad / "linked_folder").symlink_to(outside / "elsewhere", target_is_directory=True)
    for name in ("bad/repair_orders_2026-09-09.csv", "bad/linked_folder"):
        expected[name] = Bad("failed", reason=("symbolic link", "outside the inbox"), reason_zh=("符号链接",))
    return expected
