"""Monthly runs as ops run them, on a small generated OEM with the bad-file corpus in its inbox:
real ``aftercare run`` processes, a real simulator, ``kill -9`` at every stage (issue 14).

One scenario, in order (each step's outputs are kept for the tests below):

1. ``run --month 2026-10`` with no WeChat/WeCom configured; a second run started meanwhile is
   refused by the run lock;
2. the bad-file corpus lands in the inbox and the simulator starts, the account lacking privileges
   (48001 on the follower list, 60011 on WeCom group messages); runs of the month are killed in
   ingestion, identity, dbt and publish, and ``serving.duckdb`` stays byte for byte what run 1
   published;
3. the month's next run completes: it exits 0 and publishes, its warnings in its summary; a
   ``--strict`` run with warnings exits 1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import duckdb
import httpx
import pytest

from assets.faults import CRASH_ENV
from sources.exports.tables import TABLES
from tests.processes import free_port, wait_until_up
from tests.reliability.corpus import build_bad_inbox

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PII_KEY = "monthly-run-pii-key-" + "5f0c" * 8
CALLBACK_TOKEN = "monthly-run-callback-token-0123"
MONTH = "2026-10"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def run(*args: str, env: dict, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def start(*args: str, env: dict, cwd: Path, log: Path) -> subprocess.Popen:
    """A run in its own process group, so ``kill -9`` reaches it and the dbt it starts."""
    handle = log.open("w")
    return subprocess.Popen(
        cli(*args), env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def group_commands(pgid: int) -> list[str]:
    """Command lines of the processes of a process group (from /proc)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                commands.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return commands


def kill_group(process: subprocess.Popen) -> int:
    os.killpg(process.pid, signal.SIGKILL)
    return process.wait(timeout=60)


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def query(database: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    work = tmp_path_factory.mktemp("monthly")
    data = work / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERCARE_", "DAGSTER_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "AFTERCARE_ENV": "production",
            "AFTERCARE_PATHS_DATA": str(data),
            "DAGSTER_HOME": str(work / "dagster_home"),
            "AFTERCARE_PII_KEY": PII_KEY,
            "AFTERCARE_WECHAT_CALLBACK_TOKEN": CALLBACK_TOKEN,
        }
    )
    generated = run(
        "generate",
        "--out",
        str(data),
        "--vehicles",
        "300",
        "--end",
        MONTH,
        "--months",
        "2",
        env=env,
        cwd=work,
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    out: dict = {"work": work, "data": data, "env": env, "logs": {}}

    # 1. the month, nothing of WeChat configured; a second run meanwhile is refused
    first = start("run", "--month", MONTH, env=env, cwd=work, log=work / "run_first.log")
    lock = data / "state" / "run.lock"
    wait_for(lambda: lock.exists() and MONTH in lock.read_text(), 120, "the first run to take the lock")
    out["second"] = run("run", "--month", MONTH, env=env, cwd=work)
    out["first_pid"] = first.pid
    assert first.wait(timeout=900) == 0, (work / "run_first.log").read_text()[-5000:]
    out["logs"]["first"] = (work / "run_first.log").read_text()
    serving = data / "serving.duckdb"
    out["s1"] = digest(serving)
    out["first_wechat_rows"] = query(
        serving,
        "select (select count(*) from wechat_followers), (select count(*) from consultant_relationships)",
    )

    # 2. the bad files arrive, the simulator starts with the account lacking privileges; runs killed
    out["bad"] = build_bad_inbox(data / "inbox", dealer=_first_dealer(data / "inbox"), outside=work)
    port = free_port()
    simulator = subprocess.Popen(
        cli("simulate", "--data", str(data), "--port", str(port)),
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/__sim/state") is not None
        state = data / "wechat"
        env.update(
            {
                "AFTERCARE_WECHAT_BASE_URL": url,
                "AFTERCARE_WECOM_BASE_URL": url,
                "AFTERCARE_WECHAT_APPID": json.loads((state / "oa_account.json").read_text())["appid"],
                "AFTERCARE_WECHAT_SECRET": json.loads((state / "oa_account.json").read_text())["secret"],
                "AFTERCARE_WECOM_CORPID": json.loads((state / "wecom_corp.json").read_text())["corpid"],
                "AFTERCARE_WECOM_SECRET": json.loads((state / "wecom_corp.json").read_text())["secret"],
            }
        )
        for path, errcode in (
            ("/cgi-bin/user/get", 48001),
            ("/cgi-bin/externalcontact/get_groupmsg_list_v2", 60011),
        ):
            httpx.post(
                f"{url}/__sim/inject", json={"path": path, "count": 10_000, "errcode": errcode}
            ).raise_for_status()

        crashes = {}
        for point in ("ingestion", "identity"):
            crashed = run("run", "--month", MONTH, env={**env, CRASH_ENV: point}, cwd=work)
            crashes[point] = (crashed.returncode, digest(serving))
            if point == "ingestion":  # some of the new files landed, not all
                out["landed_after_crash"] = query(
                    data / "warehouse.duckdb",
                    "select table_name, count(*) from landing.file_manifest where path in "
                    "(select unnest($1)) and status = 'ingested' group by all order by all",
                    [list(out["bad"])],
                )
        # dbt: killed with the run's process group a moment after it started building
        during = start("run", "--month", MONTH, env=env, cwd=work, log=work / "run_dbt.log")
        wait_for(
            lambda: any("dbt" in c and " build" in c for c in group_commands(during.pid)), 600, "dbt to start"
        )
        time.sleep(3)
        crashes["dbt"] = (kill_group(during), digest(serving))
        # publish: killed as soon as its candidate file appears (the gate runs on it for seconds)
        during = start(
            "run",
            "--month",
            MONTH,
            "--select",
            'key:"serving/database"',
            env=env,
            cwd=work,
            log=work / "run_publish.log",
        )
        candidate = wait_for(lambda: list(data.glob("serving.duckdb.*.next")), 600, "the publish candidate")
        crashes["publish"] = (kill_group(during), digest(serving))
        out["candidate_left"] = [p.name for p in candidate if p.exists()]
        out["crashes"] = crashes

        # 3. the next run completes; a strict run with warnings fails
        out["final"] = run("run", "--month", MONTH, env=env, cwd=work)
        out["candidates_after"] = sorted(p.name for p in data.glob("serving.duckdb.*"))
        out["strict"] = run(
            "run", "--month", MONTH, "--strict", "--select", "group:ingestion", env=env, cwd=work
        )
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
    return out


def _first_dealer(inbox: Path) -> str:
    from sources.exports.reader import read_export
    from sources.exports.tables import TABLES_BY_NAME

    path = next((inbox / "master").glob("dealers.*"))
    code = read_export(path, TABLES_BY_NAME["dealers"]).frame.get_column("dealer_code").to_list()[0]
    return unicodedata.normalize("NFKC", code).strip()


def test_a_second_run_is_refused_while_one_holds_the_lock(scenario):
    second = scenario["second"]
    assert second.returncode == 75, second.stderr[-2000:]
    assert "another aftercare run holds" in second.stderr
    assert f"pid {scenario['first_pid']}" in second.stderr and f"month {MONTH}" in second.stderr


def test_a_month_without_wechat_configured_publishes_with_warnings(scenario):
    log = scenario["logs"]["first"]
    assert f"aftercare run {MONTH}: done" in log
    assert "WeChat follower sync unavailable: not configured" in log
    assert "WeCom customer sync unavailable: not configured" in log
    # the tables fed by WeChat were published, empty: the dbt build ran without any feed
    assert scenario["first_wechat_rows"] == [(0, 0)]


def test_a_kill_at_any_stage_leaves_serving_as_it_was(scenario):
    crashes = scenario["crashes"]
    assert set(crashes) == {"ingestion", "identity", "dbt", "publish"}
    for point, (returncode, after) in crashes.items():
        assert returncode == -signal.SIGKILL, point
        assert after == scenario["s1"], point
    # the ingestion crash came after the first table of the new files, before the next
    assert scenario["landed_after_crash"] == [("vehicle_sales", 1)]
    assert scenario["candidate_left"]  # the publish crash left its candidate behind ...


def test_the_next_run_completes_and_publishes_with_its_warnings(scenario):
    final, data = scenario["final"], scenario["data"]
    assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
    assert f"aftercare run {MONTH}: done" in final.stdout
    warnings = final.stdout[final.stdout.index("warnings (") :]
    assert "WeChat follower sync unavailable (errcode 48001)" in warnings
    assert "WeCom group-message sync unavailable (errcode 60011)" in warnings
    assert "csc/repair_orders_2026-09-01.csv: still not ingested" in warnings  # failed in an earlier run
    assert "invalid UTF-8 at byte 70000" in warnings
    assert "csc/complaints_2062-10-31.csv: dated 2062-10-31, after the current month" in warnings
    assert digest(data / "serving.duckdb") != scenario["s1"]
    assert scenario["candidates_after"] == []  # ... which the next run removed
    published = query(data / "serving.duckdb", "select path, reason from deferred_files order by path")
    assert ("csc/complaints_2062-10-31.csv", "future_dated") in published
    quarantined = query(
        data / "serving.duckdb",
        "select file, raw_row::varchar from quarantine where file like 'csc/repair_orders_2026-09-0%' order "
        "by 1",
    )
    assert [file for file, _ in quarantined] == [
        "csc/repair_orders_2026-09-03.csv",
        "csc/repair_orders_2026-09-04.csv",
    ]
    assert "+86 139-****-5678" in quarantined[0][1]  # the published raw row, masked (and passed the gate)


def test_strict_turns_warnings_into_a_failed_exit(scenario):
    strict = scenario["strict"]
    assert strict.returncode == 1, strict.stdout[-3000:] + strict.stderr[-3000:]
    assert "still not ingested" in strict.stdout and "--strict: exit 1" in strict.stderr


def test_every_row_of_every_file_is_typed_or_quarantined_with_a_reason(scenario):
    data, bad = scenario["data"], scenario["bad"]
    warehouse = data / "warehouse.duckdb"  # (the bad files are dated in the month's cut-off)
    manifest = query(
        warehouse,
        "select path, table_name, status, rows_read, rows_typed, rows_quarantined, error from "
        "landing.file_manifest",
    )
    statuses = {path: status for path, _, status, *_ in manifest}
    inbox_files = set()  # every name in the inbox, symbolic links (to files or folders) included
    for folder, dirs, files in os.walk(data / "inbox"):
        for name in files + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            if not name.startswith((".", "~$")):
                inbox_files.add((Path(folder) / name).relative_to(data / "inbox").as_posix())
    deferred = {p for (p,) in query(warehouse, "select path from landing.deferred_files")}
    assert inbox_files == set(statuses) | deferred  # every file has an outcome
    for path, want in bad.items():
        assert (statuses.get(path) or ("deferred" if path in deferred else None)) == want.action, path
    for path, table, status, read, typed, quarantined, error in manifest:
        if status == "failed":
            assert error, path
            continue
        if status != "ingested":
            continue
        assert read == typed + quarantined, path
        rows = query(
            warehouse,
            f"select (select count(*) from landing.{table} where _source_file = $1) "
            f"+ (select count(*) from landing_history.{table} where _source_file = $1)",
            [path],
        )[0][0]
        assert rows == typed, path  # each typed row kept once: nothing lost, nothing doubled
        reasons = query(warehouse, "select reason from landing.quarantine where file = ?", [path])
        assert len(reasons) == quarantined and all(r for (r,) in reasons), path


def test_landing_equals_a_clean_ingestion_of_the_same_inbox(scenario, tmp_path):
    """What crashed runs left and their successor completed equals ingesting the inbox in one go."""
    from assets.ingestion.ingest import ingest_inbox
    from sources.exports.personal import PersonalData
    from sources.pii import PiiVault

    data = scenario["data"]
    shutil.copytree(data / "inbox", tmp_path / "inbox", symlinks=True)
    con = duckdb.connect(str(tmp_path / "clean.duckdb"))
    personal = PersonalData(PiiVault(PII_KEY.encode()))
    ingest_inbox(con, tmp_path / "inbox", personal, as_of=dt.date(2026, 9, 30))
    con.execute(f"attach '{data / 'warehouse.duckdb'}' as crashed (read_only)")
    for table in [t.name for t in TABLES] + ["quarantine"]:
        for schema in ("landing", "landing_history") if table != "quarantine" else ("landing",):
            if schema == "landing_history" and not query_exists(con, table):
                continue
            drop = "ingested_at" if table == "quarantine" else "_ingested_at"
            differ = con.execute(
                f"select count(*) from ((select * exclude ({drop}) from {schema}.{table} "
                f"except all select * exclude ({drop}) from crashed.{schema}.{table}) union all "
                f"(select * exclude ({drop}) from crashed.{schema}.{table} "
                f"except all select * exclude ({drop}) from {schema}.{table}))"
            ).fetchone()[0]
            assert differ == 0, f"{schema}.{table}"
    con.close()


def query_exists(con, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'landing_history' and "
            "table_name = ?",
            [table],
        ).fetchone()[0]
    )


def test_identity_after_the_crashes_holds_every_identifier_once(scenario):
    warehouse = scenario["data"] / "warehouse.duckdb"
    duplicated = query(
        warehouse,
        "select count(*) from (select identifier_type, identifier_key from identity.oneid_map group by all "
        "having count(*) > 1)",
    )
    assert duplicated == [(0,)]
    # every valid owner mobile is in the map, unless OneID excluded it (shared, staff, placeholder)
    missing = query(
        warehouse,
        "select count(*) from (select distinct owner_mobile_hmac as k from landing.vehicle_sales "
        "where owner_mobile_status = 'valid') m anti join identity.oneid_map o "
        "on o.identifier_type = 'mobile' and o.identifier_key = m.k "
        "anti join identity.excluded_identifiers x on x.identifier_type = 'mobile' and x.identifier_key = "
        "m.k",
    )
    assert missing == [(0,)]
    changes = query(
        warehouse,
        "select count(*) - count(distinct (run_at, change, old_oneid, new_oneid)) from "
        "identity.oneid_changes",
    )
    assert changes == [(0,)]


def test_no_secret_reaches_a_log_a_report_or_dagster_storage(scenario):
    work, env = scenario["work"], scenario["env"]
    secrets = [PII_KEY, CALLBACK_TOKEN, env["AFTERCARE_WECHAT_SECRET"], env["AFTERCARE_WECOM_SECRET"]]
    outputs = scenario["logs"]["first"] + scenario["second"].stderr
    outputs += "".join(scenario[k].stdout + scenario[k].stderr for k in ("final", "strict"))
    outputs += "".join(p.read_text(errors="replace") for p in work.glob("run_*.log"))
    assert not [s for s in secrets if s in outputs]
    simulator_state = scenario["data"] / "wechat"  # Tencent's side: holds the account's secrets by design
    leaks = []
    for path in work.rglob("*"):
        if path.is_file() and not path.is_symlink() and simulator_state not in path.parents:
            content = path.read_bytes()
            leaks += [f"{path.relative_to(work)}" for s in secrets if s.encode() in content]
    assert leaks == []
