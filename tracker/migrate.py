"""Run the Alembic migrations from code (CLI, release step, tests)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from .config import normalize_database_url

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        cfg.attributes["url"] = url
    return cfg


def database_url(cfg: Config) -> str:
    """The URL given in code, else DATABASE_URL, else the embedded SQLite default."""
    url = cfg.attributes.get("url") or os.environ.get("DATABASE_URL", "").strip()
    if not url:
        from .config import load

        url = load().database_url
    return normalize_database_url(url)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
