"""What the stock job needs from its last run to make the next one incremental, kept on disk for a new process.

A long-lived job keeps the last file's records and payloads in memory (``LineMemo``, ``PayloadMemo``). A new
process (``bridge sync stock``, a restarted daemon) has none of that; reading and computing the whole file again is
most of its cost. ``StockMemo`` is the compact part of that state — the applied file's data lines, each line's
(商品コード, 倉庫コード), and per code the value hash and amount the job computed — written after each applied run
beside the state file (``state.sqlite3.stock-memo``, ``marshal`` of builtins: one read, no records rebuilt) and
read by the next new job.

It is only a cache: it is used only when it describes the newest applied stock file (its sha256 is the one in
``smile_files``), the same layout, settings and stock rules, and no fewer product bindings; anything else (missing,
unreadable, another version, a state file restored from a backup) and the job reads and computes everything, as
before. What it saves is tested to plan exactly what the full read plans.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from bridge.smile import delta
from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, iter_chunks
from bridge.smile.settings import SmileSettings
from bridge.sync.catalog import memo_file

log = structlog.get_logger("bridge.sync.stock_memo")

VERSION = 3  # 2: the values one after another (each marshalled alone: no whole-memo blob in memory);
# 3: each after its length (read with one ``marshal.loads`` each)


@dataclass(slots=True)
class StockMemo:
    key: str  # layout, SMILE settings and stock rules the values were computed with
    checksum: str  # sha256 of the file these lines are (as in smile_files)
    header: list[bytes]
    body: list[bytes]  # the data lines, without their b"\n"
    codes: list[str]  # per data line: 商品コード ("" for a skipped row)
    warehouses: list[str]  # per data line: 倉庫コード
    skipped: dict[int, str]  # data line index → why the reader skipped it (諸口)
    notes: list[str]  # the reader's notes on the header (the same for every file of this layout)
    hashes: dict[str, str]  # bound code → value hash of the payload computed
    amounts: dict[str, int]  # bound code → amount computed
    unbound: list[str]  # codes of the file without a product id at that run
    unconfirmed: dict[str, str]  # code → unconfirmed CS-Cart order quantity used (Decimal as text)
    bindings: int  # product bindings then (they are only ever added)
    fed: bool = False  # the analytics store took this file (a later file may then feed only its difference)
    positions: dict[bytes, int] | None = field(default=None, repr=False)  # line → index, built on first use
    # Not on disk: the codes of ``hashes`` whose hash the ledger did not hold when this memo was made, kept by a
    # long-lived job with the ledger's changes since (``ledger.LedgerChanges``); None: compare with the ledger.
    unwritten: set[str] | None = field(default=None, repr=False, compare=False)

    def position_of(self) -> dict[bytes, int]:
        if self.positions is None:
            self.positions = dict(zip(self.body, range(len(self.body))))
        return self.positions


def path_for(state_path: Path) -> Path:
    return memo_file.path_for(state_path, "stock")


checksum = memo_file.checksum


def save(path: Path, memo: StockMemo) -> None:
    """Write atomically (a crash leaves the old memo or the new one, never half of one)."""
    values: list[Callable[[], Any]] = [
        lambda: (VERSION, memo.key, memo.checksum, memo.header, len(memo.body), memo.bindings, memo.fed),
        lambda: b"\n".join(memo.body), lambda: memo.codes, lambda: memo.warehouses, lambda: memo.skipped,
        lambda: memo.notes, lambda: list(memo.hashes), lambda: list(memo.hashes.values()),
        lambda: list(map(memo.amounts.__getitem__, memo.hashes)), lambda: memo.unbound, lambda: memo.unconfirmed]
    if memo.hashes.keys() != memo.amounts.keys():  # computed together: never (the memo is only a cache)
        log.warning("stock memo not written (hashes and amounts of different codes)", path=str(path))
        forget(path)
        return
    try:
        memo_file.write_atomically(path, (value() for value in values))
    except OSError as error:
        log.warning("stock memo not written; the next new job reads everything", path=str(path), error=str(error))


def load(path: Path) -> StockMemo | None:
    """The memo at ``path``, or None when there is none or it cannot be read (then: a full read)."""
    try:
        with path.open("rb") as handle:  # read value by value (one value's bytes in memory at a time)
            head: Any = next(memo_file.read_values(handle, 1))
            if not isinstance(head, tuple) or len(head) != 7 or head[0] != VERSION:
                return None
            _, key, digest, header, count, bindings, fed = head
            body: Any = next(memo_file.read_values(handle, 1))
            if not isinstance(body, bytes):
                return None
            lines = body.split(b"\n") if count else []
            del body
            codes, warehouses, skipped, notes, keys, values, quantities, unbound, unconfirmed = (
                memo_file.read_values(handle, 9))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not (len(lines) == count == len(codes) == len(warehouses) and isinstance(keys, list)
            and isinstance(values, list) and isinstance(quantities, list) and len(keys) == len(values)
            == len(quantities) and isinstance(key, str) and isinstance(digest, str)):
        return None
    hashes = dict(zip(keys, values, strict=True))  # one str per code for both maps
    amounts = dict(zip(keys, quantities, strict=True))
    del keys, values, quantities
    return StockMemo(key, digest, list(header), lines, codes, warehouses, dict(skipped), list(notes), hashes,
                     amounts, list(unbound), dict(unconfirmed), int(bindings), bool(fed))


def forget(path: Path) -> None:
    path.unlink(missing_ok=True)


# ---- reading a new file against the memo -----------------------------------------------------------------------


@dataclass(slots=True)
class PartialRead(ReadResult):
    """A valid file read against the memo: ``records`` holds only the records of the lines the memo's file did not
    have (the others were valid then and are not rebuilt); ``record_count`` is the file's."""

    record_count: int = 0


@dataclass(slots=True)
class LeanRead:
    """A file read against ``base``: which lines are new, which of the base's are gone, and each line's keys."""

    path: Path
    base: StockMemo
    checksum: str
    header: list[bytes]
    body: list[bytes]
    new: dict[bytes, Any]  # new line → its record, or the reason it is skipped (str)
    removed: list[int]  # base line indexes no longer in the file
    codes: list[str]  # per data line of this file ("" for a skipped row)
    warehouses: list[str]
    result: PartialRead

    def gone(self) -> list[tuple[str, str]]:
        """(商品コード, 倉庫コード) of the base's rows that this file no longer has."""
        kept = {(entry.product_code, entry.warehouse_code) for entry in self.new.values() if not isinstance(entry, str)}
        codes, warehouses = self.base.codes, self.base.warehouses
        keys = ((codes[number], warehouses[number]) for number in self.removed if codes[number])
        return [key for key in keys if key not in kept]

    def file_codes(self) -> set[str]:
        codes = set(self.codes)
        codes.discard("")
        return codes


def lean_read(base: StockMemo, path: Path, file_type: str, settings: SmileSettings,
              layout: FileLayout) -> LeanRead | None:
    """Validate ``path`` by parsing only the lines ``base``'s file did not have; None whenever that could differ
    from a full read (the full reader then reads the file and reports any problem with its real line numbers):
    UTF-16, no final line break, another header, a repeated, blank or unbalanced-quote line, a problem in the new
    lines, or a new row whose key an unchanged row has."""
    data = delta.file_bytes(path, layout)
    if data is None:
        return None
    split = delta.lines_of(data, layout)
    if split is None:
        return None
    header, body = split
    if header != base.header:
        return None
    changed = _changed_in_place(base.body, body)
    if changed is not None:
        return _read_in_place(base, path, data, header, body, changed, file_type, settings, layout)
    present = set(body)
    if len(present) != len(body):
        return None
    positions = base.position_of()
    # The per-line work below runs in C (map / filterfalse / compress over the 100,000 lines); Python loops only
    # over the lines that changed.
    fresh = list(itertools.filterfalse(positions.__contains__, body))
    kept = len(body) - len(fresh)  # lines of the base's file still there (every line of body is distinct)
    removed = (list(map(positions.__getitem__, itertools.filterfalse(present.__contains__, base.body)))
               if kept != len(base.body) else [])
    at = len(base.body)
    parsed = _parse_fresh(base, path, header, fresh, range(at, at + len(fresh)), file_type, settings, layout)
    if parsed is None:
        return None
    new, records, fresh_codes, fresh_warehouses, reasons, notes = parsed
    if records and _key_held_by_unchanged(base, records, set(removed)):
        return None
    if not body and not layout.allow_empty:
        return None
    # Each line of this file as an index into base.body followed by fresh (positions is dropped below anyway).
    for number, line in enumerate(fresh):
        positions[line] = at + number
    numbers = list(map(positions.__getitem__, body))
    all_codes, all_warehouses = base.codes + fresh_codes, base.warehouses + fresh_warehouses
    codes: list[str] = list(map(all_codes.__getitem__, numbers))
    warehouses: list[str] = list(map(all_warehouses.__getitem__, numbers))
    del all_codes, all_warehouses
    if base.skipped:
        reasons.update(base.skipped)
    first = len(header) + 1
    skipped: list[tuple[int, str]] = []
    if reasons:
        skipped = [(first + line, reasons[numbers[line]])
                   for line in itertools.compress(range(len(numbers)), map(reasons.__contains__, numbers))]
    del numbers
    result = PartialRead(path=path, file_type=file_type, records=records, rows=len(body), skipped=skipped,
                         notes=list(notes), record_count=len(body) - len(skipped))
    base.positions = None  # built again for the next read (the memo of the run after this one has its own)
    return LeanRead(path, base, checksum(data), header, body, new, removed, codes, warehouses, result)


IN_PLACE_SHARE = 0.25  # more lines changed than this share: compare as sets (a shifted file), not line by line


def _changed_in_place(before: list[bytes], body: list[bytes]) -> list[int] | None:
    """The line numbers whose line differs from the base file's at the same place, when the file kept the base's
    lines in their places (the usual export: the same rows in the same order, some values changed); else None."""
    if len(before) != len(body):
        return None
    changed = list(itertools.compress(range(len(body)), map(operator.ne, body, before)))  # one pass, in C
    return changed if len(changed) <= IN_PLACE_SHARE * len(body) else None


def _read_in_place(base: StockMemo, path: Path, data: bytes, header: list[bytes], body: list[bytes],
                   changed: list[int], file_type: str, settings: SmileSettings,
                   layout: FileLayout) -> LeanRead | None:
    """``lean_read`` for a file whose lines are the base's but at ``changed``: no set or map over every line, only
    the base's per-line keys copied and the changed places replaced."""
    fresh = [body[number] for number in changed]
    parsed = _parse_fresh(base, path, header, fresh, changed, file_type, settings, layout)
    if parsed is None:
        return None
    new, records, fresh_codes, fresh_warehouses, reasons, notes = parsed
    codes, warehouses = list(base.codes), list(base.warehouses)
    moved = False  # a changed line now holds another key than the base's line at its place
    for number, code, warehouse in zip(changed, fresh_codes, fresh_warehouses, strict=True):
        moved = moved or code != codes[number] or warehouse != warehouses[number]
        codes[number], warehouses[number] = code, warehouse
    # A new row with its line's old key cannot collide with an unchanged row (the base's keys were unique).
    if moved and records and _key_held_by_unchanged(base, records, set(changed)):
        return None
    if not body and not layout.allow_empty:
        return None
    if base.skipped:
        places = set(changed)
        reasons.update((number, reason) for number, reason in base.skipped.items() if number not in places)
    first = len(header) + 1
    skipped = sorted((first + number, reason) for number, reason in reasons.items())
    result = PartialRead(path=path, file_type=file_type, records=records, rows=len(body), skipped=skipped,
                         notes=list(notes), record_count=len(body) - len(skipped))
    return LeanRead(path, base, checksum(data), header, body, new, changed, codes, warehouses, result)


def _parse_fresh(base: StockMemo, path: Path, header: list[bytes], fresh: list[bytes], numbers: Iterable[int],
                 file_type: str, settings: SmileSettings, layout: FileLayout) -> tuple[
        dict[bytes, Any], list[Any], list[str], list[str], dict[int, str], list[str]] | None:
    """The new lines parsed alone: (line → record or why it is skipped, the records, per line its 商品コード and
    倉庫コード, ``numbers``' entry → why skipped, the reader's notes); None when they are not clean."""
    quote = layout.quotechar.encode("ascii")
    if any(delta.blank(line) or line.count(quote) % 2 for line in fresh):
        return None
    new: dict[bytes, Any] = {}
    reasons: dict[int, str] = {}
    if not fresh:
        return new, [], [], [], reasons, base.notes
    piece = delta.read_lines(path, header, fresh, file_type, settings, layout)
    if not piece.ok or piece.rows != len(fresh):
        return None
    skipped_at = dict(piece.skipped)
    parsed = iter(piece.records)
    first = len(header) + 1
    fresh_codes: list[str] = []
    fresh_warehouses: list[str] = []
    for index, (number, line) in enumerate(zip(numbers, fresh, strict=True)):
        reason = skipped_at.get(first + index)
        if reason is not None:
            new[line] = reason
            fresh_codes.append("")
            fresh_warehouses.append("")
            reasons[number] = reason
        else:
            level = new[line] = next(parsed)
            fresh_codes.append(level.product_code)
            fresh_warehouses.append(level.warehouse_code)
    return new, list(piece.records), fresh_codes, fresh_warehouses, reasons, piece.notes


def _key_held_by_unchanged(base: StockMemo, records: list[Any], gone: set[int]) -> bool:
    """Whether a new row's (商品コード, 倉庫コード) is held by a line of the base still in the file (the full reader
    reports that duplicate)."""
    keys = {(level.product_code, level.warehouse_code) for level in records}
    new_codes = {code for code, _ in keys}
    base_codes, base_warehouses = base.codes, base.warehouses
    for number in itertools.compress(range(len(base_codes)), map(new_codes.__contains__, base_codes)):
        if (base_codes[number], base_warehouses[number]) in keys and number not in gone:
            return True
    return False


def lines_by_record(data: bytes, result: ReadResult, layout: FileLayout) -> tuple[
        list[bytes], list[bytes], list[str], list[str], dict[int, str]] | None:
    """(header, data lines, per line 商品コード and 倉庫コード, skipped) of a fully read stock file, or None when its
    lines and rows are not one to one (a value spanning lines, blank lines, repeated lines)."""
    keys = ((level.product_code, level.warehouse_code) for level in result.records)
    return _lines_by_keys(data, result, layout, len(result.records), keys)


def _lines_by_keys(data: bytes, result: ReadResult, layout: FileLayout, records: int,
                   keys: Iterator[tuple[str, str]]) -> tuple[
        list[bytes], list[bytes], list[str], list[str], dict[int, str]] | None:
    split = delta.lines_of(data, layout)
    if split is None:
        return None
    header, body = split
    quote = layout.quotechar.encode("ascii")
    if (result.rows != len(body) or records + len(result.skipped) != len(body)
            or len(set(body)) != len(body) or any(delta.blank(line) or line.count(quote) % 2 for line in body)):
        return None
    first = len(header) + 1
    skipped = {line - first: reason for line, reason in result.skipped}
    codes: list[str] = []
    warehouses: list[str] = []
    for number in range(len(body)):
        if number in skipped:
            codes.append("")
            warehouses.append("")
        else:
            code, warehouse = next(keys)
            codes.append(code)
            warehouses.append(warehouse)
    return header, body, codes, warehouses, skipped


# ---- validating a whole file without keeping its records (a first or --full sync) --------------------------------


@dataclass(slots=True)
class StreamedRead(ReadResult):
    """A whole file validated without keeping its records (``records`` stays empty; ``record_count`` is the
    file's): its data lines and each line's keys, from which the job parses, computes and enqueues a chunk of codes
    at a time — the memory of a first sync of 1,000,000 SKUs is that of its lines, not of its records."""

    record_count: int = 0
    header: list[bytes] = field(default_factory=list)
    body: list[bytes] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # per data line: 商品コード ("" for a skipped row)
    warehouses: list[str] = field(default_factory=list)
    skipped_at: dict[int, str] = field(default_factory=dict)  # data line index → why the reader skipped it
    checksum: str = ""


def scan(path: Path, file_type: str, settings: SmileSettings, layout: FileLayout) -> StreamedRead | None:
    """Validate the whole of ``path`` as ``read_file`` does (the same problems, a bad last line included), keeping
    only each row's (商品コード, 倉庫コード). None when its lines and rows are not one to one (UTF-16, a value
    spanning lines, blank or repeated lines): the caller then reads it whole."""
    result = StreamedRead(path=path, file_type=file_type)
    keys: list[tuple[str, str]] = []
    same: dict[str, str] = {}  # one str per warehouse code
    for chunk in iter_chunks(path, file_type, result, settings=settings, layout=layout):
        keys.extend((level.product_code, same.setdefault(level.warehouse_code, level.warehouse_code))
                    for level in chunk)
    if not result.ok:
        return result  # nothing kept; the caller reports the problems
    data = delta.file_bytes(path, layout)
    if data is None:
        return None
    lines = _lines_by_keys(data, result, layout, len(keys), iter(keys))
    if lines is None:
        return None
    del keys
    result.header, result.body, result.codes, result.warehouses, result.skipped_at = lines
    result.record_count = len(result.body) - len(result.skipped_at)
    result.checksum = checksum(data)
    return result
