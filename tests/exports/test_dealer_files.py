"""Dealer files through Dagster from a hand-made published database: folders, sheets, CSV with BOM,
masked mobiles only, atomic and byte-identical on a rerun."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path

import dagster as dg
import openpyxl
import polars as pl
import pytest

from assets.exports.dealer_files import dealer_files
from assets.resources import AftercareSettings, RunMonth
from sources.scrub import holds_personal_number
from tests.exports.story import story_rows, task_id, write_serving

FILES = ["due.csv", "not_reminded.csv", "not_returned.csv", "not_tracked.csv", "reminders.xlsx"]


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    (tmp_path / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    monkeypatch.setenv("AFTERCARE_CONFIG", str(tmp_path / "aftercare.toml"))
    data = tmp_path / "data"
    write_serving(data / "serving.duckdb", story_rows())
    return data


def export(data: Path, month: str = "2026-11"):
    return dg.materialize(
        [dealer_files],
        partition_key=month,
        resources={"settings": AftercareSettings(), "run_month": RunMonth()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def metadata(result) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


def failure(result) -> str:
    return "\n".join(e.event_specific_data.error.message for e in result.all_events if e.is_step_failure)


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    """sha256 and modification time (ns) of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def test_every_dealer_gets_its_folder_with_the_four_lists(data):
    result = export(data)
    assert result.success, failure(result)
    month = data / "exports" / "2026-11"
    assert sorted(p.name for p in month.iterdir()) == ["D001", "D002", "D003"]
    for dealer in ("D001", "D002", "D003"):
        assert sorted(p.name for p in (month / dealer).iterdir()) == FILES
    meta = metadata(result)
    assert (meta["dealers"], meta["rows_due"], meta["rows_not_reminded"], meta["rows_not_tracked"]) == (
        3,
        3,
        2,
        2,
    )
    assert (meta["rows_not_returned"], meta["closed_left_out"], meta["files_written"]) == (2, 2, 15)
    assert meta["folder"] == str(month)


def test_the_workbook_has_a_sheet_per_list_with_chinese_headers_and_typed_cells(data):
    assert export(data).success
    book = openpyxl.load_workbook(data / "exports" / "2026-11" / "D001" / "reminders.xlsx")
    assert book.sheetnames == ["应提醒", "未提醒", "未跟踪", "未回厂"]
    due = list(book["应提醒"].iter_rows(values_only=True))
    assert due[0][:5] == ("任务编号", "车架号", "车型", "提醒类型", "到期日期")
    assert [(r[0], r[3], r[9], r[10]) for r in due[1:]] == [
        (task_id("b"), "保险", "是", 1),  # carried: first, and marked
        (task_id("a"), "保养", "否", 0),
    ]
    assert due[1][4] == dt.datetime(2026, 11, 3)  # a real date cell
    assert book["应提醒"].freeze_panes == "A2"
    not_tracked = list(book["未跟踪"].iter_rows(values_only=True))
    assert [r[0] for r in not_tracked[1:]] == [task_id("f")]  # D001's only; h belongs to D003
    assert book.properties.creator == "aftercare"
    assert book.properties.created == dt.datetime(2026, 10, 31)  # the run's cut-off, not the clock

    d003 = openpyxl.load_workbook(data / "exports" / "2026-11" / "D003" / "reminders.xlsx")
    assert d003["应提醒"].max_row == 1  # nothing due this month: the headers only
    assert [r[0] for r in list(d003["未提醒"].iter_rows(values_only=True))[1:]] == [task_id("h")]


def test_the_csv_files_are_the_same_lists_in_utf8_with_bom(data):
    assert export(data).success
    folder = data / "exports" / "2026-11" / "D001"
    due = read_csv(folder / "due.csv")
    assert due[0][:4] == ["任务编号", "车架号", "车型", "提醒类型"]
    assert [(r[0], r[3], r[4], r[9]) for r in due[1:]] == [
        (task_id("b"), "保险", "2026-11-03", "是"),
        (task_id("a"), "保养", "2026-11-15", "否"),
    ]
    book = openpyxl.load_workbook(folder / "reminders.xlsx")
    for name, sheet in [
        ("not_reminded.csv", "未提醒"),
        ("not_tracked.csv", "未跟踪"),
        ("not_returned.csv", "未回厂"),
    ]:
        rows = read_csv(folder / name)
        assert rows[0] == [c for c in next(book[sheet].iter_rows(values_only=True))]
        assert [r[0] for r in rows[1:]] == [r[0] for r in list(book[sheet].iter_rows(values_only=True))[1:]]


def test_no_plaintext_mobile_or_id_number_in_any_file(data):
    assert export(data).success
    texts = []
    for path in sorted((data / "exports").rglob("*.*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(n).decode("utf-8") for n in archive.namelist()]
        else:
            texts.append(path.read_bytes().decode("utf-8-sig"))
    values = [v for text in texts for v in re.split(r"[<>,\n\"]", text)]
    assert [v for v in values if holds_personal_number(v)] == []
    everything = "".join(texts)
    assert "138****5678" in everything and "张*" in everything  # the masked forms are there
    assert "c2VjcmV0LWNpcGhlcg==" not in everything  # the mobile's ciphertext never travels
    # the scan would see a plaintext number in a cell
    assert holds_personal_number(["<t", "13812345678</t", ""][1].split("<")[0])


def test_a_rerun_writes_nothing_and_every_byte_stays(data):
    assert export(data).success
    before = fingerprint(data / "exports")
    again = export(data)
    assert again.success
    meta = metadata(again)
    assert (meta["files_written"], meta["files_unchanged"]) == (0, 15)
    assert fingerprint(data / "exports") == before  # same hashes, not even a new modification time

    # the same content written from scratch gives the same bytes (no clock, no random in the files)
    hashes = {k: h for k, (h, _) in before.items()}
    for path in (data / "exports").rglob("*.*"):
        path.unlink()
    assert export(data).success
    assert {k: h for k, (h, _) in fingerprint(data / "exports").items()} == hashes


def test_batches_written_on_threads_give_the_files_one_thread_gives(data, monkeypatch):
    """One dealer per batch, so each batch is rendered while the pool still writes the one before:
    every file has the bytes of a run on one thread with every dealer in one batch."""
    from assets.exports import dealer_files as module

    monkeypatch.setattr(module, "EXPORT_THREADS", 1)
    monkeypatch.setattr(module, "DEALERS_PER_BATCH", 50)
    assert export(data).success
    one_thread = {k: h for k, (h, _) in fingerprint(data / "exports").items()}
    for path in (data / "exports").rglob("*.*"):
        path.unlink()

    monkeypatch.setattr(module, "EXPORT_THREADS", 2)
    monkeypatch.setattr(module, "DEALERS_PER_BATCH", 1)
    result = export(data)
    assert result.success
    assert {k: h for k, (h, _) in fingerprint(data / "exports").items()} == one_thread
    assert len(one_thread) == 15
    assert (metadata(result)["files_written"], metadata(result)["files_unchanged"]) == (15, 0)


def test_a_change_replaces_only_the_files_that_change_and_leaves_no_temp_file(data):
    assert export(data).success
    before = fingerprint(data / "exports")
    rows = story_rows().with_columns(
        pl.when(pl.col("task_id") == task_id("d"))
        .then(pl.lit("D002"))
        .otherwise(pl.col("dealer_code"))
        .alias("dealer_code"),
        pl.when(pl.col("task_id") == task_id("d"))
        .then(pl.lit(True))
        .otherwise(pl.col("is_usage_assumed"))
        .alias("is_usage_assumed"),
    )
    write_serving(data / "serving.duckdb", rows)
    result = export(data)
    assert result.success
    after = fingerprint(data / "exports")
    changed = sorted(k for k in after if after[k][0] != before[k][0])
    assert changed == ["2026-11/D002/due.csv", "2026-11/D002/reminders.xlsx"]
    assert metadata(result)["files_written"] == 2
    assert not [p for p in (data / "exports").rglob("*") if p.name.startswith(".")]


def test_a_dealer_without_lists_any_more_loses_its_stale_files(data):
    assert export(data).success
    (data / "exports" / "2026-11" / "D003" / "notes.txt").write_text("the dealer's own file")
    write_serving(data / "serving.duckdb", story_rows().filter(pl.col("dealer_code") != "D003"))
    result = export(data)
    assert result.success
    assert metadata(result)["stale_folders_removed"] == "D003"
    assert sorted(p.name for p in (data / "exports" / "2026-11" / "D003").iterdir()) == ["notes.txt"]


def test_an_unusable_dealer_code_is_skipped_not_written_outside_the_exports(data):
    rows = story_rows().with_columns(
        pl.when(pl.col("dealer_code") == "D003")
        .then(pl.lit("../D003"))
        .otherwise(pl.col("dealer_code"))
        .alias("dealer_code")
    )
    write_serving(data / "serving.duckdb", rows)
    result = export(data)
    assert result.success
    assert metadata(result)["skipped_dealer_codes"] == "../D003"
    assert sorted(p.name for p in (data / "exports").iterdir()) == ["2026-11"]
    assert sorted(p.name for p in (data / "exports" / "2026-11").iterdir()) == ["D001", "D002"]


def test_without_a_published_list_the_asset_fails_clearly(data):
    write_serving(data / "serving.duckdb", story_rows(), published_month="2026-10")
    result = export(data)
    assert not result.success
    assert "published for 2026-10, before 2026-11" in failure(result)
    (data / "serving.duckdb").unlink()
    assert "nothing has been published yet" in failure(export(data))
