"""Click commands `pack`, `upload`, `plugins`; cli.py registers them on the main group.

Errors are translated to messages only here (the edge): VitrinaError -> ClickException.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click

from ..errors import ConfigError, VitrinaError
from ..settings import settings_for_catalog
from .base import Marketplace


def _edge(func):
    """Turn our exceptions into a clean one-line CLI error (exit code 1)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except VitrinaError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def get_marketplace(name: str, settings) -> Marketplace:
    from .. import plugins

    found = plugins.marketplaces()
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"no marketplace plugin {name!r} (installed: {known})")
    return found[name].configured(settings)


def _catalog_dir(spec: str) -> Path | None:
    from ..catalog import is_gsheet_spec

    return None if is_gsheet_spec(spec) else Path(spec.partition("#")[0]).resolve().parent


def read_catalog(spec: str, settings):
    """(Sheet, default asset root, default out root) of a catalog."""
    from ..catalog import open_catalog

    catalog = open_catalog(spec, settings)
    return catalog.read(), catalog.default_assets, catalog.default_out


@click.command()
@click.argument("catalog")
@click.option("--marketplace", "-m", "name", required=True, help="kaspi, wildberries, ozon, ...")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Folder for the pack (default OUT/packs)."
)
@click.option("--base-url", help="Where the pack's files will be hosted (URLs in the manifests).")
@click.option("--assets", help="Asset root for Source paths: a folder or s3://BUCKET/PREFIX.")
@click.option("--config", type=click.Path(path_type=Path), help="vitrina.toml to use.")
@click.option("--workers", default=2, show_default=True, help="Render threads.")
@click.option(
    "--publish",
    is_flag=True,
    help="Upload the pack's images to the storage; manifest URLs from public_base_url.",
)
@_edge
def pack(catalog, name, out, base_url, assets, config, workers, publish):
    """Build an upload pack of CATALOG's approved rows for one marketplace."""
    from ..storage import configure, open_storage, root_location, storage_location
    from .build import build_pack
    from .publish import output_dirs, publish_base, publish_cards
    from .select import plan_check, select_items

    settings = settings_for_catalog(_catalog_dir(catalog), config)
    configure(settings)
    market = get_marketplace(name, settings)
    sheet, default_assets, default_out = read_catalog(catalog, settings)
    asset_root = root_location(assets or settings.get("assets") or default_assets)
    out_root = Path(settings.get("out") or default_out)
    storage_root = root_location(storage_location(settings, out_root))
    storage = open_storage(storage_root, settings)
    base = base_url or market.config.get("base_url", "")
    if publish:
        storage.check()
        base = publish_base(storage, market.name, base_url or "")
    check = plan_check(settings, asset_root, out_root, storage_root)
    out_dirs = output_dirs(storage_root, out_root / ".vitrina" / "cache")
    items, skipped = select_items(sheet.rows, market.name, check, storage_root, out_dirs)
    result = build_pack(items, market, Path(out or out_root / "packs"), base, skipped, workers)
    counts = result.report["counts"]
    click.echo(
        f"{result.zip_path}: {counts['cards']} card(s), {counts['files']} file(s), "
        f"{counts['skipped']} row(s) skipped, {counts['checks']} checks"
    )
    if publish:
        keys = publish_cards(storage, market.name, result.cards)
        click.echo(
            f"published {len(keys)} file(s) to {storage.url(storage.path('packs', market.name))}; URLs under {base}"
        )
    for s in result.skipped:
        click.echo(f"  skipped {s['sku'] or 'row ' + str(s['row'])}: {s['reason']}")
    if not result.cards:
        raise click.ClickException("no row made it into the pack (see the report)")


@click.command()
@click.argument("pack_path", metavar="PACK", type=click.Path(exists=True, path_type=Path))
@click.option("--marketplace", "-m", "name", required=True)
@click.option("--config", type=click.Path(path_type=Path), help="vitrina.toml with credentials.")
@click.option("--catalog", help="Write each card's result into this catalog's Message column.")
@_edge
def upload(pack_path, name, config, catalog):
    """Upload a built PACK through the marketplace's API (credentials from config)."""
    from .upload import upload_pack

    settings = settings_for_catalog(_catalog_dir(catalog) if catalog else None, config)
    market = get_marketplace(name, settings)
    results = upload_pack(pack_path, market)
    for r in results:
        click.echo(
            f"  {'ok    ' if r['ok'] else 'FAILED'} {r['sku']} ({r['card']}): {r['message']}"
        )
    if catalog:
        write_messages(catalog, settings, market.name, results)
    if not all(r["ok"] for r in results):
        raise click.ClickException(f"{sum(not r['ok'] for r in results)} card(s) failed")


def write_messages(spec: str, settings, market: str, results: list[dict]) -> None:
    from ..catalog import RowUpdate, open_catalog

    updates = [
        RowUpdate(
            r["sku"],
            {"message": f"{market} upload: {'ok' if r['ok'] else 'failed'}: {r['message']}"},
        )
        for r in results
        if r["sku"]
    ]
    report = open_catalog(spec, settings).write_back(updates)
    click.echo(f"Message written for {len(report.written)} row(s)")


def _distribution(plugin_name: str) -> str:
    """'<distribution> <version>' of an entry-point plugin; 'built-in' or 'module' otherwise."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="vitrina_sync"):
        if ep.name == plugin_name and ep.dist is not None:
            return f"{ep.dist.name} {ep.dist.version}"
    return "built-in" if plugin_name.startswith("vitrina_sync.") else "module"


@click.command(name="plugins")
@click.option("--rules/--no-rules", default=True, help="Show each marketplace's rules.")
@_edge
def plugins(rules):
    """List installed plugins, their versions and the rules each marketplace ships."""
    from .. import plugins as registry

    pm = registry.plugin_manager()
    for plugin_name, _ in sorted(pm.list_name_plugin(), key=lambda p: p[0]):
        click.echo(f"plugin {plugin_name} ({_distribution(plugin_name)})")
    for market in sorted(registry.marketplaces(pm).values(), key=lambda m: m.name):
        click.echo(f"marketplace {market.name} {market.version} ({market.title})")
        if rules:
            for r in market.rules.as_table():
                click.echo(
                    f"  {r['rule']} = {r['value']!r}  [{r['source']}, {r['date']}] {r['note']}"
                )
