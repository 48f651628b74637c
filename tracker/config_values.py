"""Reading one setting from the environment: typed, validated, failing with the variable's name.

tracker/config.py assembles these into Settings; each reader here raises ConfigError with a
single line that names its variable, which is all an operator sees when a process stops.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The dashboard's readers are Vietnamese businesses (issue 13): their language and their clock.
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# Shortest TRACKER_SECRET_KEY / TRACKER_FORWARD_SECRET / instance secret: 32 characters of
# token_urlsafe are 192 bits; anything much shorter may be a word someone typed.
MIN_SECRET = 32


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def _probe_cap(env: Mapping[str, str]) -> float:
    # The breaker must notice a fixed account within a minute (issue 11).
    value = _float(env, "TRACKER_PAUSE_PROBE_CAP", 30.0)
    if value > 60:
        raise ConfigError(f"TRACKER_PAUSE_PROBE_CAP must be at most 60 seconds, got {value:g}")
    return value


def flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(name, "").strip() or default
    if raw is None:
        return None
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _networks(env: Mapping[str, str], name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A comma-separated CIDR list (a bare address is a /32 or /128)."""
    out = []
    for part in filter(None, (p.strip() for p in env.get(name, "").split(","))):
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(f"{name} must be a comma-separated list of CIDR ranges, got {part!r}") from None
    return tuple(out)


def _language(env: Mapping[str, str]) -> str:
    raw = env.get("TRACKER_LANGUAGE", "").strip().lower() or DEFAULT_LANGUAGE
    if raw not in LANGUAGES:
        raise ConfigError(f"TRACKER_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {raw!r}")
    return raw


def _timezone(env: Mapping[str, str]) -> str:
    """An IANA zone name the system's time zone database knows (checked now, not on the first page)."""
    raw = env.get("TRACKER_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"TRACKER_TIMEZONE must be an IANA time zone name such as {DEFAULT_TIMEZONE}, got {raw!r}"
        ) from None
    return raw


def _old_secret(env: Mapping[str, str], current: str) -> str | None:
    old = env.get("TRACKER_SECRET_KEY_OLD", "").strip() or None
    if old is not None and (len(old) < 16 or old == current):
        raise ConfigError("TRACKER_SECRET_KEY_OLD must be at least 16 characters and differ from TRACKER_SECRET_KEY")
    return old


def private_instance(instance_dir: Path) -> Path:
    """instance/ readable by this user alone (it holds phones, raw callbacks and the secret).

    The umask is tightened for the whole process so that whatever lands there later — the
    SQLite file and its journal, spool files — is created 0600 with no window in between.
    """
    os.umask(os.umask(0o077) | 0o077)
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not ours to change (a shared mount): leave it
        if instance_dir.stat().st_mode & 0o077:
            instance_dir.chmod(0o700)
    return instance_dir


def _instance_secret(instance_dir: Path) -> str:
    """A key kept in instance/ so web and worker agree without any set-up.

    Created with O_EXCL and mode 0600 in one call (no window when others could read it, and
    two processes starting together cannot both write one); a short or empty file is refused.
    """
    path = private_instance(instance_dir) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = ""
        for _ in range(50):  # another process may have created it a moment ago and be writing
            key = path.read_text().strip()
            if key:
                break
            time.sleep(0.02)
        if len(key) < MIN_SECRET:
            raise ConfigError(
                f"TRACKER_SECRET_KEY is unset and {path} holds no secret of at least {MIN_SECRET} "
                "characters: delete the file to have one generated, or set TRACKER_SECRET_KEY"
            ) from None
        return key
    key = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _forward_secret(env: Mapping[str, str], forward_url: str | None, secret: str, old: str | None) -> str | None:
    """TRACKER_FORWARD_SECRET: required with TRACKER_FORWARD_URL, and unlike every other key.

    The forwarding receiver holds it; were it TRACKER_SECRET_KEY, the receiver could make
    valid callback URLs for any message (issue 12).
    """
    value = env.get("TRACKER_FORWARD_SECRET", "").strip() or None
    if forward_url is None:
        return value
    if value is None or len(value) < MIN_SECRET or value in (secret, old):
        raise ConfigError(
            f"TRACKER_FORWARD_SECRET is required with TRACKER_FORWARD_URL: at least {MIN_SECRET} "
            "characters, not TRACKER_SECRET_KEY (the receiver holds it)"
        )
    return value
