from pathlib import Path

import pytest

from sources.settings import ConfigError, load_settings


def test_no_configuration_means_everything_under_data(tmp_path):
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.paths.warehouse == tmp_path / "data" / "warehouse.duckdb"
    assert settings.paths.serving == tmp_path / "data" / "serving.duckdb"
    assert settings.wechat.base_url.startswith("http://127.0.0.1")
    assert settings.wechat.dispatch_enabled is False


def test_file_then_environment_override(tmp_path):
    (tmp_path / "aftercare.toml").write_text(
        '[paths]\ndata = "store"\n[reminders]\nmax_carry_months = 5\n[oneid]\nmax_ids_per_mobile = 2\n'
    )
    env = {"AFTERCARE_ONEID_MAX_IDS_PER_MOBILE": "3", "AFTERCARE_PATHS_SERVING": "/srv/serving.duckdb"}
    settings = load_settings(environ=env, cwd=tmp_path)
    assert settings.paths.inbox == tmp_path / "store" / "inbox"
    assert settings.paths.serving == Path("/srv/serving.duckdb")
    assert settings.reminders.max_carry_months == 5
    assert settings.oneid.max_ids_per_mobile == 3


def test_a_secret_in_the_file_is_refused_with_what_to_do(tmp_path):
    (tmp_path / "aftercare.toml").write_text('[wechat]\nsecret = "abc"\n')
    with pytest.raises(ConfigError, match="AFTERCARE_WECHAT_SECRET"):
        load_settings(environ={}, cwd=tmp_path)


KEY = "s3cret-0123456789abcdefghijklmnopqrstuvwxyz"


def test_secrets_come_from_the_environment(tmp_path):
    settings = load_settings(environ={"AFTERCARE_PII_KEY": KEY}, cwd=tmp_path)
    assert settings.pii_key() == KEY.encode()


@pytest.mark.parametrize("env", ["local", "production"])
def test_a_short_pii_key_is_refused_without_showing_it(tmp_path, env):
    settings = load_settings(environ={"AFTERCARE_PII_KEY": "x", "AFTERCARE_ENV": env}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="pii.key is 1 characters long; at least 32") as refused:
        settings.pii_key()
    assert "'x'" not in str(refused.value)


def test_without_env_no_development_key_is_made(tmp_path):
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.env is None
    with pytest.raises(ConfigError, match='env = "local"'):
        settings.pii_key()
    assert not list(tmp_path.rglob("dev_pii.key"))


def test_a_local_development_key_is_made_once_readable_by_its_owner_only(tmp_path):
    import stat
    import warnings

    settings = load_settings(environ={"AFTERCARE_ENV": "local"}, cwd=tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        key = settings.pii_key()
    key_file = tmp_path / "data" / "state" / "dev_pii.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key) == 64 and settings.pii_key() == key
    assert any("development key" in str(w.message) for w in caught)


def test_a_mistyped_secret_key_is_refused_without_echoing_its_value(tmp_path):
    value = "do-not-print-me-0123456789abcdef"
    (tmp_path / "aftercare.toml").write_text(f'[wechat]\nsecrte = "{value}"\n[pii]\nkeys = "{value}"\n')
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={}, cwd=tmp_path)
    message = str(refused.value)
    assert "wechat.secrte" in message and "pii.keys" in message and "environment only" in message
    assert value not in message
    assert refused.value.__cause__ is None and value not in repr(refused.value.__context__)


def test_production_without_a_pii_key_stops(tmp_path):
    settings = load_settings(environ={"AFTERCARE_ENV": "production"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="AFTERCARE_PII_KEY"):
        settings.pii_key()


def test_unknown_keys_name_themselves(tmp_path):
    (tmp_path / "aftercare.toml").write_text("[reminders]\nmax_cary_months = 5\n")
    with pytest.raises(ConfigError, match="max_cary_months"):
        load_settings(environ={}, cwd=tmp_path)


def test_rule_parameters_reach_dbt_as_vars(tmp_path):
    from assets.transform.dbt import dbt_vars

    (tmp_path / "aftercare.toml").write_text(
        "[reminders]\nfirst_service_months = 4\n[kpi]\nlapsed_months = 18\n"
    )
    settings = load_settings(environ={}, cwd=tmp_path)
    dbt = dbt_vars(settings)
    assert dbt["first_service_months"] == 4
    assert dbt["lapsed_months"] == 18


def test_dbt_project_defaults_equal_the_configuration_defaults(tmp_path):
    """An ad-hoc ``dbt build`` (no vars passed) computes what a default run computes: the vars of
    dbt_project.yml are exactly the configuration's rule parameters, with its defaults."""
    from pathlib import Path

    import yaml

    from assets.transform.dbt import dbt_vars

    project = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
    defaults = yaml.safe_load(project.read_text())["vars"]
    run_vars = dbt_vars(load_settings(environ={}, cwd=tmp_path))
    for name, value in run_vars.items():
        assert name in defaults, f"dbt_project.yml has no default for the var {name}"
        assert defaults[name] == value, (name, defaults[name], value)
    # and no var of dbt_project.yml that the configuration does not set: it could only drift. Nor
    # the run's month: a default var would hide the value a run passes in dbt's environment
    assert set(defaults) == set(run_vars)
    assert not {"as_of_date", "report_month"} & set(defaults)


def test_kpi_parameters_reach_dbt_as_kpi_vars(tmp_path):
    from assets.transform.dbt import dbt_vars

    (tmp_path / "aftercare.toml").write_text("[kpi]\nweight_show_rate = 0.3\nalert_rate_drop = 0.05\n")
    settings = load_settings(environ={"AFTERCARE_KPI_HISTORY_MONTHS": "36"}, cwd=tmp_path)
    dbt = dbt_vars(settings)
    assert (dbt["kpi_weight_show_rate"], dbt["kpi_alert_rate_drop"], dbt["kpi_history_months"]) == (
        0.3,
        0.05,
        36,
    )
    assert "kpi_at_risk_months" not in dbt and dbt["at_risk_months"] == 6
