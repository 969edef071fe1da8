"""The enumerations: one home for every coded value, its source spelling and its names.

``dbt_project/seeds/enumerations.csv`` holds one row per (enumeration, code): the Chinese value the
dealers' exports send (``source_value``, empty for codes the pipeline makes itself), the names people
read (``label_zh``, ``label_en``) and, for reminder types, the wording of the WeChat template message
(``message_zh``). dbt loads it as a seed and staging maps the exports' values through it
(``macros/enum_codes.sql``); the dealer files, the WeChat dispatch and the dashboard read the same
file here. Add a value there, and both sides know it.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

ENUMERATIONS_SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "enumerations.csv"

Labels = dict[str, tuple[str, str]]  # code -> (zh, en)


@functools.cache
def _rows() -> tuple[dict[str, str], ...]:
    with open(ENUMERATIONS_SEED, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def _of(enumeration: str) -> list[dict[str, str]]:
    rows = [row for row in _rows() if row["enumeration"] == enumeration]
    if not rows:
        raise KeyError(f"no enumeration {enumeration!r} in {ENUMERATIONS_SEED.name}")
    return rows


def labels(enumeration: str) -> Labels:
    """code -> (中文, English) of one enumeration, in the seed's order."""
    return {row["code"]: (row["label_zh"], row["label_en"]) for row in _of(enumeration)}


def source_codes(enumeration: str) -> dict[str, str]:
    """The exports' value -> code of one enumeration (what staging maps)."""
    return {row["source_value"]: row["code"] for row in _of(enumeration) if row["source_value"]}


def messages(enumeration: str) -> dict[str, str]:
    """code -> the Chinese wording of a WeChat message, for the enumerations that have one."""
    return {row["code"]: row["message_zh"] for row in _of(enumeration) if row["message_zh"]}
