"""`vitrina-sync serve`: the web app in the main thread, a sync loop thread per catalog.

With no REDIS_URL it starts the embedded Redis and local workers itself, so one command serves
one machine; with REDIS_URL, workers on other machines (`vitrina-sync worker`) share the queues
and serve starts local workers only when --workers says so. SIGTERM/SIGINT: stop taking requests,
let each loop finish its cycle (and write-back), stop the local workers (their current jobs
finish), run one last cycle to write what they finished, stop the embedded Redis (its AOF keeps
whatever is still queued). Nothing finished is lost: results stay in Redis until written.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import click

log = logging.getLogger("vitrina_sync.serve")


def catalog_specs(cli_specs: tuple[str, ...], settings) -> list[str]:
    """--catalog options, else the `catalogs` setting (a TOML list or a comma list)."""
    if cli_specs:
        return list(dict.fromkeys(cli_specs))
    value = settings.get("catalogs") or []
    items = value.split(",") if isinstance(value, str) else list(value)
    return list(dict.fromkeys(s.strip() for s in items if str(s).strip()))


def load_serve_settings(specs: tuple[str, ...], config: str | None):
    """Settings of the first catalog named (vitrina.toml beside it), or --config / ./vitrina.toml."""
    from ..cli import load_for
    from ..settings import load_settings

    if specs:
        return load_for(specs[0], config)
    return load_settings(Path(config or "vitrina.toml"))


def wants_gpu_queue(settings) -> bool:
    """Only when a gpu worker can start: a GPU, or gpu_cpu_ok (tests, tiny models)."""
    from ..runner import gpu_worker_possible

    return gpu_worker_possible(settings)


def build_state(specs: list[str], settings, config, assets, out):
    """AppState with one SyncSession per catalog, all on ONE Redis; (state, embedded or None)."""
    from ..queue import EmbeddedRedis, redis_url_from_env
    from ..runner import SyncSession, work_dir
    from .state import AppState

    sessions = {}
    for spec in specs:
        own = dict(settings) if spec == specs[0] else dict(load_serve_settings((spec,), config))
        session = SyncSession(spec, type(settings)(own), assets, out)
        sessions[session.spec] = session
    first = next(iter(sessions.values()))
    url, embedded = redis_url_from_env(settings), None
    if not url:  # one embedded Redis for every catalog, so one set of workers serves them all
        embedded = EmbeddedRedis(work_dir(first.out_root)).start()
        url = embedded.url
    for session in sessions.values():
        session.settings["redis_url"] = url
        session.connect()
    state = AppState(settings, sessions, work_dir(first.out_root))
    state.embedded = embedded
    return state, embedded


def start_workers(state, count: int):
    from ..local_workers import LocalWorkers

    if count <= 0:
        return None
    queues = ["cpu"] + (["gpu"] if wants_gpu_queue(state.settings) else [])
    url = next(iter(state.sessions.values())).url
    return LocalWorkers(url, count, queues).start()


def install_signal_handlers(server) -> threading.Event:
    """SIGTERM/SIGINT stop the HTTP server; shutdown() blocks, so it runs off the main thread."""
    stopping = threading.Event()

    def handler(signum, _frame):
        if not stopping.is_set():
            stopping.set()
            log.info("signal %s: shutting down", signum)
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stopping


def shutdown(state, loops, embedded) -> None:
    from .sync import final_cycle, stop_loops

    if state.closed:
        return
    state.closed = True
    stop_loops(state, loops)
    if state.workers is not None:
        with state.workers_lock:
            state.workers.stop()
    for report in final_cycle(state):
        log.info("last write-back: %d rows", len(report.written))
    for session in state.sessions.values():
        session.close(stop_redis=False)
    if embedded is not None:
        embedded.stop()


@click.command()
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    help="catalog spec (repeatable; default: setting catalogs)",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", default=8000, show_default=True, type=int, help="0 = any free port (printed)"
)
@click.option(
    "--assets",
    type=click.Path(file_okay=False),
    help="asset root for Source paths (a folder or s3://BUCKET/PREFIX)",
)
@click.option("--out", type=click.Path(file_okay=False), help="output folder")
@click.option(
    "--workers", type=int, help="local workers (default: setting workers without REDIS_URL, else 0)"
)
@click.option("--config", type=click.Path(dir_okay=False), help="settings file")
def serve(catalogs, host, port, assets, out, workers, config):
    """Keep catalogs in step: sync loops, webhook, review pages, API and metrics."""
    from werkzeug.serving import make_server

    from . import create_app
    from .sync import start_loops

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = load_serve_settings(catalogs, config)
    specs = catalog_specs(catalogs, settings)
    if not specs:
        raise click.UsageError("no catalog: pass --catalog SPEC or set `catalogs` in the config")
    state, embedded = build_state(specs, settings, config, assets, out)
    state.config_file = Path(config) if config else None
    loops = []
    try:
        count = (
            workers
            if workers is not None
            else (int(settings.get("workers") or 2) if embedded else 0)
        )
        state.workers = start_workers(state, count)
        app = create_app(state)
        server = make_server(host, port, app, threaded=True)
        install_signal_handlers(server)
        loops += start_loops(state)
        click.echo(
            f"vitrina-sync serve: listening on http://{host}:{server.server_port} "
            f"({len(specs)} catalog(s), {count} local worker(s); "
            f"users from {app.extensions['vitrina_users'].path})",
            err=True,
        )
        server.serve_forever()
    except BaseException:
        state.stopping.set()
        raise
    finally:
        shutdown(state, loops, embedded)
        click.echo("vitrina-sync serve: stopped", err=True)
