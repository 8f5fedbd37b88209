"""Reading the rows of an import file a city hands over: JSON, CSV (Excel's ``;`` or
``,``) or XLSX, each row as a dict (dotted headers such as ``telegram.bot_token`` nested),
with the row number a person sees in the file. The accounts and the departments imports
share it."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def unflatten(flat: dict) -> dict:
    """``{"telegram.bot_token": "x"}`` → ``{"telegram": {"bot_token": "x"}}``; empty cells dropped."""
    row: dict = {}
    for key, value in flat.items():
        if key is None or empty(value):
            continue
        key = str(key).strip()
        if "." in key:
            section, name = key.split(".", 1)
            row.setdefault(section.strip(), {})[name.strip()] = value
        else:
            row[key] = value.strip() if isinstance(value, str) else value
    return row


def read_rows(path: str | Path, list_key: str) -> list[tuple[int, dict]]:
    """(row number as a person sees it in the file, row as nested dict). A JSON file holds
    a list of objects, or an object with that list under ``list_key``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(data, dict):
            data = data.get(list_key, [])
        if not isinstance(data, list):
            raise ValueError(f"the JSON file must hold a list of {list_key}")
        return [(i, item if isinstance(item, dict) else {"__invalid__": item}) for i, item in enumerate(data, 1)]
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = fh.readline()
            fh.seek(0)
            # Excel in a Russian locale saves with ";": take the separator the header uses most.
            delimiter = max(",;\t", key=header.count)
            reader = csv.DictReader(fh, delimiter=delimiter)
            return [(reader.line_num, unflatten(r)) for r in reader if any(not empty(v) for v in r.values())]
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        columns = [str(h).strip() if h is not None else None for h in next(rows, [])]
        out = []
        for number, values in enumerate(rows, 2):
            if all(empty(v) for v in values):
                continue
            out.append((number, unflatten(dict(zip(columns, values, strict=False)))))
        return out
    raise ValueError(f"unknown file type {suffix or '(none)'}: use .json, .csv or .xlsx")
