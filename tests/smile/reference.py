"""The references the reader's fast paths are held to: the csv module for rows, the per-cell parsers for columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import TypeVar

from bridge.smile.layout import FileLayout

T = TypeVar("T")


def per_cell(parse: Callable[[str], T], cells: Iterable[str]) -> list[T] | None:
    """Every cell parsed on its own, or None when the parser refuses any of them."""
    values: list[T] = []
    for cell in cells:
        try:
            values.append(parse(cell))
        except ValueError:
            return None
    return values


def assert_rows_as_csv_module(text: str, layout: FileLayout,
                              rows_and_line: Callable[[], tuple[list[list[str]], int]]) -> None:
    """``rows_and_line`` gives the csv module's rows and last line number for ``text``, or its very error."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter, quotechar=layout.quotechar,
                        quoting=layout.csv_quoting, strict=True)
    expected_error = None
    try:
        expected = list(reader)
    except csv.Error as exc:
        expected_error = str(exc)
    try:
        got, line_num = rows_and_line()
    except csv.Error as exc:
        assert str(exc) == expected_error
        return
    assert expected_error is None
    assert got == expected
    assert line_num == reader.line_num
