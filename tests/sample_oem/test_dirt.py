"""The dirt documented in dirt_rates.json is what the files show when read back."""

from __future__ import annotations

import math
import re
import unicodedata

from sources.identifiers import IdNumberStatus, parse_id_number
from tests.sample_oem.conftest import files_of
from tests.sample_oem.readback import ALIASES, canonical, detect_encoding, read_export, table_of

MOBILE_COLUMNS = {"owner_mobile", "mobile", "sender_mobile"}
ID_COLUMNS = {"owner_id_number", "id_number"}


def _close(observed_hits: int, n: int, rate: float) -> bool:
    """Within four binomial standard deviations (plus a little slack for tiny rates)."""
    assert n > 0
    sigma = math.sqrt(rate * (1 - rate) / n)
    return abs(observed_hits / n - rate) <= 4 * sigma + 0.002


def _export_files(oem):
    return sorted(p for p in (oem / "inbox").rglob("*") if p.is_file())


def _values(oem, columns: set[str]) -> list[str]:
    out = []
    for path in _export_files(oem):
        cols, rows = read_export(path)
        idx = [i for i, c in enumerate(cols) if c in columns]
        for r in rows:
            for i in idx:
                if i < len(r) and r[i] not in (None, ""):
                    out.append(str(r[i]))
    return out


def test_dirt_rates_json_documents_every_form(dirt):
    for name, entry in dirt.items():
        assert {"rate", "of", "injected", "denominator"} <= set(entry), name
        assert entry["denominator"] > 0, f"{name} never had a chance to occur"
    assert dirt["resold_vehicle"]["injected"] > 0 and dirt["family_shared_mobile"]["injected"] > 0


def test_file_level_dirt_matches_configured_rates(oem, dirt):
    csv_files = [p for p in _export_files(oem) if p.suffix == ".csv"]
    monthly = [p for p in _export_files(oem) if p.parent.name != "master"]
    encodings = [detect_encoding(p.read_bytes()) for p in csv_files]
    bom = sum(e == "utf-8-sig" for e in encodings)
    gb = sum(e == "gb18030" for e in encodings)  # not valid UTF-8: GBK or GB18030
    tab = sum(
        "\t" in p.read_bytes().splitlines()[0].decode(e) for p, e in zip(csv_files, encodings, strict=True)
    )
    xlsx = sum(p.suffix == ".xlsx" for p in monthly)
    assert _close(bom, len(csv_files), dirt["file_encoding_utf8_bom"]["rate"])
    gb_rate = dirt["file_encoding_gbk"]["rate"] + dirt["file_encoding_gb18030"]["rate"]
    assert gb > 0 and _close(gb, len(csv_files), gb_rate)
    assert _close(tab, len(csv_files), dirt["file_tab_delimited"]["rate"])
    assert _close(xlsx, len(monthly), dirt["file_xlsx"]["rate"])


def test_header_dirt(oem, dirt):
    chinese = titled = xlsx = extra = 0
    files = _export_files(oem)
    for path in files:
        table = table_of(path)
        cols, rows = read_export(path)
        raw_header = None
        if path.suffix == ".xlsx":
            xlsx += 1
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True)
            all_rows = list(wb.active.iter_rows(values_only=True))
            wb.close()
            header_at = next(
                i for i, r in enumerate(all_rows) if sum(canonical(table, c) is not None for c in r if c) >= 2
            )
            titled += header_at > 0
            raw_header = [c for c in all_rows[header_at] if c is not None]
        else:
            data = path.read_bytes()
            line = data.decode(detect_encoding(data)).splitlines()[0]
            raw_header = re.split("[\t,]", line)
        folded = [unicodedata.normalize("NFKC", h).strip() for h in raw_header]
        chinese += any(any(h in a for a in ALIASES[table].values()) for h in folded)
        extra += any(c is None for c in cols)
    assert _close(chinese, len(files), dirt["file_chinese_headers"]["rate"])
    assert _close(titled, xlsx, dirt["file_title_rows"]["rate"])
    assert _close(extra, len(files), dirt["file_extra_column"]["rate"])


def test_mobile_forms_in_files(oem, dirt):
    values = _values(oem, MOBILE_COLUMNS)
    n = len(values)
    assert n > 5000
    plus86 = sum(v.startswith("+86") for v in values)
    zero086 = sum(v.startswith("0086") for v in values)
    spaces = sum(bool(re.fullmatch(r"\d{3} \d{4} \d{4}", v)) for v in values)
    dashes = sum(bool(re.fullmatch(r"\d{3}-\d{4}-\d{4}", v)) for v in values)
    wide = sum(any("０" <= ch <= "９" for ch in v) for v in values)
    assert _close(plus86, n, dirt["mobile_plus86"]["rate"])
    assert _close(zero086, n, dirt["mobile_0086"]["rate"])
    assert _close(spaces, n, dirt["mobile_spaces"]["rate"])
    assert _close(dashes, n, dirt["mobile_dashes"]["rate"])
    assert _close(wide, n, dirt["mobile_fullwidth"]["rate"])


def test_id_number_forms_in_files(oem, dirt):
    values = [unicodedata.normalize("NFKC", v).strip() for v in _values(oem, ID_COLUMNS)]
    born_before_1985 = [
        v for v in values if (v[6:8] if len(v) == 15 else v[8:10]) and (len(v) == 15 or int(v[6:10]) < 1985)
    ]
    old15 = sum(len(v) == 15 for v in born_before_1985)
    assert old15 > 0
    assert _close(old15, len(born_before_1985), dirt["id_15_digit"]["rate"])
    ends_x = [v for v in values if len(v) == 18 and v[-1] in "xX"]
    lower = sum(v.endswith("x") for v in ends_x)
    assert _close(lower, len(ends_x), dirt["id_lower_x"]["rate"])
    eighteen = [v for v in values if len(v) == 18]
    bad = sum(parse_id_number(v).status is IdNumberStatus.BAD_CHECKSUM for v in eighteen)
    assert bad > 0
    assert _close(bad, len(eighteen), dirt["id_bad_checksum"]["rate"])


def test_bad_rows_exist_at_a_small_rate(oem):
    rows_total = missing_key = unknown_dealer = impossible = 0
    dealer_codes = {r[0] for r in read_export(oem / "inbox" / "master" / "dealers.xlsx")[1]}
    keys = {t: next(iter(a)) for t, a in ALIASES.items()}
    for table in ("repair_orders", "bookings", "reminder_calls"):
        for path in files_of(oem, table):
            if path.parent.name == "master":
                continue
            cols, rows = read_export(path)
            ki, di = cols.index(keys[table]), cols.index("dealer_code")
            rows_total += len(rows)
            missing_key += sum(r[ki] in (None, "") for r in rows)
            unknown_dealer += sum(r[di] not in dealer_codes for r in rows)
            impossible += sum("02-30" in str(v) for r in rows for v in r)
    for hits in (missing_key, unknown_dealer, impossible):
        assert 0 < hits <= 0.004 * rows_total


def test_sales_mobiles_include_placeholders_and_consultants(oem, identifiers):
    from sources.identifiers import is_placeholder_mobile, normalize_mobile

    consultant = set(identifiers.filter(kind="consultant")["value"].to_list())
    values = [
        normalize_mobile(v)
        for p in files_of(oem, "vehicle_sales")
        for v in [r[read_export(p)[0].index("owner_mobile")] for r in read_export(p)[1]]
        if v
    ]
    values = [v for v in values if v]
    assert sum(is_placeholder_mobile(v) for v in values) > 0
    assert sum(v in consultant for v in values) > 0
