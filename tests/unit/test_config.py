from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_settings


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


def test_secrets_come_from_the_environment(tmp_path):
    settings = load_settings(environ={"AFTERCARE_PII_KEY": "s3cret"}, cwd=tmp_path)
    assert settings.pii_key() == b"s3cret"


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
    from pipelines.resources import RunMonth

    (tmp_path / "aftercare.toml").write_text(
        "[reminders]\nfirst_service_months = 4\n[kpi]\nlapsed_months = 18\n"
    )
    settings = load_settings(environ={}, cwd=tmp_path)
    dbt = dbt_vars(RunMonth(month="2026-03"), settings)
    assert dbt["as_of_date"] == "2026-02-28"
    assert dbt["report_month"] == "2026-03-01"
    assert dbt["first_service_months"] == 4
    assert dbt["lapsed_months"] == 18


def test_dbt_project_var_defaults_equal_the_configuration_defaults(tmp_path):
    """Every [reminders] key is a dbt var whose dbt_project.yml default is the config default, so
    an ad-hoc `dbt build` and `aftercare run` with no configuration apply the same rules."""
    import yaml

    from assets.transform.dbt import dbt_vars
    from pipelines.config import KpiConfig, RemindersConfig
    from pipelines.resources import RunMonth

    project = yaml.safe_load((Path(__file__).parents[2] / "dbt_project" / "dbt_project.yml").read_text())
    defaults = project["vars"]
    expected = {**RemindersConfig().model_dump(), "at_risk_months": KpiConfig().at_risk_months,
                "lapsed_months": KpiConfig().lapsed_months}  # fmt: skip
    assert {key: defaults.get(key) for key in expected} == expected
    passed = dbt_vars(RunMonth(month="2026-03"), load_settings(environ={}, cwd=tmp_path))
    assert set(expected) <= set(passed)
    assert {key: passed[key] for key in expected} == expected
