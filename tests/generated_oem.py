"""One small generated OEM run for two consecutive months, shared by the end-to-end tests.

Generating an OEM and running the whole asset graph for it costs minutes on the 2-core machine, so
the tests that need "a real OEM after the schedule's last two runs" share one (the session fixture
``two_month_oem`` in ``tests/conftest.py``): tests/test_e2e.py (publish, reruns, dashboard) and
tests/dbt/test_reminders_generated.py (the carry-over rules recomputed from the landed rows).

Everything runs as a user runs it: ``aftercare generate``, the WeChat/WeCom simulator on
loopback (``aftercare simulate``), ``aftercare run --month`` in a subprocess per month. Tests that
rerun a month must leave the OEM as they found it (a rerun changes nothing: that is what they
assert), so the tests after them still see the two months' state.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.demo import add_months
from sources.sample_oem.generate import default_end
from tests.processes import cli_environment, free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
VEHICLES = 3000
# the current months (data up to the last complete month), so a decision a dealer manager takes
# today in the dashboard falls before the next run's cut-off, as it would in use (default_end
# counts from Beijing's date, the clock the close is stamped with)
PREVIOUS_MONTH = default_end()  # the last month of data, and the first run
MONTH = add_months(PREVIOUS_MONTH, 1)  # the month the second run prepares (as of the end of PREVIOUS_MONTH)
NEXT_MONTH = add_months(MONTH, 1)


def cut_off(month: str) -> str:
    """The cut-off of the run for ``month``: the last day of the month before it."""
    return (dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)).isoformat()


AS_OF = cut_off(MONTH)
PREVIOUS_AS_OF = cut_off(PREVIOUS_MONTH)


@dataclass(frozen=True)
class GeneratedOem:
    workdir: Path
    env: dict[str, str]
    # the first completed `aftercare run` of each month, as its console showed it
    runs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.data / "serving.duckdb"

    @property
    def exports(self) -> Path:
        return self.data / "exports"

    def aftercare(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, month: str) -> subprocess.CompletedProcess:
        """``aftercare run --month``; fails the test with the run's output when it fails."""
        done = self.aftercare("run", "--month", month)
        assert done.returncode == 0, (
            month,
            done.stdout[-4000:],
            done.stderr[-4000:],
            run_log_errors(done.stdout),
        )
        self.runs.setdefault(month, done)
        return done


def run_log_errors(console: str, lines: int = 80) -> str:
    """The end of a failed run's log from the first traceback or error on (the console names the
    log; the test's temporary folder is gone when the failure is read)."""
    match = re.search(r"full log: (\S+run\.log)", console)
    if match is None or not Path(match.group(1)).exists():
        return "(no run log)"
    logged = Path(match.group(1)).read_text(errors="replace").splitlines()
    first = next((i for i, line in enumerate(logged) if "Traceback" in line or " - ERROR - " in line), None)
    return "\n".join(logged[first : first + lines] if first is not None else logged[-lines:])


def two_month_oem(workdir: Path) -> Iterator[GeneratedOem]:
    """Generate a small OEM in ``workdir``, start the simulator, run PREVIOUS_MONTH then MONTH;
    the simulator stays up until the generator is closed (reruns need it)."""
    (workdir / "aftercare.toml").write_text('[paths]\ndata = "data"\n')
    (workdir / "dagster_home").mkdir()
    env = cli_environment(
        AFTERCARE_CONFIG=str(workdir / "aftercare.toml"),
        AFTERCARE_PII_KEY="e2e-test-key-0123456789abcdefghijklmnop",
        DAGSTER_HOME=str(workdir / "dagster_home"),
        PYTHONPATH=str(ROOT),
    )
    oem = GeneratedOem(workdir, env)
    generated = oem.aftercare(
        "generate",
        "--out",
        str(oem.data),
        "--vehicles",
        str(VEHICLES),
        "--end",
        PREVIOUS_MONTH,
        "--months",
        "13",
    )
    assert generated.returncode == 0, generated.stderr[-3000:]

    # the WeChat/WeCom simulator on loopback, started the way a user starts it
    state = oem.data / "wechat"
    port = free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "simulate", "--data", str(oem.data), "--port", str(port)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/__sim/state") is not None, "the simulator did not start"
        env.update(
            {
                "AFTERCARE_WECHAT_BASE_URL": url,
                "AFTERCARE_WECOM_BASE_URL": url,
                "AFTERCARE_WECHAT_SECRET": json.loads((state / "oa_account.json").read_text())["secret"],
                "AFTERCARE_WECOM_SECRET": json.loads((state / "wecom_corp.json").read_text())["secret"],
            }
        )
        # two consecutive months, as the schedule runs them: the second publish is gated against the first
        for month in (PREVIOUS_MONTH, MONTH):
            oem.run(month)
        yield oem
    finally:
        simulator.terminate()
        simulator.wait(timeout=20)
