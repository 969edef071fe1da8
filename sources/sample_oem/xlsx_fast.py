"""A minimal, column-vectorized .xlsx writer for the sample OEM's export files.

Why not xlsxwriter for these: it writes cell by cell (~25 µs a cell here), which made xlsx exports
the larger part of generation time (a 50,000-row file is ~1 M cells). Here every column becomes its
cell XML in one polars expression and the sheet is joined once, so a file costs about as much as a
CSV. The package holds one sheet with inline strings, numbers and three number formats (date,
date-time, amount); fixed zip timestamps and document dates keep the bytes deterministic. openpyxl
and fastexcel (calamine) read it back (tests/sample_oem/test_xlsx_fast.py).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl

from sources import spreadsheet
from sources.spreadsheet import column_letter

STYLE_DATE, STYLE_DATETIME, STYLE_AMOUNT = 1, 2, 3
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG}/metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    _HEAD + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_XF = '<xf numFmtId="{}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd\\ hh:mm:ss"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    + _XF.format(164)
    + _XF.format(165)
    + _XF.format(4)
    + "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _core(created: str) -> str:
    return (
        _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
        'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>DMS</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified></cp:coreProperties>'
    )


def _string_cell(ref: str, text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'


def write_xlsx(
    path: Path,
    cells: pl.DataFrame,
    header: list[str],
    title_rows: list[str],
    styles: list[int],
    created: str = "2020-01-01T00:00:00Z",
) -> None:
    """One sheet: ``title_rows`` (text in column A, "" = empty row), the header, then ``cells``.

    String columns become inline strings; numeric columns numbers with ``styles[i]`` (0 = none).
    """
    lines = []
    r = 0
    for line in title_rows:
        r += 1
        lines.append(f'<row r="{r}">' + (_string_cell(f"A{r}", line) if line else "") + "</row>")
    r += 1
    lines.append(
        f'<row r="{r}">'
        + "".join(_string_cell(f"{column_letter(i)}{r}", h) for i, h in enumerate(header))
        + "</row>"
    )
    first = r + 1
    rown = pl.int_range(first, first + pl.len(), dtype=pl.Int64).cast(pl.Utf8)
    exprs = []
    for i, name in enumerate(cells.columns):
        letter = column_letter(i)
        if cells.schema[name] == pl.Utf8:
            exprs.append(spreadsheet.text_cell(pl.col(name), letter, rown))
        else:
            exprs.append(spreadsheet.number_cell(pl.col(name).cast(pl.Float64), letter, rown, styles[i]))
    body = (
        "".join(cells.select(spreadsheet.row_xml(exprs, rown)).to_series().to_list()) if cells.height else ""
    )
    last_col = column_letter(max(len(header), 1) - 1)
    last_row = first + cells.height - 1 if cells.height else r
    sheet = (
        _HEAD + f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><dimension ref="A1:{last_col}{last_row}"/>'
        "<sheetData>" + "".join(lines) + body + "</sheetData></worksheet>"
    )
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("docProps/core.xml", _core(created)),
        ("xl/workbook.xml", _WORKBOOK),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
        ("xl/worksheets/sheet1.xml", sheet),
    ]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in parts:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
