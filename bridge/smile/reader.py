"""Read one SMILE file into typed domain records, or into the complete list of what is wrong with it.

The reader never raises on bad input: every problem becomes a ``FileProblem`` naming the file, line, column and
value, with the fix. A file with any problem must not be applied at all (the inbox enforces that).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import itertools
import operator
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.i18n import Text, _, joined, verbatim
from bridge.smile import bytescan
from bridge.smile.layout import FileLayout
from bridge.smile.schema import RecordSchema, schema_for
from bridge.smile.settings import SmileSettings
from bridge.smile.text import normalize_header
from bridge.smile.values import (
    FIXES,
    ColumnParser,
    OutOfRange,
    Parser,
    column_parser_for,
    fix_for,
    parser_for,
)

_CHUNK = 4096  # rows validated together, column by column (rows that need the csv module)
_BLOCK_CHARS = 1 << 16  # characters of plain lines read, split and validated together at first
_BLOCK_ROWS = 2048  # then about this many lines a block
_BLOCK_CELLS = 4096  # … or fewer, so that a block splits into about this many cells (they must stay cached)
_BLOCK_MIN = 1 << 14
_BLOCK_MIN_ROWS = 64  # a wide file's blocks: at least this many lines (the per-block Python work stays small)
_UNIQUE_AFTER = 256  # a column mostly distinct in a chunk this long is taken as unique (codes, names)
# (a wide file's blocks of fewer lines never teach it: their columns are judged block by block, a sample of 64
# lines being too small to call a column unique for the rest of the file)
_TABLE_LIMIT = 4096  # distinct texts a repeating column's table of parsed values keeps at most
_TEXT_KINDS = frozenset({"code", "text", "plain", "kana"})
_NEVER_WRONG = frozenset({"text", "plain", "kana"})  # kinds whose parse cannot fail
MAX_PROBLEMS = 1000  # beyond this a file is clearly the wrong file; the count is still reported

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class FileProblem:
    file: str
    line: int | None
    column: str | None
    value: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column:
            parts.append(_("column {column}").format(column=self.column))
        if self.value is not None:
            parts.append(_("value {value!r}").format(value=self.value))
        return _("{where}: {message}. Fix: {fix}").format(where=", ".join(parts), message=self.message, fix=self.fix)


@dataclass(slots=True)
class ReadResult:
    path: Path
    file_type: str
    records: list[Any] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    problem_count: int = 0  # may exceed len(problems) when capped at MAX_PROBLEMS
    rows: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason): 諸口 rows, not errors
    notes: list[str] = field(default_factory=list)  # optional columns absent from the file, and the like

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, problem: FileProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def report(self) -> Text:
        lines: list[Text] = [_("{name}: {count} problem(s); nothing from this file was applied.").format(
            name=self.path.name, count=self.problem_count)]
        lines.extend(verbatim(f"- {problem}") for problem in self.problems)  # each problem is a catalogue text
        if self.problem_count > len(self.problems):
            lines.append(_("- … and {count} more problem(s) of the same kinds").format(
                count=self.problem_count - len(self.problems)))
        return joined(lines)


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    index: int
    label: str
    parse: Parser
    required: bool
    fix: str
    parse_column: ColumnParser | None = None
    title: str = ""  # the column's name as the file (or the layout) spells it
    kind: str = ""

    @property
    def textual(self) -> bool:  # an empty cell parses to "" (else to None)
        return self.kind in _TEXT_KINDS


def read_file(path: Path | str, file_type: str, settings: SmileSettings | None = None,
              layout: FileLayout | None = None, progress: Callable[[int], None] | None = None) -> ReadResult:
    """Read the whole file; ``result.ok`` says whether ``result.records`` may be applied.

    ``progress(rows)`` is called after each chunk with the data rows read so far (a CLI progress display).
    """
    settings = settings or SmileSettings()
    layout = layout or settings.layout(file_type)
    path = Path(path)
    result = ReadResult(path=path, file_type=file_type)
    # The cyclic GC would rescan the growing record list again and again (≈ 25 % of the read time); records are
    # acyclic, so it is paused for the read and restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for chunk in iter_chunks(path, file_type, result, settings=settings, layout=layout):
            result.records.extend(chunk)
            if progress is not None:
                progress(result.rows)
        if not result.ok:
            result.records.clear()  # never half a file: a caller that forgets to check ok applies nothing
    finally:
        if collecting:
            gc.enable()
    return result


def iter_records(path: Path, file_type: str, result: ReadResult, *, settings: SmileSettings,
                 layout: FileLayout) -> Iterator[Any]:
    """Stream the records of ``path``; problems accumulate in ``result`` (check ``result.ok`` at the end)."""
    return itertools.chain.from_iterable(iter_chunks(path, file_type, result, settings=settings, layout=layout))


def iter_chunks(path: Path, file_type: str, result: ReadResult, *, settings: SmileSettings,
                layout: FileLayout) -> Iterator[list[Any]]:
    """Like ``iter_records``, a list of up to a few thousand records at a time."""
    schema = schema_for(file_type)
    name = path.name

    def problem(line: int | None, message: str, fix: str, column: str | None = None, value: str | None = None) -> None:
        result.add(FileProblem(name, line, column, value, message, fix))

    try:
        size = path.stat().st_size
        with path.open("rb") as raw:
            head = raw.read(4)
            raw.seek(max(0, size - 2))
            tail = raw.read(2)
    except OSError as exc:
        problem(None, _("cannot read the file: {error}").format(error=exc.strerror or exc),
                _("check the path and the file permissions"))
        return
    if size == 0:
        problem(None, _("the file is empty"), _("export the file again from SMILE; a complete export is never empty"))
        return
    encoding = _decoding(head, layout, problem)
    if encoding is None:
        return
    if encoding != "utf-16" and not bytescan.report(bytescan.scan(path, layout.delimiter), path, layout.type,
                                                    layout.encoding, layout.newline, problem, result.notes):
        return
    if layout.require_final_newline and not _ends_with_newline(tail, encoding, head):
        problem(None, _("the last line has no line break, so the file is probably truncated or still being written"),
                _("wait until the export has finished and deliver the complete file (or a NAME.done sentinel after "
                  "it)"))
        return

    with path.open("r", encoding=encoding, newline="") as text:
        # NUL: the byte scan above has refused it in every other encoding
        reader = _RowSource(bytescan.NulRefusingText(text) if encoding == "utf-16" else text, layout)
        try:
            yield from _rows(reader, schema, layout, settings, result, problem, path)
            result.problems.sort(key=lambda p: (p.line or 0))
        except bytescan.NulCharacter as exc:
            bytescan.report_nul_character(path, encoding, exc.offset, layout.delimiter, problem)
        except UnicodeDecodeError:
            _report_decode_error(path, encoding, layout, problem)
        except csv.Error as exc:
            fix = _("check the quoting ({quote}…{quote}) of that line; every opened quote must be closed").format(
                quote=layout.quotechar)
            if "field larger than field limit" in str(exc):
                fix = _("a value is longer than {limit} characters, which no SMILE column holds: an unclosed quote "
                        "({quote}) or the wrong delimiter; check that line").format(
                    limit=f"{csv.field_size_limit():,}", quote=layout.quotechar)
            problem(reader.line_num, _("the line cannot be split into columns ({error})").format(error=exc), fix)


def _decoding(head: bytes, layout: FileLayout, problem: Any) -> str | None:
    bom = next((name for mark, name in _BOMS if head.startswith(mark)), None)
    configured = layout.encoding
    if configured == "utf-16":
        if bom != "utf-16":
            found = _("a {bom} byte order mark").format(bom=bom) if bom else _("no byte order mark")
            problem(None, _("the layout says UTF-16 with a byte order mark, but the file has {found}").format(
                found=found), _encoding_fix(layout, bom or _sniff(head)))
            return None
        return "utf-16"
    if bom == "utf-16":
        problem(None, _("the file starts with a UTF-16 byte order mark, but the layout says {encoding}").format(
            encoding=configured), _encoding_fix(layout, "utf-16"))
        return None
    if bom == "utf-8-sig":
        if configured in ("utf-8", "utf-8-sig"):
            return "utf-8-sig"
        problem(None, _("the file starts with a UTF-8 byte order mark, but the layout says {encoding}").format(
            encoding=configured), _encoding_fix(layout, "utf-8-sig"))
        return None
    return configured


def _encoding_fix(layout: FileLayout, actual: str | None) -> str:
    setting = f"smile.files.{layout.type}.encoding"
    if actual:
        return _("export the file as {encoding} again, or set {setting}: {actual}").format(
            encoding=layout.encoding, setting=setting, actual=actual)
    return _("export the file as {encoding} again, or set {setting} to the file's real encoding").format(
        encoding=layout.encoding, setting=setting)


def _sniff(data: bytes) -> str | None:
    """The encoding a BOM-less sample decodes in, for the fix text only (the layout stays the authority)."""
    for candidate in ("utf-8", "cp932"):
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None


def _ends_with_newline(tail: bytes, encoding: str, head: bytes) -> bool:
    if encoding == "utf-16":
        return tail == (b"\x00\n" if head.startswith(codecs.BOM_UTF16_BE) else b"\n\x00")
    return tail.endswith(b"\n")


def _report_decode_error(path: Path, encoding: str, layout: FileLayout, problem: Any) -> None:
    data = path.read_bytes()
    text = data.decode(encoding, errors="replace")
    position = text.find("\ufffd")
    line = text.count("\n", 0, position) + 1 if position >= 0 else None
    column = None
    if position >= 0:
        start = text.rfind("\n", 0, position) + 1
        column = str(text.count(layout.delimiter, start, position) + 1)
    actual = _sniff(data)
    if encoding == "utf-16" and len(data) % 2:
        problem(line, _("the UTF-16 file has an odd number of bytes, so it was cut off"),
                _("deliver the complete export again"))
        return
    if actual is not None and actual != layout.encoding:
        problem(line, _("the bytes are not valid {encoding}; the whole file reads as {actual}, so it was probably "
                        "exported in {actual}").format(encoding=layout.encoding, actual=actual),
                _encoding_fix(layout, actual), column=column)
        return
    try:
        data.decode(encoding)
        cut = None
    except UnicodeDecodeError as exc:
        cut = bytescan.cut_character(data, exc.start + (3 if encoding == "utf-8-sig" else 0), layout.encoding)
    if cut is not None:
        problem(line, cut, _("the file was cut or edited with a tool that splits characters: export it again from "
                             "SMILE and deliver it unchanged"), column=column)
        return
    problem(line, _("the bytes are not valid {encoding}").format(encoding=layout.encoding), _encoding_fix(layout, actual),
            column=column)


def _header_encoding(path: Path, layout: FileLayout) -> str | None:
    """Another encoding in which the header names the layout's columns: a likely wrong-encoding diagnosis."""
    with path.open("rb") as stream:
        sample = stream.read(1 << 16)
    wanted = {normalize_header(name) for column in layout.columns.values() for name in column.header}
    for candidate in ("utf-16", "utf-8-sig", "cp932"):
        if candidate.startswith(layout.encoding[:5]):
            continue
        try:
            text = sample.decode(candidate, errors="ignore")
        except UnicodeDecodeError:
            continue
        first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
        cells = {normalize_header(cell.strip('"')) for cell in first.split(layout.delimiter)}
        if len(cells & wanted) >= 2:
            return candidate.replace("-sig", "")
    return None


def known_cells(header: list[str], layout: FileLayout) -> bool:
    """Whether any cell of ``header`` is a column name the layout knows (else the row is data, not a header)."""
    wanted = {normalize_header(name) for column in layout.columns.values() for name in column.header}
    return any(normalize_header(cell) in wanted for cell in header)


def looks_like_data(row: list[str]) -> bool:
    """Half or more of the filled cells are numbers (codes, quantities, dates): a data row, not column names."""
    filled = [cell.strip().strip('"') for cell in row if cell.strip()]
    return bool(filled) and 2 * sum(cell.replace(".", "").replace("-", "").isdigit() for cell in filled) >= len(filled)


def _resolve_columns(header: list[str] | None, schema: RecordSchema, layout: FileLayout,
                     result: ReadResult, problem: Any, path: Path) -> list[_Column] | None:
    by_name: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    if header is not None:
        for position, cell in enumerate(header):
            key = normalize_header(cell)
            by_name.setdefault(key, position)
            repeated.setdefault(key, []).append(position + 1)
    columns: list[_Column] = []
    decimals: dict[tuple[Any, ...], Any] = {}  # known decimal texts, shared by columns with equal limits
    missing = False
    guess: str | None = None
    for field_name, column in layout.columns.items():
        spec = schema.spec(field_name)
        index: int | None = None
        if column.position is not None:
            index = column.position - 1
            label = f"{column.position}"
            if header is not None and index < len(header):
                label += f" ({header[index]})"
            elif column.header:
                label += f" ({column.header[0]})"
        else:
            for name in column.header:
                index = by_name.get(normalize_header(name))
                if index is not None:
                    break
            label = f"{(index or 0) + 1} ({header[index]})" if index is not None and header else column.header[0]
            if index is not None and header is not None:
                positions = repeated[normalize_header(header[index])]
                if len(positions) > 1:  # SMILE repeats some headers (コード, コード); the first one is read
                    result.notes.append(_("header {header} is in columns {columns}; column {first} is read for "
                                          "{field}").format(header=header[index], columns=", ".join(map(str, positions)),
                                                            first=positions[0], field=field_name))
        if index is None:
            if spec.required:
                missing = True
                wanted = _(" or ").join(column.header)
                fix = _("export the file with the column {column}, or map {setting} to the header the file uses "
                        "(found: {found})").format(column=column.header[0],
                                                   setting=f"smile.files.{layout.type}.columns.{field_name}",
                                                   found=", ".join(header or [])[:300])
                if guess is None:
                    guess = _header_encoding(path, layout) or ""
                if guess:
                    fix = _("the header reads correctly as {guess}, not {encoding}: set {setting}: {guess} or export "
                            "as {encoding}").format(guess=guess, encoding=layout.encoding,
                                                    setting=f"smile.files.{layout.type}.encoding")
                elif header is not None and not known_cells(header, layout) and looks_like_data(header):
                    missing = True
                    problem(1, _("line 1 is not a header row: none of its cells is a column name of the layout "
                                 "({expected}); it looks like data, so the header row is missing").format(
                                     expected=", ".join(c.header[0] for c in layout.columns.values() if c.header)[:200]),
                            _("export the file with its 項目名 (header) row; a file SMILE writes without one needs "
                              "{setting}: 0 and a position for every column").format(
                                  setting=f"smile.files.{layout.type}.header_rows"))
                    return None
                problem(layout.header_rows or None, _("the required column {column} is not in the header").format(
                    column=wanted), fix)
            else:
                result.notes.append(_("optional column {column} is not in the file").format(column=column.header[0]))
            continue
        title = header[index] if header is not None and index < len(header) else (column.header or (field_name,))[0]
        columns.append(_Column(field_name, index, label, parser_for(spec, layout, column.false_values),
                               spec.required, fix_for(spec, layout), column_parser_for(spec, layout, decimals), title,
                               spec.kind))
    return None if missing else columns


def _rows(reader: _RowSource, schema: RecordSchema, layout: FileLayout, settings: SmileSettings, result: ReadResult,
          problem: Any, path: Path) -> Iterator[list[Any]]:
    header: list[str] | None = None
    for number in range(layout.header_rows):
        row = next(iter(reader.take(1)), None)
        if row is None:
            problem(reader.line_num or None, _("the file ends inside its {count} header row(s)").format(
                count=layout.header_rows), _("export the file again with its header"))
            return
        if number == 0:
            header = row
    columns = _resolve_columns(header, schema, layout, result, problem, path)
    if columns is None:
        return
    # An optional text that no record keeps cannot be wrong (text never fails to parse): not parsed at all.
    columns = [c for c in columns if c.name not in schema.ignored or c.required or c.kind not in _NEVER_WRONG]
    width = len(header) if header is not None else layout.column_count
    misc_codes = {"product": set(settings.misc_product_codes),
                  "customer": set(settings.misc_customer_codes)}.get(schema.misc or "", set())
    state = _ChunkState(
        columns=columns, width=width, needed=max((c.index for c in columns), default=0) + 1, header=header,
        misc_codes=misc_codes, misc_field=schema.key[-1] if schema.misc == "product" else schema.key[0],
        schema=schema, result=result, problem=problem,
    )
    for lines, rows, picked in _chunks(reader, state):
        yield state.process(lines, rows, picked)
    if result.rows == 0 and not layout.allow_empty:
        problem(None, _("the file has no data rows"),
                _("export the file again; an empty export would remove everything it lists"))


class _RowSource:
    """The rows of a delimited text, ``csv.reader``'s rows exactly, a chunk at a time.

    SMILE's exports are mostly unquoted. ``take_block`` reads about a megabyte of text at once and hands back its
    whole lines when the block holds no quote character, line longer than the csv module's field limit, blank line
    or line break other than LF/CRLF: such lines split on the delimiter exactly as the csv module would split them
    (a NUL too: the csv module reads it as text since Python 3.11; ``iter_chunks`` refuses it), so the caller
    splits the whole block in one ``str.split`` (C speed) and slices its columns out. A block that fails a check is
    handed over as rows (``take``): lines are split one by one with ``str.split``, and from the first line that
    needs real CSV parsing on, the rest of the file goes through ``csv.reader`` (strict), so quoting rules and csv's
    own errors stay as they were.
    """

    def __init__(self, text: Iterator[str], layout: FileLayout, block_chars: int | None = None) -> None:
        self._text: Any = text  # a text stream opened with newline="" (lines split as the csv module splits them)
        self._delimiter = layout.delimiter
        self._quote = None if layout.csv_quoting == csv.QUOTE_NONE else layout.quotechar
        self._layout = layout
        self._reader: Any = None
        self._offset = 0  # lines split here before the csv reader took over
        self._read = 0
        self._pending: list[str] = []  # lines read ahead by a block that needs the row path
        self._carry = ""  # the start of a line a block read ahead (the rest is still in the stream)
        self._block_chars = block_chars or _BLOCK_CHARS
        self._adapt = block_chars is None
        self._line_chars = 0  # the first block's characters per line

    @property
    def line_num(self) -> int:
        return self._offset + self._reader.line_num if self._reader is not None else self._read

    def _lines(self, count: int) -> list[str]:
        if self._carry:  # complete the carried line; a lone CR inside it still ends a line, as in the stream
            self._pending.extend(io.StringIO(self._carry + self._text.readline(), newline=""))
            self._carry = ""
        if not self._pending:
            return list(itertools.islice(self._text, count))
        lines = self._pending[:count]
        del self._pending[:count]
        if len(lines) < count:
            lines.extend(itertools.islice(self._text, count - len(lines)))
        return lines

    def take(self, count: int) -> list[list[str]]:
        """Up to ``count`` rows (blank lines included, as ``[]``); an empty list at the end of the text."""
        if self._reader is not None:
            return list(itertools.islice(self._reader, count))
        lines = self._lines(count)
        if not lines:
            return []
        joined = "".join(lines)
        if (self._quote is not None and self._quote in joined) or max(map(len, lines)) > csv.field_size_limit():
            layout = self._layout
            self._offset = self._read
            rest, self._pending = self._pending, []
            self._reader = csv.reader(itertools.chain(lines, rest, self._text), delimiter=layout.delimiter,
                                      quotechar=layout.quotechar, quoting=layout.csv_quoting, strict=True)
            return list(itertools.islice(self._reader, count))
        self._read += len(lines)
        rows = list(map(operator.methodcaller("split", self._delimiter),
                        map(operator.methodcaller("rstrip", "\r\n"), lines)))
        if [""] in rows:  # an empty line: the csv module reads it as []
            rows = [row if row != [""] else [] for row in rows]
        return rows

    def fit(self, cells_per_line: int) -> None:
        """Size the next blocks so that each splits into about ``_BLOCK_CELLS`` cells (a wide file's lines are split
        into many cells: fewer lines a block keep a block's cells in the CPU's cache)."""
        if self._line_chars and cells_per_line * _BLOCK_ROWS > _BLOCK_CELLS:
            rows = max(_BLOCK_CELLS // cells_per_line, _BLOCK_MIN_ROWS)
            self._block_chars = min(max(self._line_chars * rows, _BLOCK_MIN), 1 << 20)
            self._line_chars = 0

    def take_block(self) -> tuple[PlainBlock | None, list[list[str]]]:
        """``(block, [])``: the next whole lines, each of which the csv module would split exactly as ``str.split``
        does (see the class); or ``(None, rows)`` as ``take`` gives them; ``(None, [])`` at the end of the text."""
        if self._reader is not None or self._pending:
            return None, self.take(_CHUNK)
        text = self._text.read(self._block_chars)
        if self._carry:
            text, self._carry = self._carry + text, ""
        if not text:
            return None, []
        cut = text.rfind("\n") + 1
        if cut == 0:  # no line break: the last line without one, or a line longer than the block
            self._carry = text
            return None, self.take(_CHUNK)
        block, self._carry = text[:cut], text[cut:]
        returns = block.count("\r")
        crlf = block.count("\r\n") if returns else 0
        if (self._quote is not None and self._quote in block) or returns != crlf:
            self._pending = list(io.StringIO(block, newline=""))  # a lone CR ends a line too: the row path
            return None, self.take(_CHUNK)
        lines = block.count("\n")  # a lone CR went to the row path above: every line ends in LF
        newline = "\n"
        if crlf:
            if crlf == lines:
                newline = "\r\n"
            else:  # both CRLF and LF alone (the scan notes it)
                block = block.replace("\r\n", "\n")
        plain = PlainBlock(block, newline, lines)
        # A blank line (the csv module reads []) or a line over the csv module's field limit: the row path.
        if block.startswith(newline) or newline + newline in block or (
                len(block) > csv.field_size_limit() and max(map(len, plain.lines())) > csv.field_size_limit()):
            self._pending = list(io.StringIO(block, newline=""))
            return None, self.take(_CHUNK)
        self._read += plain.count
        if self._adapt:  # about _BLOCK_ROWS lines a block: the chunk's transient cells stay in the CPU's cache
            self._adapt = False
            self._line_chars = cut // plain.count
            self._block_chars = min(max(self._line_chars * _BLOCK_ROWS, _BLOCK_MIN), 1 << 20)
        return plain, []


@dataclass(frozen=True, slots=True)
class PlainBlock:
    """``count`` whole lines, each ending in ``newline``, none blank, quoted or holding another line break."""

    text: str
    newline: str
    count: int

    def lines(self) -> list[str]:
        lines = self.text.split(self.newline)
        lines.pop()  # the empty text after the last line break
        return lines

    def columns(self, width: int, delimiter: str, indexes: Sequence[int]) -> dict[int, Sequence[str]] | None:
        """The cells of the columns at ``indexes`` when every line has ``width`` cells, else None.

        One ``split`` on the delimiter alone, no list per line and no per-line count: with ``step = width - 1``
        delimiters a line, the line breaks must all lie in the cells ``step, 2·step, … count·step`` (each then
        holds the last cell of one line and the first of the next). ``count·step + 1`` cells, and a line break in
        each of those ``count`` cells, prove it: there are only ``count`` line breaks, so each such cell holds
        exactly one and every line has exactly ``step`` delimiters.
        """
        newline, count = self.newline, self.count
        if width == 1:
            return None if delimiter in self.text else {0: self.lines()}
        cells = self.text.split(delimiter)
        step = width - 1
        if len(cells) != count * step + 1:
            return None
        edges = cells[step::step]
        if not all(map(operator.contains, edges, itertools.repeat(newline))):
            return None
        ends = newline.join(edges).split(newline)  # last cell of line 1, first of line 2, … last of the last line, ""
        del edges
        picked: dict[int, Sequence[str]] = {}
        for index in indexes:
            if index == 0:
                firsts = ends[1:-1:2]
                firsts.insert(0, cells[0])
                picked[0] = firsts
            elif index == step:
                picked[index] = ends[0::2]
            else:
                picked[index] = cells[index:count * step:step]
        return picked


Lines = list[int] | range


def _chunks(reader: _RowSource, state: _ChunkState) -> Iterator[tuple[Lines, list[list[str]] | None,
                                                                        dict[int, Sequence[str]] | None]]:
    """(line numbers, rows, None) or (line numbers, None, the mapped columns' cells) a chunk at a time, blank lines
    dropped.

    A block of plain lines whose every line has the file's width is split in one pass and its columns sliced out
    (``PlainBlock.columns``): no list per row, no transposition. Otherwise a row's line is exact because the span
    of lines a chunk covers is compared with its row count, and only a chunk with line breaks inside quoted values
    is walked.
    """
    delimiter = reader._delimiter
    last = reader.line_num
    while True:
        plain, rows = reader.take_block()
        end = reader.line_num
        if plain is not None:
            numbers = range(last + 1, end + 1)
            last = end
            width = state.width
            if width is None:
                width = plain.text[:plain.text.find(plain.newline)].count(delimiter) + 1
            picked = _block_columns(plain, width, state, reader) if width >= state.needed else None
            if picked is not None:
                state.width = width
                yield numbers, None, picked
                del picked  # dropped while its cells are still in the CPU's cache (see _block_columns)
            else:
                yield numbers, list(map(operator.methodcaller("split", delimiter), plain.lines())), None
            continue
        if not rows:
            return
        lines: list[int]
        if end - last == len(rows):
            lines = list(range(last + 1, end + 1))
        else:
            # A row spanning lines (a line break inside a quoted value) is named by the line it starts on.
            lines, line = [], last
            for row in rows:
                lines.append(line + 1)
                line += 1 + sum(cell.count("\n") for cell in row)
        last = end
        if [] in rows or [""] in rows:
            kept = [(n, row) for n, row in zip(lines, rows, strict=True) if row and row != [""]]
            if not kept:
                continue
            lines, rows = [n for n, _ in kept], [row for _, row in kept]
        yield lines, rows, None


def _block_columns(plain: PlainBlock, width: int, state: _ChunkState, reader: _RowSource
                   ) -> dict[int, Sequence[str]] | None:
    """The mapped columns' cells of a block whose every line has ``width`` cells; None when one has not.

    Every list is dropped as soon as it has served, while its items are still in the CPU's cache: a block's cells
    dropped a block later cost a cache miss each.
    """
    delimiter, needed = reader._delimiter, state.needed
    if 2 * needed > width:
        picked = plain.columns(width, delimiter, state.indexes)
        if picked is not None:
            reader.fit(width)
        return picked
    # The mapped columns come first: each line is split only that far, and only the rest of the line (its last
    # piece) is counted to prove the width.
    pieces = list(map(operator.methodcaller("split", delimiter, needed), plain.lines()))
    count_delimiters = operator.methodcaller("count", delimiter)
    rests = map(operator.itemgetter(needed), pieces)  # lazy: read only when every line has needed + 1 pieces
    if set(map(len, pieces)) != {needed + 1} or set(map(count_delimiters, rests)) != {width - 1 - needed}:
        return None
    reader.fit(needed + 1)
    columns = list(zip(*pieces))
    del pieces
    return {index: columns[index] for index in state.indexes}


@dataclass(slots=True)
class _ChunkState:
    """Validates rows a chunk at a time, column by column: one pass of C-level ``map`` per column is far cheaper
    than a Python loop over every cell, and per-row Python work is left to rows that are actually wrong."""

    columns: list[_Column]
    width: int | None
    needed: int
    header: list[str] | None
    misc_codes: set[str]
    misc_field: str
    schema: RecordSchema
    result: ReadResult
    problem: Any
    _keys: dict[Any, set[Any]] = field(default_factory=dict)
    _first: dict[tuple[Any, Any], int] | None = None
    _history: list[tuple[Lines, Sequence[Any] | None, Sequence[Any]]] = field(default_factory=list)
    _picked: Mapping[int, Sequence[str]] | None = None
    _unique: set[str] = field(default_factory=set)
    _misaligned: set[int] = field(default_factory=set)
    _varied: set[str] = field(default_factory=set)  # columns seen to hold more than one text in a full chunk
    # Per repeating column (flags, units, dates, categories …): every text seen so far → its parsed value, so a later
    # chunk is one C-level lookup pass, and only texts it has not seen are parsed.
    _tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def indexes(self) -> list[int]:
        return sorted({column.index for column in self.columns})

    def process(self, lines: Lines, rows: list[list[str]] | None, picked: dict[int, Sequence[str]] | None = None
                ) -> list[Any]:
        """Validate a chunk given as ``rows``, or as ``picked``: the mapped columns' cells of rows that all have
        the file's width."""
        problem, schema = self.problem, self.schema
        count = len(lines)
        self.result.rows += count
        bad: set[int] = set()
        if rows is None:
            rows = []
            self._picked = picked
        else:
            if self.width is None:
                self.width = len(rows[0])  # headerless without column_count: the first row sets the width
            width, needed = self.width, self.needed
            for position, row in enumerate(rows) if set(map(len, rows)) != {width} else ():
                if len(row) != width:
                    _width_problem(row, width, needed, lines[position], self.header, problem)
                    bad.add(position)
                    if len(row) < needed:
                        rows[position] = row + [""] * (needed - len(row))
            # Transpose only the mapped columns, in two C-level passes (itemgetter, zip).
            indexes = self.indexes
            picked_rows = list(map(operator.itemgetter(*indexes), rows)) if len(indexes) > 1 else None
            self._picked = dict(zip(indexes, zip(*picked_rows), strict=True)) if picked_rows else None
        self._misaligned = set(bad)
        parsed = {column.name: self._parse_column(column, lines, rows, bad) for column in self.columns}
        self._picked = None  # the cells go now, while still in the cache (see _chunks)
        for check in schema.checks:
            for position, name, message, fix in check(parsed):
                problem(lines[position], message, fix, self._label(name))
                bad.add(position)
        skip = set(bad)
        misc_column = parsed.get(self.misc_field)
        if self.misc_codes and misc_column and not self.misc_codes.isdisjoint(misc_column):
            for position, code in enumerate(misc_column):
                if code in self.misc_codes and position not in skip:
                    self.result.skipped.append((lines[position], f"諸口 code {code}"))
                    skip.add(position)
        self._duplicates(parsed, lines, skip)
        if schema.make_columns is not None:
            if skip:
                kept = [position not in skip for position in range(count)]
                parsed = {name: list(itertools.compress(values, kept)) for name, values in parsed.items()}
                count -= len(skip)
            return schema.make_columns(parsed, count)
        nothing = [None] * count
        columns = [parsed.get(name, nothing) for name in schema.names]
        if skip:
            return [schema.make(*cells) for position, cells in enumerate(zip(*columns)) if position not in skip]
        return list(itertools.starmap(schema.make, zip(*columns)))

    def _duplicates(self, parsed: dict[str, list[Any]], lines: Lines, skip: set[int]) -> None:
        # Until the file shows a duplicate, ``_keys`` holds per value of the key's leading fields (one warehouse,
        # one customer …) the set of the last field's values: a chunk is checked by one C-level ``set.update`` per
        # leading value, no key tuple and no line number per row. The first chunk that needs more (a duplicate, or
        # rows already rejected) turns on ``_first``, every key with the line it was first on, built once from the
        # chunks kept in ``_history``; from then on rows are checked one by one and each duplicate is reported.
        names = self.schema.key
        nothing = [None] * len(lines)
        last = parsed.get(names[-1], nothing)
        leading: Sequence[Any] | None = None
        if len(names) == 2:
            leading = parsed.get(names[0], nothing)
        elif len(names) > 2:
            leading = list(zip(*(parsed.get(n, nothing) for n in names[:-1])))
        if self._first is None:
            kept_lines, kept_leading, kept_last = lines, leading, last
            if skip:  # rows already rejected (or 諸口) hold no key
                kept = [position not in skip for position in range(len(lines))]
                kept_lines = list(itertools.compress(lines, kept))
                kept_last = list(itertools.compress(last, kept))
                kept_leading = None if leading is None else list(itertools.compress(leading, kept))
            groups = [None] if kept_leading is None else list(set(kept_leading))
            parts: list[tuple[Any, Sequence[Any]]] = []
            if len(groups) == 1:
                parts = [(groups[0], kept_last)]
            elif kept_leading is not None and len(groups) <= 16:
                parts = [(group, list(itertools.compress(kept_last, map(operator.eq, kept_leading,
                                                                        itertools.repeat(group)))))
                         for group in groups]
            if parts:
                self._history.append((kept_lines, kept_leading, kept_last))
                unique = True
                for group, group_values in parts:
                    keys = self._keys.setdefault(group, set())
                    before = len(keys)
                    keys.update(group_values)
                    unique = unique and len(keys) == before + len(group_values)
                if unique:
                    return
                self._history.pop()  # checked again below, row by row
        if self._first is None:
            first_lines: dict[tuple[Any, Any], int] = {}
            self._first = first_lines
            for chunk_lines, chunk_leading, chunk_last in self._history:
                groups_of = chunk_leading if chunk_leading is not None else itertools.repeat(None)
                for group, value, line in zip(groups_of, chunk_last, chunk_lines):
                    first_lines.setdefault((group, value), line)
            self._history.clear()
            self._keys.clear()
        first_lines = self._first
        for position, value in enumerate(last):
            if position in skip:
                continue
            group = leading[position] if leading is not None else None
            line = lines[position]
            first = first_lines.setdefault((group, value), line)
            if first != line:
                key = (value,) if leading is None else (group, value) if len(names) == 2 else (*(group or ()), value)
                shown = ", ".join(f"{self._title(n)} {v}" for n, v in zip(names, key, strict=True) if v is not None)
                self.problem(line, _("duplicate key {key} (first on line {first})").format(key=shown, first=first),
                             _("each key must appear once: remove or merge the repeated row in SMILE and export "
                               "again"))
                skip.add(position)

    def _title(self, name: str) -> str:
        return next((c.title for c in self.columns if c.name == name), name)

    def _label(self, name: str) -> str:
        return next((c.label for c in self.columns if c.name == name), name)

    def _parse_column(self, column: _Column, lines: Lines, rows: list[list[str]], bad: set[int]) -> list[Any]:
        # Codes, names and plain numbers have a whole-column parser (C-level passes); other repeating texts (flags,
        # dates, units) are parsed once per distinct text and spread with map(dict.__getitem__); mostly-unique ones
        # are mapped directly. The per-cell Python loop runs only for a column that holds a bad value.
        index, parse = column.index, column.parse
        cells = picked[index] if (picked := self._picked) is not None else [row[index] for row in rows]
        parsed: list[Any] | None = None
        distinct: set[str] = set()
        try:
            table = self._tables.get(column.name)
            if table is not None:
                parsed = self._parse_known(column, cells, table)
            if parsed is None and column.name not in self._varied:
                parsed = self._parse_constant(column, cells)
            if parsed is None and column.kind == "code" and column.name not in self._unique \
                    and column.parse_column is not None:
                # A code that repeats (warehouse, category): folded once per distinct text, and every row shares
                # the one string, which keeps less memory than a copy per row.
                distinct = set(cells)
                if len(distinct) * 2 <= len(cells):
                    folded = column.parse_column(list(distinct))
                    if folded is not None:
                        known = dict(zip(distinct, folded))
                        parsed = [folded[0]] * len(cells) if len(folded) == 1 else list(map(known.__getitem__, cells))
                        self._keep_table(column, known, len(cells))
                elif len(cells) >= _UNIQUE_AFTER:
                    self._unique.add(column.name)
            if parsed is None and column.parse_column is not None and (column.kind in ("code", "decimal", "jan")
                                                                       or column.name in self._unique):
                parsed = column.parse_column(cells)
            if parsed is None:
                unique = column.name in self._unique
                distinct = set() if unique else distinct or set(cells)
                if unique or len(distinct) * 2 > len(cells):
                    if len(cells) >= _UNIQUE_AFTER:
                        # Mostly distinct in a full chunk (codes, names): later chunks skip the distinct-set pass.
                        self._unique.add(column.name)
                    parsed = list(map(parse, cells))
                else:
                    known = dict(zip(distinct, map(parse, distinct)))
                    parsed = list(map(known.__getitem__, cells))
                    self._keep_table(column, known, len(cells))
        except ValueError:
            parsed = self._parse_reporting(column, lines, cells, distinct or set(cells), bad)
        if column.required and (any(map(operator.is_, parsed, itertools.repeat(None)))
                                or (column.textual and "" in parsed)):
            for position, value in enumerate(parsed):
                if (value is None or (column.textual and value == "")) and position not in bad:
                    self.problem(lines[position], _("the value is empty"), _(FIXES["required"]), column.label,
                                 cells[position])
                    bad.add(position)
        return parsed

    def _keep_table(self, column: _Column, known: dict[str, Any], count: int) -> None:
        if count >= _UNIQUE_AFTER and len(known) <= _TABLE_LIMIT and column.name not in self._unique:
            self._tables[column.name] = known

    def _parse_known(self, column: _Column, cells: Sequence[str], table: dict[str, Any]) -> list[Any] | None:
        """The column through its table of known texts, the texts not yet in it parsed and added; None (and the
        table dropped) when the column turns out not to repeat. A ValueError is left to the caller's reporting."""
        try:
            return list(map(table.__getitem__, cells))
        except KeyError:
            pass
        new = set(cells).difference(table)
        if len(table) + len(new) > _TABLE_LIMIT:
            del self._tables[column.name]
            return None
        texts = list(new)
        values = column.parse_column(texts) if column.kind == "code" and column.parse_column is not None else None
        table.update(zip(texts, values if values is not None else map(column.parse, texts)))
        return list(map(table.__getitem__, cells))

    def _parse_constant(self, column: _Column, cells: Sequence[str]) -> list[Any] | None:
        """A column with one text in every row (the warehouse, 操作日付, an unused column): that text parsed once and
        shared by all rows; None when the column varies (a full chunk that varies marks it ``_varied``, so later
        chunks skip the look) or the text needs the other paths (a ValueError is left to the caller's reporting)."""
        if not cells or cells[0] != cells[-1] or cells.count(cells[0]) != len(cells):
            if len(cells) >= _UNIQUE_AFTER:
                self._varied.add(column.name)
            return None
        if column.parse_column is not None and column.kind in ("code", "decimal", "jan"):
            one = column.parse_column([cells[0]])
            return None if one is None else one * len(cells)
        return [column.parse(cells[0])] * len(cells)

    def _parse_reporting(self, column: _Column, lines: Lines, cells: Any, distinct: set[str],
                         bad: set[int]) -> list[Any]:
        table: dict[str, Any] = {}
        errors: dict[str, tuple[str, str]] = {}
        for cell in distinct:
            try:
                table[cell] = column.parse(cell)
            except ValueError as exc:
                errors[cell] = (str(exc), _(FIXES["range"]) if isinstance(exc, OutOfRange) else column.fix)
                table[cell] = None
        for position, cell in enumerate(cells):
            if cell in errors and position not in self._misaligned:  # a shifted row's cells mean nothing
                message, fix = errors[cell]
                self.problem(lines[position], message, fix, column.label, cell)
                bad.add(position)
        return list(map(table.__getitem__, cells))


def _width_problem(row: list[str], width: int, needed: int, line: int, header: list[str] | None,
                   problem: Any) -> None:
    if len(row) > width:
        problem(line, _("the row has {count} columns, {extra} more than the {width} expected").format(
                    count=len(row), extra=len(row) - width, width=width),
                _("remove the extra column(s), or check the delimiter and that commas inside values are quoted"),
                str(width + 1), row[width][:40])
        return
    after = f" ({header[len(row) - 1]})" if header and 0 < len(row) <= len(header) else ""
    problem(line, _("the row has {count} columns, {missing} fewer than the {width} expected").format(
                count=len(row), missing=width - len(row), width=width),
            _("the line is cut short (truncated file, or a line break inside an unquoted value): export again"),
            f"{len(row)}{after}", None)


def stat_signature(path: Path) -> tuple[int, int]:
    """(size, mtime_ns): what the inbox watches to decide that a file is complete."""
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns
