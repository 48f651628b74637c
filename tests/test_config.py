"""Settings from the environment: defaults, URL mapping, and failing fast with the variable's name."""

import pytest

from tracker.config import ConfigError, database_url_from, load, normalize_database_url

REAL = {
    "ESMS_API_KEY": "k",
    "ESMS_SECRET_KEY": "s",
    "TRACKER_SECRET_KEY": "x" * 32,
    "TRACKER_API_TOKENS": "t1",
    "TRACKER_DASHBOARD_PASSWORD": "pw",
}


SIM = {"TRACKER_SIMULATOR": "1"}


def env(tmp_path, **kw):
    return {"TRACKER_INSTANCE_DIR": str(tmp_path), **kw}


def test_defaults_are_the_embedded_simulator_setup(tmp_path):
    s = load(env(tmp_path, **SIM))
    assert s.simulator_mode and s.database_url == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert s.esms_base_url == "http://127.0.0.1:8025/MainService.svc/json"
    assert s.public_url == "http://127.0.0.1:8000" and s.reconcile_after == 900 and s.api_open
    assert s.max_body == 1024 * 1024 and s.max_attempts == 8 and s.lease_seconds == 30 and s.send_timeout == 10
    # The generated secret is kept in instance/ so web and worker agree.
    assert load(env(tmp_path, **SIM)).secret_key == s.secret_key and len(s.secret_key) >= 32


def test_missing_credentials_never_mean_simulator_mode(tmp_path):
    """A deploy that forgot ESMS_API_KEY stops, naming it and the explicit switch (issue 9)."""
    for environment in (
        {},
        {"DATABASE_URL": "postgresql://db/prod", "TRACKER_SECRET_KEY": "x" * 32},
        {"TRACKER_SIMULATOR": "0"},
    ):
        with pytest.raises(ConfigError) as exc:
            load(env(tmp_path, **environment))
        assert str(exc.value).startswith("ESMS_API_KEY is required") and "TRACKER_SIMULATOR=1" in str(exc.value)


def test_simulator_mode_with_real_credentials_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_SIMULATOR=1"):
        load(env(tmp_path, **REAL, **SIM))


def test_database_url_alone_is_enough_for_migrations(tmp_path):
    """`tracker db upgrade` (the release step) reads only DATABASE_URL: no eSMS keys needed."""
    assert database_url_from(env(tmp_path, DATABASE_URL="postgres://u@h/db")) == "postgresql+psycopg://u@h/db"
    assert database_url_from(env(tmp_path)) == f"sqlite:///{tmp_path / 'tracker.db'}"
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        database_url_from(env(tmp_path, DATABASE_URL="mysql://x/y"))


def test_real_credentials_use_the_real_esms_hosts(tmp_path):
    s = load(env(tmp_path, **REAL))
    assert not s.simulator_mode and not s.api_open
    assert s.esms_base_url == "https://rest.esms.vn/MainService.svc/json"
    assert s.esms_status_url == "https://status-sms.esms.vn"


@pytest.mark.parametrize(
    "url,want",
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_mapping(url, want):
    assert normalize_database_url(url) == want


@pytest.mark.parametrize(
    "changes,variable",
    [
        ({"ESMS_API_KEY": "k"}, "ESMS_SECRET_KEY"),
        ({"ESMS_SECRET_KEY": "s"}, "ESMS_API_KEY"),
        ({**REAL, "TRACKER_SECRET_KEY": ""}, "TRACKER_SECRET_KEY"),
        ({**REAL, "TRACKER_SECRET_KEY": "short"}, "TRACKER_SECRET_KEY"),
        ({**REAL, "TRACKER_API_TOKENS": ""}, "TRACKER_API_TOKENS"),
        ({**REAL, "TRACKER_DASHBOARD_PASSWORD": ""}, "TRACKER_DASHBOARD_PASSWORD"),
        ({**SIM, "TRACKER_RECONCILE_AFTER": "soon"}, "TRACKER_RECONCILE_AFTER"),
        ({**SIM, "TRACKER_RECONCILE_AFTER": "0"}, "TRACKER_RECONCILE_AFTER"),
        ({**SIM, "ESMS_SANDBOX": "maybe"}, "ESMS_SANDBOX"),
        ({**SIM, "TRACKER_LOW_BALANCE": "-1"}, "TRACKER_LOW_BALANCE"),
        ({**SIM, "TRACKER_LOW_BALANCE": "50.000"}, "TRACKER_LOW_BALANCE"),
        ({**SIM, "TRACKER_ACCOUNT_REFRESH": "0"}, "TRACKER_ACCOUNT_REFRESH"),
        ({**SIM, "ESMS_BASE_URL": "rest.esms.vn"}, "ESMS_BASE_URL"),
        ({**SIM, "TRACKER_PUBLIC_URL": "ftp://x"}, "TRACKER_PUBLIC_URL"),
        ({**SIM, "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"TRACKER_SIMULATOR": "yes please"}, "TRACKER_SIMULATOR"),
        ({}, "ESMS_API_KEY"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, changes, variable):
    with pytest.raises(ConfigError) as exc:
        load(env(tmp_path, **changes))
    assert variable in str(exc.value) and "\n" not in str(exc.value)


def test_low_balance_and_account_refresh(tmp_path):
    s = load(env(tmp_path, **SIM))
    assert (s.low_balance, s.account_refresh) == (100_000, 300.0)
    s = load(env(tmp_path, **SIM, TRACKER_LOW_BALANCE="2500000", TRACKER_ACCOUNT_REFRESH="60"))
    assert (s.low_balance, s.account_refresh) == (2_500_000, 60.0)


def test_allow_open_lifts_the_token_and_password_requirement(tmp_path):
    s = load(
        env(tmp_path, **{**REAL, "TRACKER_API_TOKENS": "", "TRACKER_DASHBOARD_PASSWORD": "", "TRACKER_ALLOW_OPEN": "1"})
    )
    assert s.api_open


def test_secrets_stay_out_of_repr(tmp_path):
    s = load(env(tmp_path, **REAL))
    text = repr(s)
    assert "x" * 32 not in text and "'pw'" not in text and "t1" not in text and "ESMS" not in text


def test_language_and_time_zone_default_to_vietnam(tmp_path):
    s = load(env(tmp_path, **SIM))
    assert (s.language, s.timezone) == ("vi", "Asia/Ho_Chi_Minh")
    s = load(env(tmp_path, **SIM, TRACKER_LANGUAGE="EN", TRACKER_TIMEZONE="America/Sao_Paulo"))
    assert (s.language, s.timezone) == ("en", "America/Sao_Paulo")


@pytest.mark.parametrize(
    "changes,variable",
    [
        ({"TRACKER_TIMEZONE": "Asia/Hanoi"}, "TRACKER_TIMEZONE"),  # not an IANA name
        ({"TRACKER_TIMEZONE": "+07:00"}, "TRACKER_TIMEZONE"),
        ({"TRACKER_TIMEZONE": "../../etc/passwd"}, "TRACKER_TIMEZONE"),
        ({"TRACKER_TIMEZONE": "zone.tab"}, "TRACKER_TIMEZONE"),  # a file of the database, not a zone
        ({"TRACKER_LANGUAGE": "fr"}, "TRACKER_LANGUAGE"),
    ],
)
def test_bad_language_or_time_zone_stops_the_start(tmp_path, changes, variable):
    with pytest.raises(ConfigError) as exc:
        load(env(tmp_path, **SIM, **changes))
    assert str(exc.value).startswith(variable) and "\n" not in str(exc.value)
