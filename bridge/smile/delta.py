"""Read a SMILE snapshot file by parsing only the lines the previous file of its type did not have.

SMILE exports a full snapshot every time (the whole 在庫 file, 100,000+ rows) while only a few rows change between
two files. ``LineMemo`` keeps, for one file type, the previous file's raw lines and the record each one became;
the next file is split into raw lines, the lines seen before take their remembered record, and only the new lines
go through ``read_file`` (in a small file of their own, with the same header). The result is the ``ReadResult``
a full ``read_file`` gives for the same file — same records in the same order, same skipped rows and notes.

Whenever the shortcut could differ from a full read, the full read runs instead (and its result is what counts):
no previous file or other settings, UTF-16, another header, a file not ending in a line break, a line that is
blank, repeated, has an unbalanced quote (a value spanning lines), any problem in the new lines, or a new row whose
key an unchanged row already has. So problems are always reported by the full reader, with their real line numbers.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, read_file
from bridge.smile.settings import SmileSettings

# Record → the duplicate key the reader checks (schema ``key``), for the file types read incrementally.
KEYS: dict[str, Callable[[Any], Hashable]] = {
    "stock": lambda level: (level.warehouse_code, level.product_code),
}


@dataclass(frozen=True, slots=True)
class _Skipped:
    reason: str  # a row the reader skips without error (諸口 codes)


@dataclass(slots=True)
class Delta:
    """What the last ``LineMemo.read`` did: ``changed`` and ``removed`` are the records of the lines that are new in
    this file and of the previous file's lines that are gone (on a full read: every record, and nothing)."""

    incremental: bool
    changed: list[Any] = field(default_factory=list)
    removed: list[Any] = field(default_factory=list)
    parsed_rows: int = 0  # rows that went through the parser
    path: Path | None = None  # the file this read
    generation: int = 0  # counts the memo's reads; ``base`` is the read the lines were compared with
    base: int | None = None  # None on a full read


class LineMemo:
    """One per job instance and file type (a long-lived job keeps it between cycles; a fresh process starts empty
    and reads in full). Not thread-safe: one read at a time."""

    def __init__(self, file_type: str) -> None:
        self.file_type = file_type
        self.last: Delta | None = None
        self.generation = 0
        self._fingerprint: tuple[Any, ...] | None = None
        self._header: list[bytes] = []
        self._lines: dict[bytes, Any] = {}  # raw line (without b"\n") → record or _Skipped
        self._notes: list[str] = []  # the header's notes (optional columns absent …), the same for every file
        self._keys: dict[Any, bytes] = {}  # record key → its line (the duplicate check of new lines)
        self._skipped = 0  # remembered lines that are skipped rows (諸口)
        # After a full read only the file's bytes and result are kept; the line map is built at the next read, so a
        # one-shot process (``bridge sync stock``) never pays for it.
        self._unbuilt: tuple[bytes, ReadResult, FileLayout, tuple[Any, ...]] | None = None

    def forget(self) -> None:
        self._fingerprint, self._header, self._lines, self._notes = None, [], {}, []
        self._keys, self._skipped, self._unbuilt = {}, 0, None

    def read(self, path: Path | str, file_type: str, settings: SmileSettings | None = None,
             layout: FileLayout | None = None) -> ReadResult:
        """``read_file``'s signature and result; parses only the new lines when it safely can."""
        settings = settings or SmileSettings()
        layout = layout or settings.layout(file_type)
        path = Path(path)
        fingerprint = fingerprint_of(file_type, settings, layout)
        collecting = gc.isenabled()
        gc.disable()  # records are acyclic; the collector would rescan the remembered lines again and again
        try:
            if self._unbuilt is not None:
                self._build(*self._unbuilt)
            if file_type == self.file_type and fingerprint == self._fingerprint and self._lines:
                shortcut = self._incremental(path, file_type, settings, layout)
                if shortcut is not None:
                    return shortcut
            result = read_file(path, file_type, settings, layout)
            self._remember_full(path, result, layout, fingerprint)
            return result
        finally:
            if collecting:
                gc.enable()

    # ---- the shortcut ------------------------------------------------------------------------------------------

    def _incremental(self, path: Path, file_type: str, settings: SmileSettings,
                     layout: FileLayout) -> ReadResult | None:
        split = _split(path, layout)
        if split is None:
            return None
        header, body = split
        body_set = set(body)
        if header != self._header or len(body_set) != len(body):
            return None
        memo = self._lines
        # Set and dict operations run in C: the cost per unchanged line stays a few hash lookups.
        new_set = body_set - memo.keys()
        removed_lines = memo.keys() - body_set
        quote = layout.quotechar.encode("ascii")
        new_lines = [line for line in body if line in new_set] if new_set else []
        if any(blank(line) or line.count(quote) % 2 for line in new_lines):
            return None
        parsed: list[Any] = []
        notes = self._notes
        first = len(header) + 1
        if new_lines:
            piece = read_lines(path, header, new_lines, file_type, settings, layout)
            if not piece.ok or piece.rows != len(new_lines):
                return None
            skipped_at = {line: reason for line, reason in piece.skipped}
            records = iter(piece.records)
            parsed = [_Skipped(skipped_at[first + j]) if first + j in skipped_at else next(records)
                      for j in range(len(new_lines))]
            notes = piece.notes
        key = KEYS[file_type]
        new_records = [entry for entry in parsed if not isinstance(entry, _Skipped)]
        keys = self._keys
        for entry in new_records:
            holder = keys.get(key(entry))
            if holder is not None and holder not in removed_lines:
                return None  # an unchanged row has this key: the full read reports the duplicate
        fresh = dict(zip(new_lines, parsed, strict=True))
        removed = [memo[line] for line in removed_lines if not isinstance(memo[line], _Skipped)]
        lines = dict(memo)
        for line in removed_lines:
            del lines[line]
        lines.update(fresh)
        entries = list(map(lines.__getitem__, body))
        skipped_count = self._skipped + sum(isinstance(e, _Skipped) for e in parsed) - (
            len(removed_lines) - len(removed))
        result = ReadResult(path=path, file_type=file_type, rows=len(body), notes=list(notes))
        if skipped_count:
            for position, entry in enumerate(entries):
                if isinstance(entry, _Skipped):
                    result.skipped.append((first + position, entry.reason))
                else:
                    result.records.append(entry)
        else:
            result.records = entries
        if result.rows == 0 and not layout.allow_empty:
            return None
        for line in removed_lines:
            entry = memo[line]
            if not isinstance(entry, _Skipped) and keys.get(key(entry)) == line:
                del keys[key(entry)]
        for line, entry in fresh.items():
            if not isinstance(entry, _Skipped):
                keys[key(entry)] = line
        self._lines = lines
        self._skipped = skipped_count
        self._notes = list(notes)
        self.generation += 1
        self.last = Delta(True, new_records, removed, parsed_rows=len(new_lines), path=path,
                          generation=self.generation, base=self.generation - 1)
        return result

    # ---- after a full read -------------------------------------------------------------------------------------

    def _remember_full(self, path: Path, result: ReadResult, layout: FileLayout,
                       fingerprint: tuple[Any, ...]) -> None:
        self.generation += 1
        self.last = Delta(False, list(result.records), [], parsed_rows=result.rows, path=path,
                          generation=self.generation)
        self.forget()
        if not result.ok or self.file_type not in KEYS or result.file_type != self.file_type:
            return
        data = file_bytes(path, layout)
        if data is not None:
            self._unbuilt = (data, result, layout, fingerprint)

    def _build(self, data: bytes, result: ReadResult, layout: FileLayout, fingerprint: tuple[Any, ...]) -> None:
        self._unbuilt = None
        split = lines_of(data, layout)
        if split is None:
            return
        header, body = split
        quote = layout.quotechar.encode("ascii")
        if (result.rows != len(body) or len(result.records) + len(result.skipped) != len(body)
                or len(set(body)) != len(body) or any(blank(line) or line.count(quote) % 2 for line in body)):
            return  # a value spanning lines or blank lines: line ↔ row is not one to one
        skipped = {line: reason for line, reason in result.skipped}
        records = iter(result.records)
        first = len(header) + 1
        entries = [_Skipped(skipped[first + i]) if first + i in skipped else next(records) for i in range(len(body))]
        self._lines = dict(zip(body, entries, strict=True))
        key = KEYS[self.file_type]
        self._keys = {key(entry): line for line, entry in self._lines.items() if not isinstance(entry, _Skipped)}
        self._skipped = len(result.skipped)
        self._header = header
        self._notes = list(result.notes)
        self._fingerprint = fingerprint


def fingerprint_of(file_type: str, settings: SmileSettings, layout: FileLayout) -> tuple[Any, ...]:
    return (file_type, layout.model_dump_json(), tuple(sorted(settings.misc_product_codes)),
            tuple(sorted(settings.misc_customer_codes)))


def file_bytes(path: Path, layout: FileLayout) -> bytes | None:
    """The file's bytes when they split on line breaks (not UTF-16) and end with one, else None."""
    if layout.encoding.startswith("utf-16"):
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.endswith(b"\n") else None


def _split(path: Path, layout: FileLayout) -> tuple[list[bytes], list[bytes]] | None:
    """(header lines, data lines) of a file whose bytes split on line breaks (not UTF-16), else None."""
    data = file_bytes(path, layout)
    return None if data is None else lines_of(data, layout)


def lines_of(data: bytes, layout: FileLayout) -> tuple[list[bytes], list[bytes]] | None:
    lines = data[:-1].split(b"\n")
    count = layout.header_rows
    if len(lines) < count:
        return None
    return lines[:count], lines[count:]


def blank(line: bytes) -> bool:
    return line in (b"", b"\r") or line.strip(b"\r\" \t") == b""


def read_lines(path: Path, header: list[bytes], lines: list[bytes], file_type: str, settings: SmileSettings,
               layout: FileLayout) -> ReadResult:
    """``read_file`` over the header and ``lines`` only (a temporary file beside nothing: the system temp dir)."""
    with tempfile.TemporaryDirectory(prefix="smile-delta-") as folder:
        piece = Path(folder) / path.name
        piece.write_bytes(b"\n".join([*header, *lines]) + b"\n")
        return read_file(piece, file_type, settings, layout)
