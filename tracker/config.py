"""Settings read from the environment, failing fast with the variable's name."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The readers of single variables live beside this module; their names stay importable from
# here, where the rest of the tracker looks for its settings.
from tracker.config_values import (  # noqa: F401
    DEFAULT_LANGUAGE,
    DEFAULT_TIMEZONE,
    LANGUAGES,
    MIN_SECRET,
    ConfigError,
    _float,
    _forward_secret,
    _instance_secret,
    _int,
    _language,
    _networks,
    _old_secret,
    _probe_cap,
    _timezone,
    _url,
    flag,
    private_instance,
)

DEFAULT_ESMS_BASE_URL = "https://rest.esms.vn/MainService.svc/json"
DEFAULT_ESMS_STATUS_URL = "https://status-sms.esms.vn"
DEFAULT_SIMULATOR_URL = "http://127.0.0.1:8025"
# What the tracker presents to the built-in simulator; it accepts any pair.
SIMULATOR_CREDENTIALS = ("simulator", "simulator")


@dataclass(frozen=True)
class Settings:
    database_url: str
    esms_api_key: str = field(repr=False)
    esms_secret_key: str = field(repr=False)
    esms_base_url: str
    esms_status_url: str
    esms_sandbox: bool
    esms_oaid: str | None
    public_url: str
    secret_key: str = field(repr=False)
    webhook_token: str | None = field(repr=False)
    api_tokens: tuple[str, ...] = field(repr=False)
    dashboard_password: str | None = field(repr=False)
    reconcile_after: int
    forward_url: str | None
    simulator_mode: bool
    instance_dir: Path
    max_body: int = 1024 * 1024
    send_timeout: float = 10.0
    lease_seconds: int = 30
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    worker_threads: int = 16
    # Threads of the worker's duties beside sending (each may hold a database connection, so
    # tracker/db.py sizes the pool from them): forwarding deliveries, reconciliation queries.
    forward_threads: int = 4
    reconcile_threads: int = 8
    allow_open: bool = False
    # Issue 4: reconciliation, outage spool, send rate, forwarding.
    reconcile_horizon: int = 72 * 3600
    reconcile_interval: float = 60.0
    send_rate: int = 50
    spool_enabled: bool = True
    forward_max_attempts: int = 12
    # Issue 11: the account/OA circuit breaker probes at base·2^n seconds, capped (≤ 60 s).
    pause_probe_base: float = 1.0
    pause_probe_cap: float = 30.0
    # Issue 6: secret rotation, webhook allow-list, proxies in front of the app.
    secret_key_old: str | None = field(default=None, repr=False)
    webhook_allowed_ips: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    proxy_hops: int = 0
    # Issue 12: forwarding signed with a key of its own; the outage spool's size cap.
    forward_secret: str | None = field(default=None, repr=False)
    spool_max_bytes: int = 1 << 30
    # The dashboard: rows on one list page, and how often an open page asks for fresh numbers.
    dashboard_page_size: int = 50
    dashboard_poll_ms: int = 3000
    # Issue 11: Params checked against eSMS's template listing (tracker/sending/templates.py).
    template_ttl: int = 600
    template_timeout: float = 2.0
    # Issue 11: balance and quotas read every account_refresh seconds; the overview warns below low_balance (VND).
    low_balance: int = 100_000
    account_refresh: float = 300.0
    # Issue 13: the dashboard's language when the reader has not chosen one, and its time zone.
    language: str = DEFAULT_LANGUAGE
    timezone: str = DEFAULT_TIMEZONE

    @property
    def api_open(self) -> bool:
        """The API needs no token only when nothing real can be sent."""
        return not self.api_tokens and (self.simulator_mode or self.allow_open)


def normalize_database_url(url: str) -> str:
    """Map ``postgres://`` and bare ``postgresql://`` onto the installed psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_dir_from(env: Mapping[str, str]) -> Path:
    return Path(env.get("TRACKER_INSTANCE_DIR", "") or Path.cwd() / "instance").resolve()


def database_url_from(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL mapped to the installed driver, else the SQLite file in instance/.

    All that `tracker db upgrade` needs: a release step runs without eSMS credentials.
    """
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        instance_dir = private_instance(instance_dir_from(env))
        path = instance_dir / "tracker.db"
        with contextlib.suppress(OSError):  # made readable to all by an earlier version
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        url = f"sqlite:///{path}"
    if not url.startswith(("sqlite", "postgres")):
        raise ConfigError(f"DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url.split(':')[0]}://…")
    return normalize_database_url(url)


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting; raise ConfigError naming the first bad variable."""
    env = os.environ if env is None else env
    instance_dir = instance_dir_from(env)

    api_key = env.get("ESMS_API_KEY", "").strip()
    secret = env.get("ESMS_SECRET_KEY", "").strip()
    # Simulator mode is asked for, never inferred: a deploy that forgot its eSMS keys must not
    # come up open and sending nothing (issue 9).
    simulator_mode = flag(env, "TRACKER_SIMULATOR")
    if simulator_mode:
        if api_key or secret:
            raise ConfigError(
                "TRACKER_SIMULATOR=1 sends nothing real: unset it, or unset ESMS_API_KEY and ESMS_SECRET_KEY"
            )
        api_key, secret = SIMULATOR_CREDENTIALS
        sim = _url(env, "TRACKER_SIMULATOR_URL", DEFAULT_SIMULATOR_URL)
        base_default, status_default = f"{sim}/MainService.svc/json", sim
    else:
        if not api_key or not secret:
            missing = "ESMS_SECRET_KEY" if api_key else "ESMS_API_KEY"
            raise ConfigError(
                f"{missing} is required (eSMS credentials; or set TRACKER_SIMULATOR=1 to use the built-in simulator)"
            )
        base_default, status_default = DEFAULT_ESMS_BASE_URL, DEFAULT_ESMS_STATUS_URL

    tracker_secret = env.get("TRACKER_SECRET_KEY", "").strip()
    if not tracker_secret:
        if not simulator_mode:
            raise ConfigError(
                f"TRACKER_SECRET_KEY is required outside simulator mode (at least {MIN_SECRET} characters)"
            )
        tracker_secret = _instance_secret(instance_dir)
    elif len(tracker_secret) < MIN_SECRET:
        raise ConfigError(f"TRACKER_SECRET_KEY must be at least {MIN_SECRET} characters")
    old_secret = _old_secret(env, tracker_secret)
    forward_url = _url(env, "TRACKER_FORWARD_URL", None)

    database_url = database_url_from(env)

    tokens = tuple(t.strip() for t in env.get("TRACKER_API_TOKENS", "").split(",") if t.strip())
    allow_open = flag(env, "TRACKER_ALLOW_OPEN")
    if not simulator_mode and not tokens and not allow_open:
        raise ConfigError("TRACKER_API_TOKENS is required outside simulator mode (or set TRACKER_ALLOW_OPEN=1)")
    password = env.get("TRACKER_DASHBOARD_PASSWORD") or None
    if not simulator_mode and not password and not allow_open:
        raise ConfigError("TRACKER_DASHBOARD_PASSWORD is required outside simulator mode (or set TRACKER_ALLOW_OPEN=1)")

    return Settings(
        database_url=database_url,
        esms_api_key=api_key,
        esms_secret_key=secret,
        esms_base_url=_url(env, "ESMS_BASE_URL", base_default),
        esms_status_url=_url(env, "ESMS_STATUS_URL", status_default),
        esms_sandbox=flag(env, "ESMS_SANDBOX"),
        esms_oaid=env.get("ESMS_OAID", "").strip() or None,
        public_url=_url(env, "TRACKER_PUBLIC_URL", "http://127.0.0.1:8000"),
        secret_key=tracker_secret,
        webhook_token=env.get("TRACKER_WEBHOOK_TOKEN", "").strip() or None,
        api_tokens=tokens,
        dashboard_password=password,
        reconcile_after=_int(env, "TRACKER_RECONCILE_AFTER", 900, minimum=1),
        forward_url=forward_url,
        simulator_mode=simulator_mode,
        instance_dir=instance_dir,
        max_body=_int(env, "TRACKER_MAX_BODY", 1024 * 1024, minimum=1024),
        send_timeout=_float(env, "TRACKER_SEND_TIMEOUT", 10.0),
        lease_seconds=_int(env, "TRACKER_LEASE_SECONDS", 30, minimum=1),
        max_attempts=_int(env, "TRACKER_MAX_ATTEMPTS", 8, minimum=1),
        backoff_base=_float(env, "TRACKER_BACKOFF_BASE", 2.0),
        backoff_cap=_float(env, "TRACKER_BACKOFF_CAP", 300.0),
        worker_threads=_int(env, "TRACKER_WORKER_THREADS", 16, minimum=1),
        allow_open=allow_open,
        reconcile_horizon=_int(env, "TRACKER_RECONCILE_HORIZON", 72 * 3600, minimum=1),
        reconcile_interval=_float(env, "TRACKER_RECONCILE_INTERVAL", 60.0),
        send_rate=_int(env, "TRACKER_SEND_RATE", 50, minimum=0),
        spool_enabled=flag(env, "TRACKER_SPOOL") if env.get("TRACKER_SPOOL", "").strip() else True,
        forward_max_attempts=_int(env, "TRACKER_FORWARD_MAX_ATTEMPTS", 12, minimum=1),
        pause_probe_base=_float(env, "TRACKER_PAUSE_PROBE_BASE", 1.0),
        pause_probe_cap=_probe_cap(env),
        secret_key_old=old_secret,
        forward_secret=_forward_secret(env, forward_url, tracker_secret, old_secret),
        spool_max_bytes=_int(env, "TRACKER_SPOOL_MAX_BYTES", 1 << 30, minimum=0),
        webhook_allowed_ips=_networks(env, "TRACKER_WEBHOOK_ALLOWED_IPS"),
        proxy_hops=_int(env, "TRACKER_PROXY_HOPS", 0),
        template_ttl=_int(env, "TRACKER_TEMPLATE_TTL", 600),
        template_timeout=_float(env, "TRACKER_TEMPLATE_TIMEOUT", 2.0),
        low_balance=_int(env, "TRACKER_LOW_BALANCE", 100_000, minimum=0),
        account_refresh=_float(env, "TRACKER_ACCOUNT_REFRESH", 300.0),
        language=_language(env),
        timezone=_timezone(env),
    )
