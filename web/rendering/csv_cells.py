"""The one guard for cells of the CSV files staff open in spreadsheets."""

from __future__ import annotations


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: text that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text  # never a formula when opened in a spreadsheet
    return text
