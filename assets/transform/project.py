"""The dbt project, defined once for the assets, the resources and `prepare-and-package`.

Keep this module free of asset definitions: ``dagster-dbt project prepare-and-package --file``
imports it before a manifest exists.
"""

import shutil
import sys
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"

# A run's own month reaches dbt in the dbt process's environment, not in --vars: dbt parses the
# whole project again (~7 s of CPU per invocation, two per run) whenever --vars differ from its last
# parse, and the month differs every run (macro run_parameter, dbt_project/macros/as_of.sql)
RUN_PARAMETER_ENV = {"as_of_date": "AFTERCARE_DBT_AS_OF_DATE", "report_month": "AFTERCARE_DBT_REPORT_MONTH"}

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two costs it pays before every ``dbt`` invocation, for
    nothing aftercare uses (~6 s of CPU per dbt step, two steps per run):

    - ``dbt --version`` in a subprocess, to tell dbt Core from the Fusion engine: aftercare runs the
      dbt Core of its own environment (``dbt_executable``), whose version the package says;
    - a dbt adapter opened in the Dagster process (dbt's imports, profile, project and macros),
      used only by ``fetch_column_metadata`` and ``fetch_row_counts``, which aftercare does not call.

    Both are private methods of dagster-dbt (locked in uv.lock);
    tests/unit/test_dbt_cli.py fails if an upgrade renames them."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002  (dagster-dbt's signature)
        return None


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
        DbtCli(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=dbt_project.target_path
        ).wait()
    return manifest
