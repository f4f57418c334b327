"""An Excel workbook: an overview sheet, then one sheet per table with typed cells (numbers as numbers, yen as
¥#,##0, rates as %, dates as dates), a frozen header row and a filter."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import xlsxwriter

from bridge.analytics.render.cells import plain
from bridge.analytics.reports.base import Report

FORMATS = {"yen": "¥#,##0", "pct": "0.0%", "int": "#,##0", "qty": "#,##0.###", "float": "#,##0.00",
           "days": "#,##0.0", "date": "yyyy-mm-dd"}
_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD.sub("_", name)[:31]
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f"_{n}"
        candidate = base[:31 - len(suffix)] + suffix
        n += 1
    used.add(candidate.lower())
    return candidate


def write(path: Path, title: str, reports: Sequence[Report]) -> Path:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "remove_timezone": True})
    try:
        header = book.add_format({"bold": True, "bg_color": "#E8EEF6", "border": 1, "text_wrap": True,
                                  "valign": "top", "font_name": "Meiryo UI"})
        text_fmt = book.add_format({"font_name": "Meiryo UI"})
        formats = {kind: book.add_format({"num_format": fmt, "font_name": "Meiryo UI"})
                   for kind, fmt in FORMATS.items()}
        used: set[str] = set()
        overview = book.add_worksheet(_sheet_name("概要", used))
        overview.write_row(0, 0, ["レポート / report", "期間 / period", "要約 / summary"], header)
        overview.freeze_panes(1, 0)
        overview.set_column(0, 0, 28)
        overview.set_column(1, 1, 24)
        overview.set_column(2, 2, 90)
        for index, report in enumerate(reports, start=1):
            overview.write_string(index, 0, report.title, text_fmt)
            overview.write_string(index, 1, report.period.label(), text_fmt)
            overview.write_string(index, 2, report.summary, text_fmt)
        for report in reports:
            for table in report.tables:
                sheet = book.add_worksheet(_sheet_name(table.name, used))
                sheet.write_row(0, 0, [c.label for c in table.columns], header)
                sheet.freeze_panes(1, 0)
                for col, column in enumerate(table.columns):
                    sheet.set_column(col, col, 14 if column.kind != "text" else 20)
                for r, row in enumerate(table.rows, start=1):
                    for col, (value, column) in enumerate(zip(row, table.columns, strict=True)):
                        value = plain(value)
                        if value is None:
                            continue
                        if isinstance(value, bool):
                            sheet.write_boolean(r, col, value)
                        elif isinstance(value, (int, float)):
                            sheet.write_number(r, col, value, formats.get(column.kind, formats["float"]))
                        elif isinstance(value, (date, datetime)):
                            moment = value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                                                        value.day)
                            sheet.write_datetime(r, col, moment, formats["date"])
                        else:
                            sheet.write_string(r, col, str(value), text_fmt)
                if table.rows:
                    sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)
    finally:
        book.close()
    return path
