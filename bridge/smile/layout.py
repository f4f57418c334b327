"""One SMILE file type's shape: encoding, delimiter, quoting, header rows, column map, dates and text rules.

Shapes differ per installation (smile.md §3), so every one of them is configuration; shipped defaults live in
``bridge/smile/layouts/default.yaml``.
"""

from __future__ import annotations

import csv
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.i18n import _

Encoding = Literal["cp932", "shift_jis", "utf-16", "utf-8", "utf-8-sig"]
DELIMITERS = {"comma": ",", ",": ",", "tab": "\t", "\t": "\t", "\\t": "\t"}
DATE_FORMATS = {"YYYYMMDD": "%Y%m%d", "YYYY/MM/DD": "%Y/%m/%d"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    """Where a field sits in the file (``header`` names or a 1-based ``position``) and how it is written."""

    header: tuple[str, ...] = Field(default=(), description="Header names, any of which matches (width-folded)")
    position: int | None = Field(None, ge=1, description="1-based column number; used when there is no header")
    max_length: int | None = Field(None, ge=1, description="Longest value when writing, in the layout's length_unit")
    overflow: Literal["truncate", "refuse"] = Field("refuse", description="What a too-long value does on write")
    halfwidth: bool = Field(False, description="Write as half-width katakana/ASCII (SMILE 索引 columns)")
    default: str = Field("", description="Written when the row has no value for this column")
    source: tuple[str, ...] = Field(
        default=(), description="Written files: the row fields this column is filled from, first with a value "
        "wins, instead of the column's own name (a site's renamed column, e.g. 伝票日付 from 受注日付)",
    )
    false_values: tuple[str, ...] | None = Field(None, description="Flag columns: values that mean 'no'")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # YAML shorthands: `商品コード`, `[商品コード, 商品ｺｰﾄﾞ]`, `12`, or null for a plain output column.
        if value is None:
            return {}
        if isinstance(value, str):
            return {"header": (value,)}
        if isinstance(value, int) and not isinstance(value, bool):
            return {"position": value}
        if isinstance(value, list | tuple):
            return {"header": tuple(value)}
        if isinstance(value, dict):
            for key in ("header", "source"):
                if isinstance(value.get(key), str):
                    value = {**value, key: (value[key],)}
        return value


class FileLayout(_Strict):
    """``smile.files.<type>``: how one file type is read or written."""

    type: str = Field("", description="The file type key (products, stock …); filled from the settings key")
    title: str = Field("", description="The Japanese name of the file, for messages")
    direction: Literal["in", "out"] = "in"
    assumed: bool = Field(False, description="True while the layout is an assumption not yet confirmed by a sample")
    glob: str = Field("*.csv", description="File name pattern in the inbox")
    encoding: Encoding = "cp932"
    delimiter: str = Field(",", description="comma or tab")
    quoting: Literal["minimal", "all", "none"] = "minimal"
    quotechar: str = '"'
    header_rows: int = Field(1, ge=0, le=2, description="Rows before the data; the first one names the columns")
    column_count: int | None = Field(None, ge=1, description="Exact columns per row when there is no header")
    date_format: Literal["YYYYMMDD", "YYYY/MM/DD"] = "YYYYMMDD"
    thousands_separator: bool = Field(False, description="Accept '1,234' in number columns (quoted or TAB files)")
    decimal_places: int | None = Field(None, ge=0, le=6, description="Write numbers with this many places")
    require_final_newline: bool = Field(True, description="A last line without a line break is taken as truncated")
    allow_empty: bool = Field(False, description="Accept a file with no data rows")
    columns: dict[str, Column] = Field(default_factory=dict)
    # Writing
    name_pattern: str = Field("{type}_{timestamp}_{batch}.csv", description="Outbox file name; {type} {timestamp} {batch}")
    newline: Literal["crlf", "lf"] = "crlf"
    length_unit: Literal["bytes", "halfwidth", "chars"] = Field(
        "halfwidth", description="Unit of max_length: bytes in the encoding, half-width units, or characters"
    )
    repertoire: Literal["encoding", "jis_x_0208"] = Field(
        "encoding", description="Characters allowed on write: all the encoding holds, or only JIS X 0208"
    )
    unmappable: Literal["refuse", "replace"] = Field(
        "refuse", description="A character with no substitution: refuse the batch, or write `replacement`"
    )
    replacement: str = "〓"

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value not in DELIMITERS:
            raise ValueError(_("delimiter must be comma or tab, got {value!r}").format(value=value))
        return DELIMITERS[value]

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, value: str) -> str:
        aliases = {"sjis": "cp932", "sjis-win": "cp932", "windows-31j": "cp932", "utf-16le": "utf-16",
                   "utf8": "utf-8", "utf-8-bom": "utf-8-sig", "unicode": "utf-16"}
        return aliases.get(str(value).lower(), str(value).lower())

    @model_validator(mode="after")
    def _columns_locatable(self) -> FileLayout:
        if self.direction == "in":
            for name, column in self.columns.items():
                if column.position is None and not column.header:
                    raise ValueError(_("column {name!r} needs a header name or a position").format(name=name))
                if self.header_rows == 0 and column.position is None:
                    raise ValueError(_("column {name!r}: the file has no header row, so give a position").format(
                                         name=name))
        return self

    @property
    def csv_quoting(self) -> Literal[0, 1, 2, 3]:  # the csv module's QUOTE_* constants
        quoting: dict[str, Literal[0, 1, 2, 3]] = {
            "minimal": csv.QUOTE_MINIMAL, "all": csv.QUOTE_ALL, "none": csv.QUOTE_NONE}
        return quoting[self.quoting]

    @property
    def strptime_format(self) -> str:
        return DATE_FORMATS[self.date_format]

    @property
    def line_terminator(self) -> str:
        return "\r\n" if self.newline == "crlf" else "\n"

    def changed(self, **changes: Any) -> FileLayout:
        """A validated copy with some keys changed (``model_copy`` would skip the validators)."""
        return FileLayout.model_validate({**self.model_dump(), **changes})

    def label(self) -> str:
        return f"{self.title} ({self.type})" if self.title else self.type
