"""Settings, read once from the environment (``ACCOUNTABILITY_*``), typed, with defaults.

The defaults are the embedded stack on one machine; ``docker-compose.yml`` sets the
same names for production.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Final, Self
from urllib.parse import urlsplit, urlunsplit

PREFIX: Final = "ACCOUNTABILITY_"


class SettingsError(ValueError):
    """A setting with a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that never prints: database URLs with passwords, signing keys."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()

    def __bool__(self) -> bool:
        return bool(self.value)

    def masked(self) -> str:
        """The value with any password in a URL hidden, for logs and messages."""
        parts = urlsplit(self.value)
        if "://" not in self.value:
            return "**********"
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.value

    def reveal(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: Secret = Secret("")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_partitions: int = 4
    topic_replication_factor: int = 1
    topic_min_insync_replicas: int = 1
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_id: str = "accountability"
    workers: int = 1
    """Worker processes the embedded stack starts (production: ``--scale worker=N``)."""
    command_timeout_seconds: float = 10.0
    visibility_timeout_seconds: float = 5.0
    broker_timeout_seconds: float = 3.0
    projector_batch_size: int = 1000
    decider_batch_size: int = 256
    checkpoint_key_file: Path = Path("")
    checkpoint_interval_seconds: float = 300.0
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = PREFIX + f.name.upper()
            if name not in env:
                continue
            raw = env[name]
            values[f.name] = _parse(name, raw, f.type)
        settings = cls(**values)  # type: ignore[arg-type]
        if not settings.database_url:
            db = (settings.data_dir / "accountability.db").resolve()
            settings = replace(settings, database_url=Secret(f"sqlite:///{db}"))
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.checkpoint_interval_seconds <= 0:
            raise SettingsError(f"{PREFIX}CHECKPOINT_INTERVAL_SECONDS must be positive")
        if self.topic_partitions < 1:
            raise SettingsError(f"{PREFIX}TOPIC_PARTITIONS must be at least 1")
        if self.workers < 1:
            raise SettingsError(f"{PREFIX}WORKERS must be at least 1")
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise SettingsError(
                f"{PREFIX}TOPIC_MIN_INSYNC_REPLICAS ({self.topic_min_insync_replicas}) exceeds "
                f"{PREFIX}TOPIC_REPLICATION_FACTOR ({self.topic_replication_factor})"
            )
        if not self.database_url.reveal().startswith(("sqlite", "postgresql")):
            raise SettingsError(
                f"{PREFIX}DATABASE_URL must be a sqlite:// or postgresql:// URL, not "
                f"{self.database_url}"
            )

    @property
    def checkpoint_key_path(self) -> Path:
        """The checkpoint signing key's file; by default ``<data dir>/keys/…``."""
        if str(self.checkpoint_key_file) in ("", "."):
            return self.data_dir / "keys" / "checkpoint-ed25519.pem"
        return self.checkpoint_key_file

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.reveal().startswith("sqlite")

    def as_environment(self) -> dict[str, str]:
        """The settings as ``ACCOUNTABILITY_*`` variables, for child processes."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            text = value.reveal() if isinstance(value, Secret) else str(value)
            env[PREFIX + f.name.upper()] = text
        return env


def setting_names() -> list[str]:
    return [PREFIX + f.name.upper() for f in fields(Settings)]


def _parse(name: str, raw: str, kind: object) -> object:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (Path, "Path"):
            return Path(raw)
        if kind in (Secret, "Secret"):
            return Secret(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {kind}") from None
    return raw
