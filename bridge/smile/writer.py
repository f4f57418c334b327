"""Files for SMILE: one atomic file per batch (temporary name, fsync, rename), CRLF, the layout's encoding, every
value through the text guard, lengths checked per column. A batch with any refused value writes nothing.

``write_records`` renders domain records in a *read* layout (the generator, round-trip tests, fixtures).
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from bridge import metrics
from bridge.domain.time import JST, utcnow
from bridge.durable import fsync_dir
from bridge.errors import ValidationFailed
from bridge.i18n import _
from bridge.smile.layout import FileLayout
from bridge.smile.schema import schema_for
from bridge.smile.settings import SmileSettings, shipped_fields
from bridge.smile.text import normalize_header, to_halfwidth_kana
from bridge.smile.textguard import TextGuard, has_controls, strip_controls
from bridge.smile.values import format_value

log = structlog.get_logger("bridge.smile.writer")


@dataclass(frozen=True, slots=True)
class TextChange:
    row: int  # 1-based data row
    column: str
    original: str
    written: str
    reason: str  # "substituted 髙→高", "truncated to 36 halfwidth"

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason} ({self.original!r} → {self.written!r})"


@dataclass(slots=True)
class WriteReport:
    path: Path
    rows: int
    changes: list[TextChange] = field(default_factory=list)


FILE_MODE = 0o640


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    """utf-16 is written little-endian with a BOM, as SMILE's own exports are. The file is created 0640 whatever
    the umask: 受注 and label files hold customer names and addresses (owner writes, SMILE's group reads)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    raw = os.fdopen(fd, "wb")
    if encoding == "utf-16":
        raw.write(b"\xff\xfe")
        return io.TextIOWrapper(raw, encoding="utf-16-le", newline="")
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def csv_writer(stream: Any, layout: FileLayout) -> Any:
    """The csv writer of a layout. Without quoting, a quote character in a value is written as it is (SMILE reads
    it literally); a delimiter or line break in a value cannot be written and raises ``csv.Error`` (``prepare_rows``
    replaces them first)."""
    if layout.quoting == "none":
        return csv.writer(stream, delimiter=layout.delimiter, quotechar=None, quoting=csv.QUOTE_NONE,
                          lineterminator=layout.line_terminator, escapechar=None)
    return csv.writer(stream, delimiter=layout.delimiter, quotechar=layout.quotechar, quoting=layout.csv_quoting,
                      lineterminator=layout.line_terminator)



def atomic_write(path: Path, render: Any, encoding: str) -> None:
    """``render(stream)`` fills a temporary file beside ``path``; only a complete, fsynced file gets the name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open_text(temporary, encoding) as stream:
            render(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        fsync_dir(path.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# ---- outbound batches ----------------------------------------------------------------------------------------


def prepare_rows(rows: Sequence[Mapping[str, Any]], layout: FileLayout,
                 substitutions: dict[str, str]) -> tuple[list[list[str]], list[TextChange], list[str]]:
    """Rows as the file will hold them, the text changes made, and the problems that refuse the batch."""
    guard = TextGuard(layout.encoding, repertoire=layout.repertoire, substitutions=substitutions,
                      unmappable=layout.unmappable, replacement=layout.replacement)
    # Row keys match column names after width folding, like headers do (得意先ｺｰﾄﾞ = 得意先コード, 名１ = 名1). A column
    # takes the row's value under its own name, or, when it has `source` fields, under the first of them with one.
    lookups = {name: tuple(normalize_header(key) for key in (column.source or (name,)))
               for name, column in layout.columns.items()}
    known = {key for keys in lookups.values() for key in keys} | shipped_fields(layout.type)
    folded: dict[str, str] = {}  # row keys repeat on every row: each is folded once

    def fold(key: str) -> str:
        value = folded.get(key)
        if value is None:
            value = folded[key] = normalize_header(key)
        return value

    given_keys = {key for row in rows for key in row}  # the rows' distinct keys, folded once each below
    unknown = sorted(key for key in given_keys if fold(key) not in known)
    problems: list[str] = [_("column {key!r} is not in smile.files.{type}.columns").format(key=key, type=layout.type)
                           for key in unknown]
    unquoted = (layout.delimiter, "\r", "\n") if layout.quoting == "none" else ()
    unquoted_table = str.maketrans({ch: " " for ch in unquoted})
    changes: list[TextChange] = []
    out: list[list[str]] = []
    # Rows repeat their values (the customer's name on each of its lines, defaults, codes): each distinct
    # (column, text) is checked, substituted and measured once per batch.
    # a refusal is made into the operator's message with its row and column (the catalogue's wording)
    Refusal = Callable[[int, str], str]
    Cell = tuple[str, tuple[tuple[str, str, str], ...], tuple[Refusal, ...]]
    memo: dict[tuple[str, str], Cell] = {}

    def clean_cell(name: str, column: Any, text: str) -> Cell:
        made_changes: list[tuple[str, str, str]] = []
        refusals: list[Refusal] = []
        if has_controls(text):
            bare = strip_controls(text)
            made_changes.append((text, bare, "removed control characters"))
            text = bare
        cleaned, made, refused = guard.clean(text)
        if made:
            reason = "substituted " + ", ".join(f"{s.original}→{s.replacement}" for s in made)
            made_changes.append((text, cleaned, reason))
        if unquoted and any(ch in cleaned for ch in unquoted):
            # A file without quoting cannot hold its delimiter or a line break inside a value.
            flat = cleaned.translate(unquoted_table)
            made_changes.append((cleaned, flat, "replaced the delimiter or a line break with a space (no quoting)"))
            cleaned = flat
        if refused:
            encoding = f"{layout.encoding} (JIS X 0208)" if layout.repertoire == "jis_x_0208" else layout.encoding
            characters, value = "".join(refused), text
            refusals.append(lambda row, column: _(
                "row {row}, column {column}: {characters!r} cannot be written in {encoding}; add it to "
                "smile.substitutions or correct the source value {value!r}").format(
                    row=row, column=column, characters=characters, encoding=encoding, value=value))
        if column.max_length is not None and guard.length(cleaned, layout.length_unit) > column.max_length:
            size = guard.length(cleaned, layout.length_unit)
            if column.overflow == "truncate":
                cut = guard.truncate(cleaned, column.max_length, layout.length_unit)
                whole = " (cut before a number so it is not split)" \
                    if len(cut) < len(guard.truncate(cleaned, column.max_length, layout.length_unit,
                                                   keep_numbers=False)) else ""
                made_changes.append((cleaned, cut, f"truncated to {column.max_length} {layout.length_unit}{whole}"))
                cleaned = cut
            else:
                long_value, limit = cleaned, column.max_length
                refusals.append(lambda row, column_name: _(
                    "row {row}, column {column}: {value!r} is {size} {unit} long, the limit is {limit}; shorten "
                    "the source value or set overflow: truncate").format(
                        row=row, column=column_name, value=long_value, size=size, unit=layout.length_unit,
                        limit=limit))
        return cleaned, tuple(made_changes), tuple(refusals)

    # A column none of whose source keys any row carries holds its default on every row: checked once, copied.
    present = {folded[key] for key in given_keys}
    template: list[str] = []
    columns: list[tuple[int, str, Any, tuple[str, ...]]] = []  # the columns worked out row by row
    for index, (name, column) in enumerate(layout.columns.items()):
        keys = lookups[name]
        if not any(key in present for key in keys):
            text = to_halfwidth_kana(column.default) if column.halfwidth else column.default
            cell = memo[(name, text)] = clean_cell(name, column, text)
            if not cell[1] and not cell[2]:
                template.append(cell[0])
                continue
        template.append("")
        columns.append((index, name, column, keys))
    for number, given in enumerate(rows, start=1):
        row = {folded[key] if key in folded else fold(key): value for key, value in given.items()}
        cells = template.copy()
        for index, name, column, keys in columns:
            value = None
            for key in keys:
                found = row.get(key)
                if found is not None and found != "":
                    value = found
                    break
            text = column.default if value is None else value if type(value) is str else _cell_text(value, layout)
            if column.halfwidth:
                text = to_halfwidth_kana(text)
            hit = memo.get((name, text))
            if hit is None:
                hit = memo[(name, text)] = clean_cell(name, column, text)
            cleaned, made_changes, refusals = hit
            for before, after, reason in made_changes:
                changes.append(TextChange(number, name, before, after, reason))
            for refusal in refusals:
                problems.append(refusal(number, name))
            cells[index] = cleaned
        out.append(cells)
    return out, changes, problems


def _cell_text(value: Any, layout: FileLayout) -> str:
    if isinstance(value, datetime):
        return value.astimezone(JST).strftime(layout.strptime_format)
    if isinstance(value, date):
        return value.strftime(layout.strptime_format)
    if layout.decimal_places is not None and hasattr(value, "quantize") and not isinstance(value, int | bool):
        return f"{value:.{layout.decimal_places}f}"
    return str(value)


def batch_file_name(layout: FileLayout, batch: str, now: datetime | None = None) -> str:
    moment = (now or utcnow()).astimezone(JST)
    return layout.name_pattern.format(type=layout.type, timestamp=moment.strftime("%Y%m%d%H%M%S"), batch=batch)


def write_batch(rows: Sequence[Mapping[str, Any]], *, directory: Path | str, batch: str, layout: FileLayout,
                settings: SmileSettings | None = None, now: datetime | None = None) -> WriteReport:
    """Write one import file for SMILE, or raise ``ValidationFailed`` listing every refused value (no file)."""
    settings = settings or SmileSettings()
    if not rows:
        raise ValidationFailed(_("{layout}: a batch needs at least one row").format(layout=layout.label()))
    cells, changes, problems = prepare_rows(rows, layout, settings.substitutions)
    if problems:
        raise ValidationFailed(_("{layout} batch {batch}: {count} value(s) refused, no file written").format(
            layout=layout.label(), batch=batch, count=len(problems)), problems)
    path = Path(directory) / batch_file_name(layout, batch, now)
    if path.exists():
        raise ValidationFailed(_("{path} already exists; a batch id is written once").format(path=path))
    header = list(layout.columns)

    def render(stream: Any) -> None:
        writer = csv_writer(stream, layout)
        for _row in range(layout.header_rows):
            writer.writerow(header)
        writer.writerows(cells)

    atomic_write(path, render, layout.encoding)
    record_changes(layout, changes)
    return WriteReport(path=path, rows=len(cells), changes=changes)


def record_changes(layout: FileLayout, changes: Sequence[TextChange]) -> None:
    """Count and log the text guard's changes to a written file (a caller of ``prepare_rows`` that renders the
    file itself calls this once the file is written)."""
    for change in changes:
        reason = "truncated" if change.reason.startswith("truncated") else "substituted"
        metrics.SMILE_TEXT_SUBSTITUTIONS.labels(layout=layout.type, reason=reason).inc()
        log.info("smile.text_changed", layout=layout.type, row=change.row, column=change.column,
                 original=change.original, written=change.written, reason=change.reason)


# ---- domain records in a read layout ------------------------------------------------------------------------


def record_rows(file_type: str, records: Iterable[Any], layout: FileLayout,
                extra_header: Sequence[str] = ()) -> tuple[list[str] | None, Iterable[list[str]]]:
    """(header, rows) that the reader turns back into ``records``; ``extra_header`` adds blank export columns."""
    schema = schema_for(file_type)
    mapped = [(name, schema.spec(name), column) for name, column in layout.columns.items()]
    if layout.header_rows:
        header = [column.header[0] for _, _, column in mapped]
        header += [name for name in extra_header if name not in header]
        slots = list(range(len(mapped)))
        width = len(header)
    else:
        header = None
        slots = [column.position - 1 for _, _, column in mapped]  # type: ignore[operator]
        width = layout.column_count or max(slots) + 1

    def rows() -> Iterable[list[str]]:
        for record in records:
            values = schema.unbuild(record)
            cells = [""] * width
            for slot, (name, spec, column) in zip(slots, mapped, strict=True):
                text = format_value(spec, values.get(name), layout, column.false_values)
                cells[slot] = to_halfwidth_kana(text) if column.halfwidth else text
            yield cells

    return header, rows()


def write_records(path: Path, file_type: str, records: Iterable[Any], *, layout: FileLayout,
                  extra_header: Sequence[str] = ()) -> Path:
    """Write records as SMILE would export them (atomically), e.g. for the generator."""
    header, rows = record_rows(file_type, records, layout, extra_header)

    def render(stream: Any) -> None:
        writer = csv_writer(stream, layout)
        if header is not None:
            writer.writerow(header)
            for _row in range(layout.header_rows - 1):
                writer.writerow([""] * len(header))
        writer.writerows(rows)

    atomic_write(path, render, layout.encoding)
    return path
