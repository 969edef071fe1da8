"""The dbt project, defined once for the assets, the resources and `prepare-and-package`.

Keep this module free of asset definitions: ``dagster-dbt project prepare-and-package --file``
imports it before a manifest exists.
"""

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so an unactivated venv still finds it."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro, test or seed file.

    ``dagster dev`` does this through ``prepare_if_dev``; the CLI and the tests call it before
    importing the definitions, which need the manifest at import time.
    """
    manifest = dbt_project.manifest_path
    sources = [
        *DBT_PROJECT_DIR.glob("dbt_project.yml"),
        *DBT_PROJECT_DIR.glob("models/**/*"),
        *DBT_PROJECT_DIR.glob("macros/**/*"),
        *DBT_PROJECT_DIR.glob("tests/**/*"),
        *DBT_PROJECT_DIR.glob("seeds/**/*"),
    ]
    newest = max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        # what dagster-dbt's preparer runs, but with this environment's dbt (it looks on PATH only)
        DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=dbt_project.target_path
        ).wait()
    return manifest
