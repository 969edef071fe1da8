from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from sources.sample_oem import generate

VEHICLES = 2_000
END = "2026-10"


@pytest.fixture(scope="session")
def oem(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("oem")
    summary = generate(out, vehicles=VEHICLES, seed=11, end=END, months=24)
    assert summary.files
    return out


@pytest.fixture(scope="session")
def dirt(oem) -> dict:
    return json.loads((oem / "truth" / "dirt_rates.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def identifiers(oem) -> pl.DataFrame:
    return pl.read_parquet(oem / "truth" / "identifiers.parquet")


def files_of(oem: Path, table: str) -> list[Path]:
    from tests.sample_oem.readback import table_of

    return sorted(p for p in (oem / "inbox").rglob("*") if p.is_file() and table_of(p) == table)
