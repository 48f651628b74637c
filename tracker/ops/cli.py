"""The `tracker` command (Flask's CLI under the hood)."""

from __future__ import annotations

import json
import logging
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from tracker import config
from tracker.config import ConfigError
from tracker.ops import migrate


def _create_app():
    from tracker import create_app

    return create_app()


class TrackerGroup(FlaskGroup):
    """Flask's group, listing only our commands.

    FlaskGroup.list_commands loads the app to add the app's own CLI commands (we have none):
    `tracker --help` on a machine not yet configured printed a ConfigError traceback before
    the usage text. Each command still loads the app, and fails with one line, when it runs.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


@click.group(
    cls=TrackerGroup, create_app=_create_app, add_default_commands=False, add_version_option=False, load_dotenv=False
)
def cli() -> None:
    """Send Zalo ZNS journey messages through eSMS and track their delivery."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@cli.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade", with_appcontext=False)
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head). Needs only DATABASE_URL."""
    migrate.upgrade(config.database_url_from(), revision)
    click.echo(f"database upgraded to {revision}")


@db_group.command("downgrade", with_appcontext=False)
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base). Needs only DATABASE_URL."""
    migrate.downgrade(config.database_url_from(), revision)
    click.echo(f"database downgraded to {revision}")


@cli.command("send")
@click.option("--phone", required=True, help="Vietnamese mobile, any usual form")
@click.option("--template", "template_id", required=True, help="eSMS TempID")
@click.option("--oa", "oa_id", help="eSMS OAID (default: ESMS_OAID)")
@click.option("--param", "params", multiple=True, help="template parameter, in order (repeat)")
@click.option("--order", "order_id", required=True, help="journey id (eSMS OrderId)")
@click.option("--campaign", "campaign_id", help="eSMS campaignid")
@click.option("--request-id", help="idempotency key, at most 50 characters")
@click.option("--sandbox/--no-sandbox", default=None, help="validate only at eSMS")
def send_cmd(**fields) -> None:
    """Queue one journey message; the worker sends it."""
    from pydantic import ValidationError

    from tracker.db import get_session
    from tracker.schemas import NewMessage, field_errors
    from tracker.sending.queue import QueueError, queue

    fields["params"] = list(fields["params"])
    try:
        data = NewMessage.model_validate({k: v for k, v in fields.items() if v is not None})
        msg, created = queue(get_session(), current_app.config["SETTINGS"], data, source="cli")
    except ValidationError as exc:
        raise click.UsageError("; ".join(f"{k}: {v}" for k, v in field_errors(exc).items())) from None
    except QueueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(msg.to_dict(), ensure_ascii=False))
    if not created:
        click.echo("(request id seen before: nothing new was queued)", err=True)


@cli.command("worker")
@click.option("--once", is_flag=True, help="handle the messages due now, then exit")
def worker_cmd(once: bool) -> None:
    """Run the sender loop until SIGINT/SIGTERM."""
    from tracker.db import get_engine
    from tracker.worker.loop import Worker

    worker = Worker(get_engine(), current_app.config["SETTINGS"])
    if once:
        while worker.run_once():
            pass
        return
    worker.install_signal_handlers()
    worker.run()


@cli.command("reconcile")
@click.option(
    "--after",
    type=float,
    help="ask about messages non-final this many seconds "
    "(default: TRACKER_RECONCILE_AFTER); 0 asks about every open message",
)
def reconcile_cmd(after: float | None) -> None:
    """Ask eSMS once about stuck messages and apply the horizon; prints what it did."""
    from tracker.db import get_engine
    from tracker.esms.client import make_client
    from tracker.worker.reconcile import Reconciler

    settings = current_app.config["SETTINGS"]
    summary = Reconciler(get_engine(), settings, make_client(settings)).run_once(after=after)
    click.echo(json.dumps(summary.to_dict()))


@cli.command("send-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--template", "template_id", required=True, help="eSMS TempID for every row")
@click.option("--oa", "oa_id", help="eSMS OAID (default: ESMS_OAID)")
@click.option("--campaign", "campaign_id", help="eSMS campaignid")
@click.option("--sandbox/--no-sandbox", default=None, help="validate only at eSMS")
@click.option("--skip-invalid", is_flag=True, help="queue the valid rows even if some are bad")
@click.option("--wait", is_flag=True, help="follow until every message is final, not just sent")
@click.option("--timeout", type=float, help="stop following after this many seconds")
def send_csv_cmd(file: str, skip_invalid: bool, wait: bool, timeout: float | None, **options) -> None:
    """Queue one journey message per CSV row (columns: phone, order_id, params or param1..N)."""
    from pathlib import Path

    from tracker.db import get_engine
    from tracker.sending import bulk
    from tracker.sending.queue import QueueError, queue_many

    engine, settings = get_engine(), current_app.config["SETTINGS"]
    try:
        parsed = bulk.parse_csv(Path(file).read_bytes(), **options)
    except bulk.CsvError as exc:
        raise click.ClickException(str(exc)) from None
    bulk.check_templates(parsed, engine, settings)
    for error in parsed.errors:
        click.echo(str(error), err=True)
    if parsed.errors and not skip_invalid:
        raise click.ClickException(
            f"{parsed.bad_lines} bad rows; nothing was queued (fix them, or pass --skip-invalid)"
        )
    try:
        queued = queue_many(engine, settings, parsed.rows, source=bulk.SOURCE)
    except QueueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(
        f"{queued.created} queued, {queued.existing} already queued before"
        + (f", {parsed.bad_lines} bad rows skipped" if parsed.errors else ""),
        err=True,
    )
    counts = bulk.follow(engine, parsed.batch_id, len(parsed.rows), until_final=wait, timeout=timeout)
    click.echo(json.dumps({"batch": parsed.batch_id, "statuses": counts}))


@cli.command("purge")
@click.option(
    "--older-than",
    "days",
    required=True,
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="anonymise final messages that became final more than DAYS days ago",
)
def purge_cmd(days: int) -> None:
    """Remove phone numbers and params of old final messages and their events; counts stay."""
    from datetime import timedelta

    from tracker.db import get_engine
    from tracker.ops.purge import purge

    done = purge(get_engine(), timedelta(days=days))
    click.echo(f"purged {done.messages} messages and {done.events} events older than {days} days")


@cli.command("simulate", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
@click.option("--seed", type=int, help="seed for reproducible outcomes")
@click.option("--speed", default=1.0, show_default=True, type=float, help="delay multiplier (0: at once)")
def simulate_cmd(host: str, port: int, seed: int | None, speed: float) -> None:
    """Run the built-in fake eSMS."""
    from tracker.simulator import SimSettings, run_simulator

    run_simulator(host=host, port=port, settings=SimSettings(seed=seed, speed=speed))


@cli.command("dev", with_appcontext=False)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--sim-port", default=8025, show_default=True, type=int)
def dev_cmd(port: int, sim_port: int) -> None:
    """Migrate, then run web, worker and (without eSMS credentials) the simulator."""
    from tracker.ops.devrun import run_all

    sys.exit(run_all(port, sim_port))


def main() -> None:
    try:
        cli.main(prog_name="tracker")
    except ConfigError as exc:
        click.echo(f"tracker: configuration error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
