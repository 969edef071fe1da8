"""Production fails closed (issue 14, deliverable 5): ``aftercare check`` and the start of every run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.check import run_checks
from sources.settings import load_settings
from sources.wechat_sim.server import start_simulator
from sources.wechat_sim.synthetic import APPID, CORPID, OA_SECRET, WECOM_SECRET, write_state

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "check-test-pii-key-0123456789abcdef"


def cli(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def environ(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERCARE_", "DAGSTER_"))}
    env.update({"PYTHONPATH": str(ROOT), "AFTERCARE_PATHS_DATA": str(tmp_path / "data")})
    (tmp_path / "data" / "inbox").mkdir(parents=True)
    return env


def findings(tmp_path, environ, **extra) -> dict[str, tuple[str, str]]:
    env = {**environ, **extra}
    return {
        f.check: (f.status, f.detail)
        for f in run_checks(load_settings(environ=env, cwd=tmp_path), env, api=False)
    }


def test_production_with_everything_set_is_ready(tmp_path, environ):
    found = findings(
        tmp_path, environ, AFTERCARE_ENV="production", AFTERCARE_PII_KEY=GOOD_KEY,
        AFTERCARE_WECHAT_CALLBACK_TOKEN="check-test-token-0123456789",
    )  # fmt: skip
    assert {check for check, (status, _) in found.items() if status == "fail"} == set()
    assert found["pii.key"] == ("ok", f"AFTERCARE_PII_KEY, {len(GOOD_KEY)} characters")


@pytest.mark.parametrize(
    ("extra", "check", "says"),
    [
        ({"AFTERCARE_PII_KEY": GOOD_KEY}, "env", 'env is not set: env = "production"'),
        ({"AFTERCARE_ENV": "production"}, "pii.key", "pii.key is not set: export AFTERCARE_PII_KEY"),
        ({"AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": "k"}, "pii.key", "1 characters long; at least "
                                                                               "32"),
        ({"AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": GOOD_KEY, "AFTERCARE_WECHAT_SECRET": "abc"},
         "wechat.secret", "3 characters long; at least 16"),
        ({"AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": GOOD_KEY,
          "AFTERCARE_WECHAT_CALLBACK_TOKEN": "tok"}, "callback token", "3 characters long; at least 16"),
        ({"AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": GOOD_KEY,
          "AFTERCARE_PATHS_INBOX": "/nowhere/inbox"},
         "paths.inbox", "/nowhere/inbox is not a folder"),
        ({"AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": GOOD_KEY,
          "AFTERCARE_PATHS_RUNS": "/dev/null/runs"},
         "paths.runs", "/dev/null/runs is not writable"),
    ],
)  # fmt: skip
def test_what_is_not_ready_fails_and_says_what(tmp_path, environ, extra, check, says):
    status, detail = findings(tmp_path, environ, **extra)[check]
    assert status == "fail" and says in detail
    for name in ("AFTERCARE_PII_KEY", "AFTERCARE_WECHAT_SECRET", "AFTERCARE_WECHAT_CALLBACK_TOKEN"):
        if name in extra and len(extra[name]) > 2:
            assert extra[name] not in detail


def test_too_little_free_disk_for_the_identity_stage_fails(tmp_path, environ):
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    with open(warehouse, "wb") as handle:
        handle.truncate(2**40)  # a sparse 1 TiB file: three times that is not free on this machine
    status, detail = findings(tmp_path, environ, AFTERCARE_ENV="local")["free disk"]
    assert status == "fail" and "3072.0 GiB needed" in detail


def test_api_reachability_through_a_real_token(tmp_path, environ):
    state = write_state(tmp_path / "wechat", followers=10, members=1)
    with start_simulator(state) as sim:
        env = {
            **environ, "AFTERCARE_ENV": "local", "AFTERCARE_WECHAT_BASE_URL": sim.url,
            "AFTERCARE_WECHAT_APPID": APPID, "AFTERCARE_WECHAT_SECRET": OA_SECRET + "-padding",
            "AFTERCARE_WECOM_BASE_URL": sim.url, "AFTERCARE_WECOM_CORPID": CORPID,
            "AFTERCARE_WECOM_SECRET": WECOM_SECRET,
        }  # fmt: skip
        found = {f.check: f for f in run_checks(load_settings(environ=env, cwd=tmp_path), env)}
    assert found["WeCom API"].status == "ok"
    # a refused secret is no warning to live with: the configuration is wrong
    assert (
        found["WeChat API"].status == "fail"
        and "wechat.secret was refused (40125)" in found["WeChat API"].detail
    )
    assert OA_SECRET not in found["WeChat API"].detail
    env["AFTERCARE_WECOM_BASE_URL"] = "http://127.0.0.1:9"
    found = {f.check: f for f in run_checks(load_settings(environ=env, cwd=tmp_path), env)}
    assert found["WeCom API"].status == "warn" and "cannot reach WeCom API" in found["WeCom API"].detail


def test_aftercare_check_and_run_refuse_a_machine_that_is_not_ready(tmp_path, environ):
    env = {**environ, "AFTERCARE_ENV": "production", "AFTERCARE_PII_KEY": "short-key"}
    checked = cli("check", env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert "FAIL  pii.key" in checked.stdout and "short-key" not in checked.stdout + checked.stderr
    ran = cli("run", "--month", "2026-11", env=env, cwd=tmp_path)
    assert (
        ran.returncode == 2
        and "aftercare check failed" in ran.stderr
        and "pii.key is 9 characters" in ran.stderr
    )
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()  # nothing read or written


def test_a_mistyped_secret_in_the_file_is_named_not_shown(tmp_path, environ):
    (tmp_path / "aftercare.toml").write_text(
        'env = "production"\n[wecom]\nsecert = "the-real-wecom-secret-value"\n'
    )
    checked = cli("check", "--config", str(tmp_path / "aftercare.toml"), env=environ, cwd=tmp_path)
    assert checked.returncode == 1
    assert "wecom.secert" in checked.stdout and "environment only" in checked.stdout
    assert "the-real-wecom-secret-value" not in checked.stdout + checked.stderr
