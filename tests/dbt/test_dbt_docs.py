"""`dbt docs generate` works and every published column says what it means."""

import json
import os
import subprocess

from tests.dbt.conftest import DBT, DBT_PROJECT


def test_docs_generate_describes_the_grain_and_every_column_of_every_mart(fixture_warehouse, tmp_path):
    env = {**os.environ, "AFTERCARE_PATHS_WAREHOUSE": str(fixture_warehouse)}
    done = subprocess.run(
        [str(DBT), "docs", "generate", "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
         "--vars", '{"as_of_date": "2026-10-31"}'],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    marts = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1] == "marts"
    ]
    assert len(marts) >= 11
    for node in marts:
        assert "one row per" in node["description"].lower(), node["name"]
        built = catalog["nodes"][node["unique_id"]]["columns"]
        undocumented = [c for c in built if not node["columns"].get(c, {}).get("description")]
        assert undocumented == [], (node["name"], undocumented)
