"""Excel export of the growth report (XlsxWriter): directions, accounts, daily counts.

Account and department names come from administrators and imports: every text cell
goes through :func:`_texts` (the desk's one formula rule, ``desk.spreadsheets``)."""
from __future__ import annotations

import io

from flask_babel import gettext as _

from .. import labels
from ..spreadsheets import new_workbook, safe_cell
from .growth import GrowthReport


def _texts(values: list[str]) -> list[str]:
    return [safe_cell(str(v)) for v in values]


def growth_workbook(report: GrowthReport) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer, in_memory=True)
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0"})
    day_format = book.add_format({"num_format": "yyyy-mm-dd", "bold": True})

    sheet = book.add_worksheet(_("Directions")[:31])
    sheet.write_row(0, 0, _texts([_("Direction"), _("Accounts"), _("Subscribers at start"), _("Subscribers at end"),
                                  _("Growth"), _("Growth") + ", %"]), bold)
    for row, group in enumerate(report.directions, start=1):
        sheet.write_string(row, 0, safe_cell(labels.label("direction", group.direction)))
        sheet.write_number(row, 1, len(group.accounts))
        _numbers(sheet, row, 2, [group.first, group.last, group.change])
        _number(sheet, row, 5, group.percent, percent)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 5, 16)

    sheet = book.add_worksheet(_("Accounts")[:31])
    sheet.write_row(0, 0, _texts([_("Direction"), _("Account"), _("Network"), _("Department"), _("Subscribers at start"),
                                  _("Subscribers at end"), _("Growth"), _("Growth") + ", %",
                                  _("Days without a count")]), bold)
    for row, item in enumerate(report.accounts, start=1):
        account = item.account
        sheet.write_row(row, 0, _texts([labels.label("direction", account.direction), account.name,
                                        labels.label("platform", account.platform),
                                        account.department.name if account.department else ""]))
        _numbers(sheet, row, 4, [item.first, item.last, item.change])
        _number(sheet, row, 7, item.percent, percent)
        sheet.write_number(row, 8, item.gaps)
    sheet.set_column(0, 1, 32)
    sheet.set_column(2, 8, 14)

    sheet = book.add_worksheet(_("Daily")[:31])
    sheet.write_row(0, 0, _texts([_("Account"), _("Network")]), bold)
    for col, day in enumerate(report.days, start=2):
        sheet.write_datetime(0, col, day, day_format)
    for row, item in enumerate(report.accounts, start=1):
        sheet.write_row(row, 0, _texts([item.account.name, labels.label("platform", item.account.platform)]))
        for col, value in enumerate(item.values, start=2):
            if value is not None:  # a gap stays an empty cell, never a zero
                sheet.write_number(row, col, value)
    sheet.set_column(0, 0, 32)
    sheet.set_column(2, 1 + len(report.days), 11)
    book.close()
    return buffer.getvalue()


def _number(sheet, row: int, col: int, value, fmt=None) -> None:
    if value is not None:
        sheet.write_number(row, col, value, fmt)


def _numbers(sheet, row: int, col: int, values) -> None:
    for offset, value in enumerate(values):
        _number(sheet, row, col + offset, value)
