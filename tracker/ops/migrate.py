"""Run the Alembic migrations from code (CLI, release step, tests).

The migration scripts live in the repository's top-level ``migrations/``; the wheel maps that
folder into the package as ``tracker/migrations`` (pyproject.toml ``package-dir``), so an
installed tracker migrates with no checkout and no ``alembic.ini`` in sight.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from tracker.config import database_url_from, normalize_database_url

PACKAGE = Path(__file__).resolve().parents[1]  # tracker/


def migrations_dir() -> Path:
    """The Alembic script folder: inside the installed package, else the checkout's."""
    installed = PACKAGE / "migrations"
    if (installed / "env.py").is_file():
        return installed
    return PACKAGE.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    # Built in code rather than read from alembic.ini: the ini is a developer's convenience
    # at the repository root and is not part of the installed product.
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.attributes["url"] = url
    return cfg


def database_url(cfg: Config) -> str:
    """The URL given in code, else DATABASE_URL, else the embedded SQLite default."""
    url = cfg.attributes.get("url")
    return normalize_database_url(url) if url else database_url_from(os.environ)


def lock_timeout_ms() -> int:
    """How long one migration statement may wait for a table lock (TRACKER_MIGRATION_LOCK_TIMEOUT, s)."""
    raw = os.environ.get("TRACKER_MIGRATION_LOCK_TIMEOUT", "").strip() or "10"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if seconds <= 0:
        from tracker.config import ConfigError

        raise ConfigError(f"TRACKER_MIGRATION_LOCK_TIMEOUT must be a positive number of seconds, got {raw!r}")
    return int(seconds * 1000)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
