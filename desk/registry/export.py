"""Excel export of the growth report (XlsxWriter): directions, accounts, daily counts."""
from __future__ import annotations

import io

import xlsxwriter
from flask_babel import gettext as _

from .. import labels
from .growth import GrowthReport


def growth_workbook(report: GrowthReport) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    percent = book.add_format({"num_format": "0.0"})
    day_format = book.add_format({"num_format": "yyyy-mm-dd", "bold": True})

    sheet = book.add_worksheet(_("Directions")[:31])
    sheet.write_row(0, 0, [_("Direction"), _("Accounts"), _("Subscribers at start"), _("Subscribers at end"),
                           _("Growth"), _("Growth") + ", %"], bold)
    for row, group in enumerate(report.directions, start=1):
        sheet.write_row(row, 0, [labels.label("direction", group.direction), len(group.accounts)])
        _numbers(sheet, row, 2, [group.first, group.last, group.change])
        _number(sheet, row, 5, group.percent, percent)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 5, 16)

    sheet = book.add_worksheet(_("Accounts")[:31])
    sheet.write_row(0, 0, [_("Direction"), _("Account"), _("Network"), _("Department"), _("Subscribers at start"),
                           _("Subscribers at end"), _("Growth"), _("Growth") + ", %", _("Days without a count")], bold)
    for row, item in enumerate(report.accounts, start=1):
        account = item.account
        sheet.write_row(row, 0, [labels.label("direction", account.direction), account.name,
                                 labels.label("platform", account.platform),
                                 account.department.name if account.department else ""])
        _numbers(sheet, row, 4, [item.first, item.last, item.change])
        _number(sheet, row, 7, item.percent, percent)
        sheet.write_number(row, 8, item.gaps)
    sheet.set_column(0, 1, 32)
    sheet.set_column(2, 8, 14)

    sheet = book.add_worksheet(_("Daily")[:31])
    sheet.write_row(0, 0, [_("Account"), _("Network")], bold)
    for col, day in enumerate(report.days, start=2):
        sheet.write_datetime(0, col, day, day_format)
    for row, item in enumerate(report.accounts, start=1):
        sheet.write_row(row, 0, [item.account.name, labels.label("platform", item.account.platform)])
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
