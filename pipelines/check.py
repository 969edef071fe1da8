"""``aftercare check``: is this machine ready for a run? Every run starts with it.

Each check is ``ok``, ``warn`` (the run goes on; a WeChat or WeCom feed that cannot be read is a
warning, as in the run itself) or ``fail`` (the run does not start). Checked:

* configuration: the file (or the defaults) loads; ``env`` is said (``local`` or ``production``);
* secrets: ``pii.key`` present and at least ``sources.settings.MIN_PII_KEY_CHARS`` long (or, with
  ``env = "local"``, the development key); the WeChat and WeCom secrets, when set, at least
  ``MIN_APP_SECRET_CHARS``; the callback token, when set, at least ``MIN_CALLBACK_TOKEN_CHARS``;
* paths: the inbox is a readable folder; every folder the run writes (data, warehouse, serving,
  exports, state, runs) can be written; the warehouse is not held by another process;
* free disk beside the warehouse: ``DISK_FACTOR`` times the warehouse (the identity stage's scratch
  database and DuckDB's spill go there, docs/identity.md), at least ``MIN_FREE_BYTES``;
* API reachability: an access token from the Official Account and from WeCom (proves the address,
  the credentials and the IP allowlist in one call). Unreachable or not allowlisted is a warning,
  as in a run (the feeds are marked unavailable); credentials the API refuses fail.

Nothing here prints or logs a secret's value: only whether it is set and how long it is.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sources.settings import ConfigError, Settings, load_settings
from sources.wechat.callback import CALLBACK_TOKEN_ENV
from sources.wechat.callback import MIN_TOKEN_CHARS as MIN_CALLBACK_TOKEN_CHARS

MIN_APP_SECRET_CHARS = 16  # Tencent's AppSecret is 32 characters, a WeCom secret 43
DISK_FACTOR = 3
MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok / warn / fail
    detail: str


class CheckFailed(ConfigError):
    """The machine is not ready: the message lists every failed check."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        failed = [f for f in findings if f.status == "fail"]
        super().__init__("aftercare check failed:\n" + "\n".join(f"  {f.check}: {f.detail}" for f in failed))


def check_secrets(settings: Settings, environ: dict[str, str]) -> list[Finding]:
    findings = []
    try:
        key = settings.pii_key()
    except ConfigError as exc:
        findings.append(Finding("pii.key", "fail", str(exc)))
    else:
        source = "AFTERCARE_PII_KEY" if settings.pii.key is not None else "the local development key"
        findings.append(Finding("pii.key", "ok", f"{source}, {len(key)} characters"))
    for section, variable in (("wechat", "AFTERCARE_WECHAT_SECRET"), ("wecom", "AFTERCARE_WECOM_SECRET")):
        secret = getattr(settings, section).secret
        name = f"{section}.secret"
        if secret is None or not secret.get_secret_value():
            findings.append(
                Finding(name, "warn", f"{variable} is not set: the {section} feeds will be unavailable")
            )
        elif len(secret.get_secret_value()) < MIN_APP_SECRET_CHARS:
            findings.append(
                Finding(
                    name,
                    "fail",
                    f"{variable} is {len(secret.get_secret_value())} characters long; "
                    f"at least {MIN_APP_SECRET_CHARS} expected (Tencent's are 32 and 43)",
                )
            )
        else:
            findings.append(Finding(name, "ok", f"{variable}, {len(secret.get_secret_value())} characters"))
    token = environ.get(CALLBACK_TOKEN_ENV, "")
    if not token:
        findings.append(
            Finding(
                "callback token",
                "warn",
                f"{CALLBACK_TOKEN_ENV} is not set: `aftercare callback` will not start",
            )
        )
    elif len(token) < MIN_CALLBACK_TOKEN_CHARS:
        findings.append(
            Finding(
                "callback token",
                "fail",
                f"{CALLBACK_TOKEN_ENV} is {len(token)} characters long; at least {MIN_CALLBACK_TOKEN_CHARS}",
            )
        )
    else:
        findings.append(Finding("callback token", "ok", f"{CALLBACK_TOKEN_ENV}, {len(token)} characters"))
    return findings


def _writable(folder: Path) -> str | None:
    """None when ``folder`` exists (or could be made) and a file can be written in it, else why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".aftercare-check-"):
            pass
    except OSError as exc:
        return f"{folder} is not writable: {exc.strerror or exc}"
    return None


def check_paths(settings: Settings) -> list[Finding]:
    paths = settings.paths
    findings = []
    inbox = Path(paths.inbox)
    if not inbox.is_dir():
        if settings.env == "local":
            inbox.mkdir(parents=True, exist_ok=True)
            findings.append(Finding("paths.inbox", "warn", f"{inbox} did not exist: created it, empty"))
        else:
            findings.append(Finding("paths.inbox", "fail", f"{inbox} is not a folder: set paths.inbox"))
    elif not os.access(inbox, os.R_OK | os.X_OK):
        findings.append(Finding("paths.inbox", "fail", f"{inbox} cannot be read by this user"))
    else:
        findings.append(Finding("paths.inbox", "ok", str(inbox)))
    folders = {
        "paths.data": Path(paths.data),
        "paths.warehouse": Path(paths.warehouse).parent,
        "paths.serving": Path(paths.serving).parent,
        "paths.exports": Path(paths.exports),
        "paths.state": Path(paths.state),
        "paths.runs": Path(paths.runs),
    }
    for name, folder in folders.items():
        problem = _writable(folder)
        findings.append(Finding(name, "fail" if problem else "ok", problem or f"{folder} writable"))
    return findings


def check_disk(settings: Settings) -> Finding:
    warehouse = Path(settings.paths.warehouse)
    size = warehouse.stat().st_size if warehouse.exists() else 0
    needed = max(MIN_FREE_BYTES, DISK_FACTOR * size)
    try:
        free = shutil.disk_usage(warehouse.parent).free
    except OSError as exc:
        return Finding("free disk", "fail", f"cannot read the free space beside {warehouse}: {exc}")
    detail = f"{free / 2**30:.1f} GiB free beside the warehouse, {needed / 2**30:.1f} GiB needed"
    return Finding("free disk", "ok" if free >= needed else "fail", detail)


def check_warehouse_free(settings: Settings) -> Finding:
    """DuckDB allows one writer per file: a process still holding the warehouse (an orphaned dbt of a
    killed run, a notebook) would fail the run half-way; say so before it starts."""
    import duckdb

    warehouse = Path(settings.paths.warehouse)
    if not warehouse.exists():
        return Finding("warehouse", "ok", f"{warehouse} will be created")
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.IOException as exc:
        first = str(exc).splitlines()[0]
        return Finding("warehouse", "fail", f"{warehouse} is held by another process: {first}")
    return Finding("warehouse", "ok", f"{warehouse} can be opened for writing")


def check_apis(settings: Settings) -> list[Finding]:
    from assets.wechat.feeds import outage_of
    from sources.wechat import OfficialAccountClient, WechatError, WecomClient
    from sources.wechat.http import RetryPolicy

    quick = RetryPolicy(attempts=2, initial_wait_s=0.2, max_wait_s=0.5)
    findings = []
    for name, client_type in (("WeChat API", OfficialAccountClient), ("WeCom API", WecomClient)):
        section = settings.wechat if client_type is OfficialAccountClient else settings.wecom
        if section.secret is None or not section.secret.get_secret_value():
            findings.append(Finding(name, "warn", "not configured (no secret): not called"))
            continue
        try:
            with client_type.from_settings(settings, retry=quick) as client:
                client.tokens.get()
        except WechatError as exc:
            # as in a run: unreachable, no privilege or not allowlisted is a warning (the feeds are
            # marked unavailable); credentials the API refuses are a configuration to fix
            if outage_of(name, exc) is None:
                findings.append(Finding(name, "fail", f"{section.base_url}: {exc}"))
                continue
            detail = f"{section.base_url}: {exc}"
            if getattr(exc, "errcode", None) == -2:  # the client's code for a refused connection
                detail = f"cannot reach {name} at {section.base_url} ({exc.errmsg})"
            findings.append(Finding(name, "warn", f"{detail}: its feeds will be unavailable"))
        else:
            findings.append(Finding(name, "ok", f"{section.base_url}: access token received"))
    return findings


def run_checks(settings: Settings, environ: dict[str, str] | None = None, api: bool = True) -> list[Finding]:
    environ = dict(os.environ) if environ is None else environ
    findings = [
        Finding("env", "ok", settings.env)
        if settings.env
        else Finding(
            "env",
            "fail",
            'env is not set: env = "production" in aftercare.toml, or "local" on a '
            "development machine (AFTERCARE_ENV)",
        )
    ]
    findings += check_secrets(settings, environ)
    findings += check_paths(settings)
    findings.append(check_disk(settings))
    findings.append(check_warehouse_free(settings))
    if api:
        findings += check_apis(settings)
    return findings


def require_ready(
    settings: Settings, api: bool = True, log: Callable[[str], None] | None = None
) -> list[Finding]:
    """Run the checks; raise ``CheckFailed`` when any fails; return them (warnings for the summary)."""
    findings = run_checks(settings, api=api)
    if log is not None:
        for finding in findings:
            if finding.status != "ok":
                log(f"check {finding.check}: {finding.status}: {finding.detail}")
    if any(f.status == "fail" for f in findings):
        raise CheckFailed(findings)
    return findings


def check_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"FAIL  configuration      {exc}")
        return 1
    source = args.config or os.environ.get("AFTERCARE_CONFIG") or "./aftercare.toml or the defaults"
    findings = [Finding("configuration", "ok", f"loaded from {source}")]
    findings += run_checks(settings)
    for finding in findings:
        print(f"{finding.status.upper():5} {finding.check:16} {finding.detail}")
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    print(f"aftercare check: {'FAILED' if failed else 'ready'} ({failed} failed, {warned} warnings)")
    return 1 if failed else 0
