"""Streamed CSV and XLSX exports with no row cap and bounded memory.

Rows come from the database in batches (``yield_per``: a server-side cursor on
PostgreSQL). CSV is produced by a generator while the rows are read. XLSX is written
by XlsxWriter in ``constant_memory`` mode (each row goes to disk as soon as the next
starts) into an unlinked temporary file, which is then sent in chunks.

Text cells that a spreadsheet would run as a formula are neutralised by
:mod:`desk.spreadsheets` (the rule every export shares); XLSX strings are always
written as strings, never parsed as formulas.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from flask import Response, stream_with_context

from ..i18n import gettext as _
from ..spreadsheets import new_workbook, safe_cell

CSV_FLUSH_ROWS = 500
CHUNK = 64 * 1024
DATE_FORMAT = "%Y-%m-%d %H:%M"


@dataclass
class Table:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence]  # str, int, float, bool, naive local datetime or None


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return safe_cell(str(value))


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_chunks(tables: Sequence[Table], delimiter: str = ",") -> Iterator[str]:
    """The tables one after another (a blank line and the title between them when
    there are several), with a BOM so that Excel reads UTF-8. Russian Excel expects
    ``;`` between cells (its list separator; the comma is the decimal mark)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write("\ufeff")
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                writer.writerow([])
            writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(str(h)) for h in table.headers])
        for count, row in enumerate(table.rows, 1):
            writer.writerow([csv_cell(v) for v in row])
            if count % CSV_FLUSH_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def csv_response(tables: Sequence[Table], filename: str, delimiter: str = ",") -> Response:
    return Response(stream_with_context(csv_chunks(tables, delimiter)), mimetype="text/csv",
                    headers={"Content-Disposition": _disposition(filename)},
                    content_type="text/csv; charset=utf-8")


#: characters of width per column at most (a long subject wraps in the cell instead)
MAX_WIDTH = 60
DATE_WIDTH = 16


def write_xlsx(path: str, tables: Sequence[Table]) -> None:
    """Each table on its sheet: a bold frozen header with an autofilter, columns as wide
    as what they hold, dates as dates, yes/no as words, links clickable."""
    workbook = new_workbook(path, constant_memory=True, tmpdir=os.path.dirname(path))
    try:
        formats = {"header": workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "bottom": 1}),
                   "when": workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"}),
                   "link": workbook.add_format({"font_color": "blue", "underline": 1})}
        yes, no = _("Yes"), _("No")
        for table in tables:
            sheet = workbook.add_worksheet(_sheet_name(table.title))
            widths = [len(str(h)) + 2 for h in table.headers]
            for col, header in enumerate(table.headers):
                sheet.write_string(0, col, safe_cell(str(header)), formats["header"])
            last = 0
            for row_index, row in enumerate(table.rows, 1):
                last = row_index
                for col, value in enumerate(row):
                    shown = _write(sheet, row_index, col, value, formats, yes, no)
                    if col < len(widths):
                        widths[col] = max(widths[col], min(shown, MAX_WIDTH))
            sheet.freeze_panes(1, 0)
            if table.headers:
                sheet.autofilter(0, 0, max(last, 1), len(table.headers) - 1)
            for col, width in enumerate(widths):
                sheet.set_column(col, col, width + 1)
    finally:
        workbook.close()


def _write(sheet, row: int, col: int, value, formats, yes: str, no: str) -> int:
    """Write one cell; returns how wide it shows (characters)."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        sheet.write_datetime(row, col, value, formats["when"])
        return DATE_WIDTH
    if isinstance(value, bool):
        sheet.write_string(row, col, yes if value else no)
        return len(yes if value else no)
    if isinstance(value, (int, float)):
        sheet.write_number(row, col, value)
        return len(str(value))
    text = str(value)
    if text.startswith(("https://", "http://")) and len(text) < 2000:
        sheet.write_url(row, col, text, formats["link"], string=text)
        return len(text)
    sheet.write_string(row, col, safe_cell(text))
    return len(text)


def _sheet_name(title: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return (cleaned or "Sheet")[:31]


def xlsx_response(tables: Sequence[Table], filename: str) -> Response:
    """Write the workbook to a temporary file (rows read inside this request), then
    stream that file; it is unlinked at once, so nothing is left behind."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="desk-export-")
    os.close(fd)
    try:
        write_xlsx(path, tables)
        handle = open(path, "rb")  # noqa: SIM115 — closed by the streaming generator below
    finally:
        os.unlink(path)
    size = os.fstat(handle.fileno()).st_size

    def chunks() -> Iterator[bytes]:
        with handle:
            while block := handle.read(CHUNK):
                yield block

    return Response(chunks(), headers={"Content-Disposition": _disposition(filename),
                                       "Content-Length": str(size)},
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
