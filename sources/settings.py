"""Configuration: ``aftercare.toml`` plus ``AFTERCARE_<SECTION>_<KEY>`` environment overrides.

Precedence, lowest to highest: built-in defaults, the TOML file, the environment. Secrets
(``wechat.secret``, ``wecom.secret``, ``pii.key``) are read from the environment only; a secret
written in the file is refused so it never ends up in version control by accident, and no error
message ever repeats a value it was given (a mistyped key may hold a secret).

With no file and no environment at all everything lives under ``./data`` and points at the local
WeChat/WeCom simulator. ``env`` must still be said: ``local`` (a development machine: a development
PII key may be created) or ``production``; ``aftercare demo`` and the tests set ``local`` themselves.
"""

from __future__ import annotations

import difflib
import os
import secrets
import tomllib
import typing
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

CONFIG_FILE_NAME = "aftercare.toml"
ENV_PREFIX = "AFTERCARE"
SECRET_KEYS = {("wechat", "secret"), ("wecom", "secret"), ("pii", "key")}
# HMAC-SHA256 wants a key of at least its output size; `openssl rand -hex 32` gives 64 characters
MIN_PII_KEY_CHARS = 32


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class PathsConfig(_Section):
    data: Path = Path("data")
    inbox: Path | None = None  # default: <data>/inbox
    warehouse: Path | None = None  # default: <data>/warehouse.duckdb
    serving: Path | None = None  # default: <data>/serving.duckdb
    exports: Path | None = None  # default: <data>/exports
    state: Path | None = None  # default: <data>/state (callback events, dashboard decisions, dev keys)
    runs: Path | None = None  # default: <data>/runs (per-run reports, Data Docs)

    def resolved(self, base: Path) -> PathsConfig:
        """Absolute paths, with the unset ones derived from ``data``."""
        data = (base / self.data).resolve()
        defaults = {
            "inbox": data / "inbox",
            "warehouse": data / "warehouse.duckdb",
            "serving": data / "serving.duckdb",
            "exports": data / "exports",
            "state": data / "state",
            "runs": data / "runs",
        }
        values = {"data": data}
        for name, default in defaults.items():
            given = getattr(self, name)
            values[name] = (base / given).resolve() if given is not None else default
        return PathsConfig(**values)


class WechatConfig(_Section):
    base_url: str = "http://127.0.0.1:8780"
    appid: str = "wxa1f2c3d4e5f60718"
    secret: SecretStr | None = None
    # dry-run by default: nothing is sent to followers unless an operator turns this on
    dispatch_enabled: bool = False
    reminder_template_id: str = "TPL_SERVICE_REMINDER"
    timeout_s: float = 10.0
    max_concurrency: int = 4


class WecomConfig(_Section):
    base_url: str = "http://127.0.0.1:8780"
    corpid: str = "ww0a1b2c3d4e5f6071"
    secret: SecretStr | None = None
    timeout_s: float = 10.0
    max_concurrency: int = 4
    # calls one WeCom pull (behaviour, group messages, contacts) makes in a run at most; the rest of
    # a backfill waits for the next run (docs/wechat.md "WeCom within its quota"). WeCom allows
    # 10,000 calls a minute and 150,000 an hour per API; 25,000 covers a month's increment of
    # 12,500 consultants (two 30-day windows each) in about 2.5 minutes of WeCom's minute limit
    call_budget: int = Field(default=25_000, ge=1)
    progress_every: int = Field(default=1_000, ge=1)  # a progress line in the run log every N calls
    # calls per API the client makes in any 60 s at most: WeCom allows 10,000 a minute per corp and
    # API and blocks the API for 60 s beyond; the margin is for other systems of the corp and clocks
    calls_per_minute: int = Field(default=9_500, ge=1)
    # the month-end run reuses the consultants-and-customers snapshot the nightly WeCom pull took
    # through a day at most this many days before the cut-off (the last night's), instead of taking
    # its own on the run's critical path; 0: the month-end run always takes its own (docs/wechat.md)
    contacts_max_age_days: int = Field(default=1, ge=0)


class PiiConfig(_Section):
    key: SecretStr | None = None


class OneidConfig(_Section):
    max_ids_per_mobile: int = 1
    placeholder_mobiles: list[str] = Field(
        default_factory=lambda: ["13800138000", "13888888888", "11111111111"]
    )
    # clusters above these sizes are listed for review (not split automatically)
    suspicious_vehicles: int = 8
    suspicious_mobiles: int = 4
    suspicious_id_numbers: int = 1


class RemindersConfig(_Section):
    """The reminder rules' parameters (RULES.md "Reminder list for month M", docs/reminders.md).

    Every field reaches dbt as a var of the same name (``assets.transform.dbt.dbt_vars``);
    ``dbt_project.yml`` repeats these defaults for ad-hoc ``dbt build``: tests/unit/test_config.py
    fails when the two differ in a name or a value.
    """

    first_service_months: int = 3
    first_service_grace_months: int = 3
    maintenance_interval_months: int = 6
    maintenance_grace_months: int = 3
    warranty_years: int = 3
    return_grace_days: int = 15
    max_carry_months: int = 3
    reached_min_call_seconds: int = 30
    # servicing dealer = dealer of the last repair order within this many months
    servicing_dealer_months: int = 24


class KpiConfig(_Section):
    """KPI parameters (docs/kpis.md). Every key but the lapse months reaches dbt as the var
    ``kpi_<key>``; dbt_project.yml holds the same defaults."""

    at_risk_months: int = 6
    lapsed_months: int = 12
    # months of KPI history every run computes, and days after a period before it is final
    history_months: int = Field(default=24, ge=1)
    settle_days: int = Field(default=15, ge=0)
    # 12-month retention: a visit 24..13 months ago, and one in the last 12
    retention_months: int = Field(default=12, ge=1)
    # dealer scorecard weights (renormalised over the components a dealer has)
    weight_completion_rate: float = Field(default=0.20, ge=0)
    weight_return_rate: float = Field(default=0.25, ge=0)
    weight_show_rate: float = Field(default=0.15, ge=0)
    weight_feedback_rate: float = Field(default=0.05, ge=0)
    weight_closed_within_deadline_rate: float = Field(default=0.10, ge=0)
    weight_first_contact_24h_rate: float = Field(default=0.05, ge=0)
    weight_wechat_reachable_share: float = Field(default=0.10, ge=0)
    weight_retention_12m_rate: float = Field(default=0.10, ge=0)
    # warnings: a rate more than alert_rate_drop below its own previous alert_baseline_months
    # (with at least alert_min_due tasks due); vehicles turning lapsed above (1 + ratio) x their
    # recent mean and at least alert_lapse_spike_min
    alert_baseline_months: int = Field(default=3, ge=1)
    alert_rate_drop: float = Field(default=0.10, ge=0, le=1)
    alert_min_due: int = Field(default=20, ge=0)
    alert_lapse_spike_ratio: float = Field(default=0.5, ge=0)
    alert_lapse_spike_min: int = Field(default=10, ge=0)

    def dbt_vars(self) -> dict[str, int | float]:
        """The KPI parameters as dbt vars: ``kpi_<key>`` (the lapse months keep their shared names)."""
        shared = {"at_risk_months", "lapsed_months"}
        values = self.model_dump()
        return {
            "at_risk_months": self.at_risk_months,
            "lapsed_months": self.lapsed_months,
            **{f"kpi_{key}": value for key, value in values.items() if key not in shared},
        }


class DashboardConfig(_Section):
    session_hours: int = Field(12, ge=1)  # a sign-in lasts this long, refreshes included
    max_failed_logins: int = Field(5, ge=1)  # wrong passwords in a row before the account locks
    lockout_minutes: int = Field(15, ge=1)


class EngineConfig(_Section):
    """Where dbt builds the models (docs/spark.md). ``duckdb``: in ``paths.warehouse``, on this
    machine. ``spark``: through dbt-spark; the landing, WeChat, identity and decisions tables are
    handed to Spark as Parquet tables and the marts come back into the warehouse, so publishing,
    the dashboard and the dealer files do not change."""

    kind: Literal["duckdb", "spark"] = "duckdb"
    # dbt-spark's connection: `session` is a pyspark session in the dbt process (local runs and
    # tests); `thrift` a Spark Thrift Server of a cluster (host/port below)
    spark_method: Literal["session", "thrift"] = "session"
    spark_master: str = "local[2]"  # session only: the Spark master URL
    spark_host: str = "localhost"  # thrift only
    spark_port: int = Field(default=10000, ge=1, le=65535)  # thrift only
    # session only: Spark's own files (its warehouse, metastore, the Parquet hand-over); default
    # <folder of paths.warehouse>/spark
    spark_dir: Path | None = None
    spark_driver_memory: str = "2g"
    # a local run's data fits a few partitions; Spark's default of 200 makes every join and
    # aggregate of a small OEM schedule 200 tasks (docs/spark.md)
    spark_shuffle_partitions: int = Field(default=2, ge=1)
    # dbt's data tests on Spark too (`dbt build`). Each costs a Spark job, ~0.3-1 s even on a small
    # OEM; the sameness test turns them off: its proof is every published table equal to the
    # DuckDB run's, whose same tests passed (docs/spark.md "Proof of sameness")
    spark_data_tests: bool = True
    # OneID's connected components on Spark too (docs/spark.md "OneID on Spark"); false: SciPy in
    # the identity step, as on DuckDB. The sameness test turns it off: a Spark session of its own
    # for a few hundred identifiers, while tests/spark/test_oneid_components.py proves Spark's
    # components equal SciPy's through the same job and hand-over
    spark_oneid: bool = True

    def spark_path(self, paths: PathsConfig) -> Path:
        """Spark's folder: ``spark_dir`` when given, else ``spark/`` beside the warehouse file."""
        assert paths.warehouse is not None
        return self.spark_dir if self.spark_dir is not None else paths.warehouse.parent / "spark"


class Settings(_Section):
    # unset on purpose: a machine must say whether it is production (no invented keys) or local
    env: Literal["local", "production"] | None = None
    paths: PathsConfig = Field(default_factory=PathsConfig)
    wechat: WechatConfig = Field(default_factory=WechatConfig)
    wecom: WecomConfig = Field(default_factory=WecomConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    oneid: OneidConfig = Field(default_factory=OneidConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    kpi: KpiConfig = Field(default_factory=KpiConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)

    def pii_key(self) -> bytes:
        """The HMAC/encryption key for mobiles and ID numbers, at least ``MIN_PII_KEY_CHARS`` long.

        It comes from ``AFTERCARE_PII_KEY``. Only with ``env = "local"`` said explicitly, and no key
        set, is a random development key created once under ``paths.state`` (mode 0600 from the
        start), so the demo needs nothing; data keyed with it is only meaningful on that machine.
        """
        if self.pii.key is not None:
            key = self.pii.key.get_secret_value()
            if len(key) < MIN_PII_KEY_CHARS:
                raise ConfigError(
                    f"pii.key is {len(key)} characters long; at least {MIN_PII_KEY_CHARS} are needed: export "
                    "AFTERCARE_PII_KEY=$(openssl rand -hex 32)"
                )
            return key.encode("utf-8")
        if self.env == "production":
            raise ConfigError("pii.key is not set: export AFTERCARE_PII_KEY (never put it in aftercare.toml)")
        if self.env is None:
            raise ConfigError(
                "env is not set and AFTERCARE_PII_KEY is not set: on a production machine put env = "
                '"production" in aftercare.toml and export AFTERCARE_PII_KEY; on a development machine put '
                'env = "local" (or export AFTERCARE_ENV=local) to use a development key'
            )
        assert self.paths.state is not None
        key_file = self.paths.state / "dev_pii.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            try:  # created 0600, never readable by others even for an instant
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
                warnings.warn(
                    f'env = "local" and AFTERCARE_PII_KEY is not set: created a development key at '
                    f"{key_file}",
                    stacklevel=2,
                )
        return key_file.read_text().strip().encode("utf-8")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to fix."""


def describe_errors(exc: ValidationError) -> str:
    """Pydantic's errors by key and reason, never with the value given (a mistyped key may be a secret)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        text = f"{where}: {error['msg']}"
        if error["type"] == "extra_forbidden":
            text += _secret_hint(str(error["loc"][-1]).lower())
        parts.append(text)
    return "; ".join(parts)


def _secret_hint(key: str) -> str:
    """For an unknown key that looks like a secret (or a mistyped one): where secrets belong."""
    names = sorted({name for _, name in SECRET_KEYS} | {"token", "password"})
    if any(name in key for name in names) or difflib.get_close_matches(key, names, n=1, cutoff=0.6):
        return " (a secret is read from the environment only, as AFTERCARE_<SECTION>_<KEY>)"
    return ""


def _env_overrides(environ: dict[str, str]) -> dict[str, dict[str, Any]]:
    """``AFTERCARE_<SECTION>_<KEY>`` values for every known section and key.

    Keys are matched against the model rather than split on ``_`` because keys themselves
    contain underscores (``AFTERCARE_ONEID_MAX_IDS_PER_MOBILE``). A new section of ``Settings`` is
    covered without a change here.

    Not pydantic-settings: its environment source hands every ``AFTERCARE_<SECTION>_*`` variable to
    the section, so the variables other parts read themselves (``AFTERCARE_WECHAT_CALLBACK_TOKEN``,
    ``AFTERCARE_ONEID_DUCKDB_MEMORY``) would fail a section that forbids unknown keys; it reads
    ``os.environ`` only (the tests pass ``environ``), parses lists as JSON, and the file lookup,
    the refusal of secrets in the file and the paths relative to the file would stay hand-written.
    """
    overrides: dict[str, dict[str, Any]] = {}
    if f"{ENV_PREFIX}_ENV" in environ:
        overrides["env"] = environ[f"{ENV_PREFIX}_ENV"]  # type: ignore[assignment]
    for section_name, field in Settings.model_fields.items():
        section_type = field.annotation
        if not (isinstance(section_type, type) and issubclass(section_type, BaseModel)):
            continue
        for key, key_field in section_type.model_fields.items():
            var = f"{ENV_PREFIX}_{section_name}_{key}".upper()
            if var not in environ:
                continue
            raw = environ[var]
            value: Any = raw
            if typing.get_origin(key_field.annotation) is list:  # a list is given comma-separated
                value = [item.strip() for item in raw.split(",") if item.strip()]
            overrides.setdefault(section_name, {})[key] = value
    return overrides


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def find_config_file(
    explicit: str | os.PathLike[str] | None, environ: dict[str, str], cwd: Path
) -> Path | None:
    """``--config``, else ``AFTERCARE_CONFIG``, else ``./aftercare.toml`` if present."""
    given = explicit or environ.get(f"{ENV_PREFIX}_CONFIG")
    if given:
        path = Path(given)
        if not path.is_absolute():
            path = cwd / path
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    candidate = cwd / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Read defaults, then the TOML file, then ``AFTERCARE_*`` variables; resolve paths.

    Relative paths in a file are relative to that file; otherwise to the working directory.
    """
    environ = dict(os.environ) if environ is None else environ
    cwd = cwd or Path.cwd()
    path = find_config_file(config_file, environ, cwd)
    file_values: dict[str, Any] = {}
    base = cwd
    if path is not None:
        with open(path, "rb") as handle:
            try:
                file_values = tomllib.load(handle)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        base = path.resolve().parent
        for section, key in SECRET_KEYS:
            if key in file_values.get(section, {}):
                raise ConfigError(
                    f"{path}: [{section}] {key} is a secret and is read from the environment only; "
                    f"remove it from the file and export {ENV_PREFIX}_{section.upper()}_{key.upper()}"
                )
    values = _merge(file_values, _env_overrides(environ))
    problems = None
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        problems = describe_errors(exc)
    # raised outside the handler, so pydantic's error (which holds the values) is not chained to it
    if problems is not None:
        source = f" in {path}" if path else ""
        raise ConfigError(f"invalid configuration{source}: {problems}")
    settings.paths = settings.paths.resolved(base)
    if settings.engine.spark_dir is not None:
        settings.engine.spark_dir = (base / settings.engine.spark_dir).resolve()
    return settings
