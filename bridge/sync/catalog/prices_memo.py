"""What the prices job needs from its last run to make the next one cost what changed, kept on disk for a new process.

The tier set of a product is a function of its 商品マスター line, its 数量別単価 rows, its product_id, the pricing
rules, the rank usergroup ids and the business date (JST). ``PricesMemo`` keeps, for the last applied run: a digest
of every data line of the 商品マスター it read and the 商品コード on it, each code's quantity rows, the value hash of
every tier set it computed (and the codes it could not: no 標準売上単価, not in CS-Cart), the date it ran for, and an
index of the dates on which some code's tier set changes by itself (新単価実施日, a quantity row's valid_from and the
day after its valid_to). The next run reads the products file against it — a file with the same sha256 is not even
split; otherwise only the lines whose digest the memo lacks are parsed — and recomputes only the codes whose line,
quantity rows or binding changed, whose date was crossed since, or whose memo hash is not the ledger's.

It is written after each applied run beside the state file (``state.sqlite3.prices-memo``, ``marshal`` of plain
values, atomically) and is only a cache. The job uses it only when its key (layouts, SMILE settings, pricing rules),
its token (written to the store in the transaction that enqueued that run's plan, so a memo older than the store —
a crash before it was saved, a state file restored from a backup, another process's run — does not match) and the
number of product bindings (only ever added) hold, and the clock has not gone back; else, and with ``--full``, the
job reads and computes everything. Its results are tested equal to the full read's (tests/catalog/
test_prices_incremental.py).
"""

from __future__ import annotations

import codecs
import hashlib
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bridge.domain.catalog import Product
from bridge.rules.pricing import QuantityPrice
from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, read_file
from bridge.smile.settings import SmileSettings
from bridge.sync.catalog import memo_file

log = structlog.get_logger("bridge.sync.prices_memo")

VERSION = 2  # 2: the memo file's values after their length
FILE_TYPE = "products"
DIGEST = 16  # bytes of blake2b per data line

Row = tuple[int, str, int, int]  # a quantity row: min_quantity, price (text), valid_from, valid_to (ordinals, 0: none)


@dataclass(slots=True)
class PricesMemo:
    key: str  # layouts, SMILE settings and pricing rules the values were computed with
    token: str  # the store's ``prices.memo`` cursor when this was written
    day: int  # business date (ordinal) the tier sets were computed for
    groups: dict[int, int]  # rank → usergroup_id used
    checksum: str  # sha256 of the 商品マスター read
    header: list[bytes]
    digests: bytes  # DIGEST bytes per data line
    codes: list[str]  # per data line: 商品コード ("" for a row the reader skipped)
    quantity_checksum: str  # sha256 of the 数量別単価 file used ("": none)
    quantities: dict[str, list[Row]]  # code → its whole-quantity rows, in file order
    hashes: dict[str, str]  # bound code with a price → value hash of its payload
    no_price: list[str]  # bound codes without 標準売上単価
    unbound: list[str]  # codes of the file without a product id
    bindings: int  # product bindings then (they are only ever added)
    dates: dict[int, set[str]]  # day (ordinal) after the memo's day → codes whose tier set may change that day
    differing: set[str] | None = field(default=None, repr=False)  # kept by a long-lived job: hash ≠ ledger's
    _positions: dict[bytes, int] | None = field(default=None, repr=False)
    _code_lines: dict[str, int] | None = field(default=None, repr=False)

    def positions(self) -> dict[bytes, int]:
        """Line digest → line index (built on first use)."""
        if self._positions is None:
            blob = self.digests
            self._positions = {blob[at:at + DIGEST]: number for number, at in enumerate(range(0, len(blob), DIGEST))}
        return self._positions

    def code_lines(self) -> dict[str, int]:
        """商品コード → its line index (built on first use)."""
        if self._code_lines is None:
            self._code_lines = {code: number for number, code in enumerate(self.codes) if code}
        return self._code_lines


def path_for(state_path: Path) -> Path:
    return memo_file.path_for(state_path, "prices")


checksum = memo_file.checksum


def save(path: Path, memo: PricesMemo) -> None:
    """Write atomically (a crash leaves the old memo or the new one, never half of one)."""
    values = (VERSION, memo.key, memo.token, memo.day, memo.groups, memo.checksum, memo.header, memo.digests,
              memo.codes, memo.quantity_checksum, memo.quantities, memo.hashes, memo.no_price, memo.unbound,
              memo.bindings, memo.dates)
    try:
        memo_file.write_atomically(path, [values])  # one marshalled tuple: load() reads it with one loads
    except OSError as error:
        log.warning("prices memo not written; the next run reads everything", path=str(path), error=str(error))


def load(path: Path) -> PricesMemo | None:
    """The memo at ``path``, or None when there is none or it cannot be read (then: a full read)."""
    try:
        with path.open("rb") as handle:
            data: Any = next(memo_file.read_values(handle, 1))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    try:
        (version, key, token, day, groups, digest, header, digests, codes, quantity_checksum, quantities, hashes,
         no_price, unbound, bindings, dates) = data
    except (TypeError, ValueError):
        return None
    if (version != VERSION or not isinstance(key, str) or not isinstance(token, str) or not isinstance(day, int)
            or not isinstance(digests, bytes) or not isinstance(codes, list) or len(digests) != DIGEST * len(codes)
            or not all(isinstance(x, dict) for x in (groups, quantities, hashes, dates))
            or not isinstance(header, list) or not isinstance(digest, str)):
        return None
    return PricesMemo(key, token, day, groups, digest, header, digests, codes, str(quantity_checksum), quantities,
                      hashes, list(no_price), list(unbound), int(bindings), dates)


def forget(path: Path) -> None:
    path.unlink(missing_ok=True)


# ---- records ↔ what the memo keeps ------------------------------------------------------------------------------


def rows_of(quantities: Mapping[str, Iterable[QuantityPrice]]) -> dict[str, list[Row]]:
    return {code: [(row.min_quantity, str(row.price), row.valid_from.toordinal() if row.valid_from else 0,
                    row.valid_to.toordinal() if row.valid_to else 0) for row in rows]
            for code, rows in quantities.items()}


def quantity_prices(rows: Iterable[Row]) -> list[QuantityPrice]:
    return [QuantityPrice(min_quantity=quantity, price=Decimal(price),
                          valid_from=date.fromordinal(start) if start else None,
                          valid_to=date.fromordinal(end) if end else None) for quantity, price, start, end in rows]


def turning_days(product: Product, rows: Iterable[Row]) -> set[int]:
    """The days (ordinals) from which ``product``'s tier set may differ from the day before: 新単価実施日, and per
    quantity row its valid_from and the day after its valid_to."""
    days = {product.new_price_date.toordinal()} if product.new_price_date is not None else set()
    for _quantity, _price, start, end in rows:
        if start:
            days.add(start)
        if end:
            days.add(end + 1)
    return days


def crossed(dates: Mapping[int, Iterable[str]], since: int, day: int) -> set[str]:
    """Codes with a turning day in (since, day]."""
    found: set[str] = set()
    for turn, codes in dates.items():
        if since < turn <= day:
            found.update(codes)
    return found


def index_dates(turns: Mapping[str, set[int]], after: int) -> dict[int, set[str]]:
    dates: dict[int, set[str]] = {}
    for code, days in turns.items():
        for turn in days:
            if turn > after:
                dates.setdefault(turn, set()).add(code)
    return dates


# ---- the file's lines -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Split:
    header: list[bytes]
    body: list[bytes]
    newline: bytes
    codec: str  # decodes one data line


def split(data: bytes, layout: FileLayout) -> Split | None:
    """The file's header and data lines, split on the line break of its encoding (two bytes in UTF-16), or None when
    the bytes do not split cleanly (no final line break, an odd-length UTF-16 line)."""
    name = codecs.lookup(layout.encoding).name
    if name == "utf-16":
        big = data.startswith(codecs.BOM_UTF16_BE)
        newline, codec = (b"\x00\n", "utf-16-be") if big else (b"\n\x00", "utf-16-le")
    elif name in ("utf-16-le", "utf-16-be"):
        newline, codec = (b"\n\x00", name) if name.endswith("le") else (b"\x00\n", name)
    elif name.startswith("utf-32"):
        return None
    else:
        newline, codec = b"\n", name
    if not data.endswith(newline):
        return None
    lines = data[:-len(newline)].split(newline)
    if len(newline) == 2 and any(len(line) & 1 for line in lines):
        return None
    count = layout.header_rows
    if len(lines) < count:
        return None
    return Split(lines[:count], lines[count:], newline, codec)


def digests_of(body: Iterable[bytes]) -> list[bytes]:
    blake = hashlib.blake2b
    return [blake(line, digest_size=DIGEST).digest() for line in body]


def plain(line: bytes, codec: str, quote: str) -> bool:
    """A data line that is one row on its own: it decodes, is not blank and has balanced quotes."""
    try:
        text = line.decode(codec)
    except UnicodeDecodeError:
        return False
    return text.strip("\r\" \t\ufeff") != "" and text.count(quote) % 2 == 0


def read_lines(path: Path, cut: Split, lines: list[bytes], settings: SmileSettings,
               layout: FileLayout) -> ReadResult:
    """``read_file`` over the header and ``lines`` only (written to a temporary file in the file's encoding)."""
    with tempfile.TemporaryDirectory(prefix="smile-prices-") as folder:
        piece = Path(folder) / path.name
        piece.write_bytes(cut.newline.join([*cut.header, *lines]) + cut.newline)
        return read_file(piece, FILE_TYPE, settings, layout)


@dataclass(slots=True)
class PartialRead(ReadResult):
    """A valid 商品マスター read against the memo: ``records`` holds only the records of its new lines (the others
    were valid then and are not rebuilt); ``record_count`` is the file's."""

    record_count: int = 0


@dataclass(slots=True)
class LeanRead:
    """A 商品マスター read against ``base``: its lines (None when its bytes are the memo's file: not split), each line's
    code, the records of the new lines and the codes whose line is new or gone."""

    path: Path
    base: PricesMemo
    checksum: str
    data: bytes
    cut: Split | None
    digests: bytes
    codes: list[str]
    new: dict[str, Product]  # code → record, for the lines the memo's file did not have
    touched: set[str]  # codes on a new line or on a line that is gone
    result: PartialRead

    def lines(self, layout: FileLayout) -> Split | None:
        if self.cut is None:
            self.cut = split(self.data, layout)
        return self.cut


def lean_read(base: PricesMemo, path: Path, settings: SmileSettings, layout: FileLayout) -> LeanRead | None:
    """Validate ``path`` by parsing only the lines ``base``'s file did not have; None whenever that could differ
    from a full read (the full reader then reads the file and reports any problem with its real line numbers):
    another header, a repeated, blank, undecodable or unbalanced-quote new line, a problem in the new lines, or a
    new row whose 商品コード an unchanged row has."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    digest = checksum(data)
    count = sum(1 for code in base.codes if code)
    if digest == base.checksum:
        result = PartialRead(path=path, file_type=FILE_TYPE, rows=len(base.codes), record_count=count)
        return LeanRead(path, base, digest, data, None, base.digests, base.codes, {}, set(), result)
    cut = split(data, layout)
    if cut is None or cut.header != base.header:
        return None
    body = cut.body
    digests = digests_of(body)
    if len(set(digests)) != len(digests):
        return None
    positions = base.positions()
    fresh = [number for number, line in enumerate(digests) if line not in positions]
    kept = len(body) - len(fresh)
    present = set(digests) if kept != len(positions) else None
    removed = [] if present is None else [at for line, at in positions.items() if line not in present]
    new_lines = [body[number] for number in fresh]
    quote = layout.quotechar
    if any(not plain(line, cut.codec, quote) for line in new_lines):
        return None
    parsed: list[Product | None] = []
    if new_lines:
        piece = read_lines(path, cut, new_lines, settings, layout)
        if not piece.ok or piece.rows != len(new_lines):
            return None
        first = layout.header_rows + 1
        skipped = {line - first for line, _ in piece.skipped}
        records = iter(piece.records)
        parsed = [None if number in skipped else next(records) for number in range(len(new_lines))]
    base_codes = base.codes
    touched = {base_codes[at] for at in removed if base_codes[at]}
    gone = set(removed)
    code_lines = base.code_lines()
    new: dict[str, Product] = {}
    for product in parsed:
        if product is None:
            continue
        holder = code_lines.get(product.code)
        if holder is not None and holder not in gone:
            return None  # an unchanged row has this code: the full read reports the duplicate
        new[product.code] = product
        touched.add(product.code)
    if not body and not layout.allow_empty:
        return None
    codes: list[str] = []
    fresh_at = dict(zip(fresh, parsed, strict=True))
    for number, line in enumerate(digests):
        at = positions.get(line)
        if at is not None:
            codes.append(base_codes[at])
        else:
            product = fresh_at[number]
            codes.append(product.code if product is not None else "")
    result = PartialRead(path=path, file_type=FILE_TYPE, records=list(new.values()), rows=len(body),
                         record_count=sum(1 for code in codes if code))
    return LeanRead(path, base, digest, data, cut, b"".join(digests), codes, new, touched, result)


def lines_by_record(data: bytes, result: ReadResult, layout: FileLayout) -> tuple[Split, bytes, list[str]] | None:
    """(lines, digests, per line 商品コード) of a fully read 商品マスター, or None when its lines and rows are not one
    to one (a value spanning lines, blank or repeated lines)."""
    cut = split(data, layout)
    if cut is None:
        return None
    body = cut.body
    if result.rows != len(body) or len(result.records) + len(result.skipped) != len(body):
        return None
    quote = layout.quotechar
    try:
        text = data.decode(codecs.lookup(layout.encoding).name)
    except UnicodeDecodeError:
        return None
    text_lines = text[:-1].split("\n") if text.endswith("\n") else None
    if text_lines is None or len(text_lines) != len(body) + layout.header_rows:
        return None
    if any(line.strip("\r\" \t") == "" or line.count(quote) % 2 for line in text_lines[layout.header_rows:]):
        return None
    digests = digests_of(body)
    if len(set(digests)) != len(digests):
        return None
    first = layout.header_rows + 1
    skipped = {line - first for line, _ in result.skipped}
    records = iter(result.records)
    codes = ["" if number in skipped else next(records).code for number in range(len(body))]
    return cut, b"".join(digests), codes
