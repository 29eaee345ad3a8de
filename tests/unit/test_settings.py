"""Settings: read once from the environment, typed, secrets never printed."""

from pathlib import Path

import pytest

from accountability.services.settings import Secret, Settings, SettingsError, setting_names


def test_defaults_are_the_embedded_stack() -> None:
    settings = Settings.from_env({})

    assert settings.kafka_bootstrap_servers == "127.0.0.1:19092"
    assert settings.database_url.reveal() == f"sqlite:///{Path('var').resolve()}/accountability.db"
    assert settings.is_sqlite


def test_values_are_parsed_by_type() -> None:
    settings = Settings.from_env(
        {
            "ACCOUNTABILITY_TOPIC_PARTITIONS": "12",
            "ACCOUNTABILITY_COMMAND_TIMEOUT_SECONDS": "2.5",
            "ACCOUNTABILITY_DATA_DIR": "/srv/accountability",
            "ACCOUNTABILITY_DATABASE_URL": "postgresql://app:s3cret@db:5432/acct",
        }
    )

    assert settings.topic_partitions == 12
    assert settings.command_timeout_seconds == 2.5
    assert settings.data_dir == Path("/srv/accountability")
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param({"ACCOUNTABILITY_API_PORT": "eighty"}, "ACCOUNTABILITY_API_PORT", id="int"),
        pytest.param({"ACCOUNTABILITY_TOPIC_PARTITIONS": "0"}, "at least 1", id="partitions"),
        pytest.param(
            {"ACCOUNTABILITY_TOPIC_MIN_INSYNC_REPLICAS": "2"}, "exceeds", id="insync-above-rf"
        ),
        pytest.param({"ACCOUNTABILITY_DATABASE_URL": "mysql://x"}, "sqlite", id="database"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_a_password_never_prints() -> None:
    secret = Secret("postgresql://app:s3cret@db:5432/acct")
    settings = Settings.from_env({"ACCOUNTABILITY_DATABASE_URL": secret.reveal()})

    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.database_url)
    assert str(settings.database_url) == "postgresql://app:***@db:5432/acct"
    assert settings.as_environment()["ACCOUNTABILITY_DATABASE_URL"] == secret.reveal()


def test_every_setting_round_trips_through_the_environment() -> None:
    settings = Settings.from_env({"ACCOUNTABILITY_API_PORT": "9000"})

    environment = settings.as_environment()

    assert sorted(environment) == sorted(setting_names())
    assert Settings.from_env(environment) == settings
