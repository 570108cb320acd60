"""Catalog adapters: open_catalog(spec) picks one by the spec's form."""

from __future__ import annotations

from pathlib import Path

from ..errors import CatalogError
from .model import Catalog, Row, RowUpdate, Sheet, WriteReport, cell_text

__all__ = ["Catalog", "Row", "RowUpdate", "Sheet", "WriteReport", "cell_text", "open_catalog"]


def is_gsheet_spec(spec: str) -> bool:
    return spec.startswith("gsheet://") or "docs.google.com/spreadsheets/" in spec


def open_catalog(spec: str, settings) -> Catalog:
    """XLSX path (optionally `file.xlsx#Sheet`), CSV path, or gsheet://<id>/<worksheet> / sheet URL."""
    if is_gsheet_spec(spec):
        from .gsheet import GoogleSheetCatalog

        return GoogleSheetCatalog.from_spec(spec, settings)
    path_text, _, sheet_name = spec.partition("#")
    path = Path(path_text)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from .xlsx import XlsxCatalog

        return XlsxCatalog(path, sheet_name or None, settings)
    if suffix == ".csv":
        from .csvfile import CsvCatalog

        return CsvCatalog(path, settings)
    raise CatalogError(f"{spec}: not a catalog (expected .xlsx, .csv or gsheet://<id>/<sheet>)")
