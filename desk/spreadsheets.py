"""What every spreadsheet the desk exports (CSV or XLSX) does to text it did not write.

Residents write the subjects and author names; accounts' names come from imports. A
cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel and LibreOffice when the file is opened (CSV injection), so such text
is prefixed with an apostrophe, which both show as plain text. XLSX workbooks are also
made with XlsxWriter's string-to-formula and string-to-link conversions off.
"""
from __future__ import annotations

from typing import IO

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def safe_cell(value: str) -> str:
    """Text as a spreadsheet must show it, never run it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def new_workbook(target: str | IO[bytes], **options) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook that writes every string as a string."""
    return xlsxwriter.Workbook(target, {**options, **WORKBOOK_OPTIONS})
