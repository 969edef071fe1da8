"""Every enumeration has one home, the seed ``dbt_project/seeds/enumerations.csv``: the dbt staging
models map the exports' values through it, and Python's names come from it."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "dbt_project" / "seeds" / "enumerations.csv"


def seed_rows() -> dict[str, list[dict[str, str]]]:
    """The seed as a reader sees it, read here without the project's helper."""
    by_enumeration: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(SEED, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_enumeration[row["enumeration"]].append(row)
    return by_enumeration


def names(enumeration: str) -> dict[str, tuple[str, str]]:
    return {r["code"]: (r["label_zh"], r["label_en"]) for r in seed_rows()[enumeration]}


def test_the_dealer_files_name_the_codes_as_the_seed_does():
    from assets.exports.lists import CHANNELS, REMINDER_TYPES, WECHAT_STATUSES

    assert names("reminder_type") == REMINDER_TYPES
    assert REMINDER_TYPES["birthday"] == ("生日关怀", "Birthday")  # the seed's row, not the exports' 生日
    assert names("reminder_channel") == CHANNELS
    assert names("wechat_status") == WECHAT_STATUSES


def test_the_wechat_message_words_each_reminder_type_as_the_seed_does():
    from assets.wechat.dispatch import SERVICE_NAMES

    assert {r["code"]: r["message_zh"] for r in seed_rows()["reminder_type"]} == SERVICE_NAMES
    assert SERVICE_NAMES["first_maintenance"] == "首次保养"


def test_the_dashboard_names_every_enumeration_as_the_seed_does():
    from dashboards import labels

    for name, enumeration in {
        "REMINDER_TYPE": "reminder_type",
        "CHANNEL": "reminder_channel",
        "WECHAT_STATUS": "wechat_status",
        "CARRY_OUTCOME": "carry_outcome",
        "SERVICE_TYPE": "service_type",
        "BOOKING_CHANNEL": "booking_channel",
        "COMPLAINT_CHANNEL": "complaint_channel",
        "COMPLAINT_CATEGORY": "complaint_category",
        "COMPLAINT_LEVEL": "complaint_level",
        "CAMPAIGN_SCOPE": "campaign_scope",
        "STAFF_ROLE": "staff_role",
    }.items():
        shown = {code: pair for code, pair in getattr(labels, name).items() if code != "all"}
        assert shown == names(enumeration), name


def test_ingestion_accepts_the_binding_statuses_the_seed_lists():
    from sources.exports.tables import TABLES_BY_NAME

    assert TABLES_BY_NAME["wechat_bindings"].checks["status"] == ("有效", "解绑")
    assert set(TABLES_BY_NAME["wechat_bindings"].checks["status"]) == {
        r["source_value"] for r in seed_rows()["binding_status"]
    }


def test_staging_maps_the_exports_values_through_the_seed_only(dbt_manifest):
    macros = (ROOT / "dbt_project" / "macros" / "enum_codes.sql").read_text()
    assert not re.search(r"[\u4e00-\u9fff]", macros)  # no Chinese value left in a dictionary there
    named = set()
    for model in (ROOT / "dbt_project" / "models").rglob("*.sql"):
        named |= set(re.findall(r"enum_to_code\('\w+', '(\w+)'\)", model.read_text()))
    assert named == set(seed_rows()) - {"reminder_channel", "wechat_status", "carry_outcome"}
    manifest = json.loads(Path(dbt_manifest).read_text())
    bookings = manifest["nodes"]["model.aftercare.stg_dms__bookings"]
    assert "seed.aftercare.enumerations" in bookings["depends_on"]["nodes"]
