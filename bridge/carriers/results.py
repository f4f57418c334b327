"""Result files → ``Shipment`` records: the seeds' generic shipping-result CSV and the carriers' issued data
(B2クラウド 発行済データ, e飛伝Ⅲ 発行済みデータ, ゆうプリR output through the bridge's 出力用フィルタ).

Pure: bytes in, records and located problems out. Errors mean the file must not be applied (the caller refuses
the whole file); warnings are reported and the rows still count. Unknown order numbers are the caller's check.
Each shipment carries ``row_key`` = ``order_id:tracking_number``, so importing the same parcel twice (the same
file again, or the B2 file and a generic CSV) is recognisably a no-op.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

from bridge.carriers import japanpost, sagawa, yamato
from bridge.carriers.tracking import DOMESTIC_CARRIERS, check_number, normalize_number
from bridge.domain.orders import Shipment
from bridge.domain.time import JST
from bridge.i18n import _

GENERIC_COLUMNS = ("order_no", "delivery_no", "delivery_date", "shop_code", "shop_name", "shop_tel", "shop_memo")
GENERIC_OPTIONAL = ("carrier", "item_id", "quantity")  # bridge extensions: partial shipments, mixed carriers
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")

Kind = Literal["generic", "yamato", "sagawa", "japanpost"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    source: str
    line: int  # 1-based line of the file; 0 = the file as a whole
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        severity = _("error") if self.severity == "error" else _("warning")
        return f"{where}: {severity}: {self.field}: {self.message}" if self.field else \
            f"{where}: {severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class ParsedShipment:
    shipment: Shipment
    line: int  # first line it came from
    row_key: str  # order_id:tracking_number — the same parcel always has the same key
    shop: dict[str, str] = field(default_factory=dict)  # shop_code, shop_name, shop_tel (generic CSV)


@dataclass(frozen=True, slots=True)
class ResultFile:
    source: str
    kind: Kind | None
    shipments: tuple[ParsedShipment, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_result_file(path: Path | str, now: datetime, *, default_carrier: str = "other") -> ResultFile:
    path = Path(path)
    return parse_result(path.read_bytes(), path.name, now, default_carrier=default_carrier)


def parse_result(data: bytes, source: str, now: datetime, *, default_carrier: str = "other") -> ResultFile:
    """Parse any supported result file; ``default_carrier`` is used for generic rows without a carrier column
    (``other`` = the caller resolves the carrier from the order's shipping method)."""
    text, problem = _decode(data, source)
    if problem is not None:
        return ResultFile(source, None, problems=(problem,))
    rows = _rows(text)
    if not rows:
        return ResultFile(source, None, problems=(Problem(source, 0, "", _("the file is empty")),))
    header_line, header = rows[0]
    kind = _kind(header)
    if kind is None:
        return ResultFile(source, None, problems=(Problem(
            source, header_line, "header",
            _("cannot tell the file type: expected a header with order_no and delivery_no (generic CSV), B2クラウド "
              "発行済データ (95 columns), e飛伝 発行済みデータ (74 columns) or the ゆうプリR result filter's header")),))
    parser = _Parser(source, now, kind, default_carrier)
    if kind == "generic":
        parser.generic(header, rows[1:])
    else:
        parser.carrier_file(header, rows[1:])
    return parser.result()


def _decode(data: bytes, source: str) -> tuple[str, Problem | None]:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), None
        except UnicodeDecodeError as exc:
            return "", Problem(source, 0, "", _("has a UTF-8 BOM but byte {offset} is not UTF-8").format(
                offset=exc.start + 3))
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding), None
        except UnicodeDecodeError:
            continue
    return "", Problem(source, 0, "", _("is neither UTF-8 nor Shift_JIS (CP932); save it as one of them"))


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV rows with their 1-based starting line (a quoted value may span lines)."""
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    for values in reader:
        if any(value.strip() for value in values):
            rows.append((line, values))
        line = reader.line_num + 1
    return rows


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text.replace("\ufeff", "")).split()).casefold()


def _kind(header: Sequence[str]) -> Kind | None:
    names = [_norm(name) for name in header]
    if "order_no" in names and "delivery_no" in names:
        return "generic"
    if len(names) >= yamato.COLUMNS and "伝票番号" in names[yamato.TRACKING - 1] and "管理番号" in names[0]:
        return "yamato"
    if len(names) >= sagawa.COLUMNS and "管理番号" in names[sagawa.ORDER_NO - 1] and \
            names[sagawa.TRACKING - 1].startswith("お問い合せ送り状"):
        return "sagawa"
    if [_norm(name) for name in japanpost.RESULT_HEADER] == names[: len(japanpost.RESULT_HEADER)]:
        return "japanpost"
    return None


class _Parser:
    def __init__(self, source: str, now: datetime, kind: Kind, default_carrier: str) -> None:
        self.source, self.now, self.kind, self.default_carrier = source, now, kind, default_carrier
        self.problems: list[Problem] = []
        self.shipments: dict[str, ParsedShipment] = {}
        self.items_seen: dict[str, bool] = {}

    def error(self, line: int, name: str, message: str) -> None:
        self.problems.append(Problem(self.source, line, name, message, "error"))

    def warn(self, line: int, name: str, message: str) -> None:
        self.problems.append(Problem(self.source, line, name, message, "warning"))

    def result(self) -> ResultFile:
        if not self.shipments and not self.problems:
            self.warn(0, "", _("no data rows"))
        return ResultFile(self.source, self.kind, tuple(self.shipments.values()), tuple(self.problems))

    # generic CSV -------------------------------------------------------------------------------------------

    def generic(self, header: list[str], rows: list[tuple[int, list[str]]]) -> None:
        names = [_norm(name) for name in header]
        unknown = [header[i] for i, name in enumerate(names)
                   if name and name not in GENERIC_COLUMNS and name not in GENERIC_OPTIONAL]
        if unknown:
            self.warn(1, "header", _("unknown column(s) {columns} ignored").format(columns=", ".join(unknown)))
        index = {name: i for i, name in enumerate(names)}
        for line, values in rows:
            if len(values) > len(header):
                self.error(line, "", _("has {count} values, the header has {width}; check for an unquoted comma")
                           .format(count=len(values), width=len(header)))
                continue

            def get(name: str, values: list[str] = values) -> str:
                i = index.get(name)
                return values[i].strip() if i is not None and i < len(values) else ""

            order_id = self.order_id(line, "order_no", get("order_no"))
            carrier = get("carrier").lower() or self.default_carrier
            tracking = self.tracking(line, "delivery_no", get("delivery_no"), carrier, required=True, lenient=True)
            shipped_at = self.moment(line, "delivery_date", get("delivery_date"))
            items = self.items(line, get("item_id"), get("quantity"))
            if order_id is None or tracking is None or shipped_at is None or items is None:
                continue
            shop = {k: get(k) for k in ("shop_code", "shop_name", "shop_tel") if get(k)}
            self.add(line, Shipment(order_id, carrier, tracking, shipped_at, items, get("shop_memo")), shop)

    # carriers' issued data -----------------------------------------------------------------------------------

    def carrier_file(self, header: list[str], rows: list[tuple[int, list[str]]]) -> None:
        columns = {"yamato": (yamato.ORDER_NO, yamato.TRACKING, yamato.SHIP_DATE),
                   "sagawa": (sagawa.ORDER_NO, sagawa.TRACKING, sagawa.SHIP_DATE),
                   "japanpost": (1, 2, 3)}[self.kind]
        order_col, tracking_col, date_col = columns
        names = {"yamato": ("お客様管理番号", "伝票番号", "出荷予定日"),
                 "sagawa": ("お客様管理番号", "お問い合せ送り状No.", "出荷日"),
                 "japanpost": japanpost.RESULT_HEADER}[self.kind]
        for line, values in rows:
            if len(values) < len(header):
                self.error(line, "", _("has {count} values, the header has {width}; the file is cut or not the "
                                       "carrier's own output").format(count=len(values), width=len(header)))
                continue
            order_id = self.order_id(line, names[0], values[order_col - 1].strip())
            raw_tracking = values[tracking_col - 1].strip()
            if not raw_tracking:
                self.warn(line, names[1], _("no tracking number yet (label not printed); row skipped"))
                continue
            tracking = self.tracking(line, names[1], raw_tracking, self.kind, required=True)
            shipped_at = self.date(line, names[2], values[date_col - 1].strip())
            if order_id is None or tracking is None or shipped_at is None:
                continue
            self.add(line, Shipment(order_id, self.kind, tracking, shipped_at))

    # fields ---------------------------------------------------------------------------------------------------

    def order_id(self, line: int, name: str, raw: str) -> int | None:
        folded = unicodedata.normalize("NFKC", raw).strip()
        if not folded:
            self.error(line, name, _("is empty; the CS-Cart order number is required"))
            return None
        if not folded.isdigit() or int(folded) == 0:
            self.error(line, name, _("{value!r} is not a CS-Cart order number (digits only)").format(value=raw))
            return None
        return int(folded)

    def tracking(self, line: int, name: str, raw: str, carrier: str, *, required: bool,
                 lenient: bool = False) -> str | None:
        """The normalised number. ``lenient`` (the generic CSV, typed by people): a number that is no known
        carrier's shape (the manual's own sample is ``1001``) is kept with a warning when the row names its carrier;
        without a carrier column the importer accepts it only for an order with exactly one carrier."""
        if not raw:
            if required:
                self.error(line, name, _("is empty; the tracking number (伝票番号) is required"))
            return None
        if carrier not in DOMESTIC_CARRIERS and carrier != "other":
            return raw  # a carrier the bridge has no number rules for (e.g. fukuyama): taken as written
        check = check_number(raw, None if carrier == "other" else carrier)
        if not check.valid and lenient:
            number = normalize_number(raw) or raw.strip()
            if carrier != "other":
                self.warn(line, name, _("{problem}; accepted as written because the row names the carrier "
                                        "({carrier}); check the number before the customer gets it").format(
                    problem=check.error, carrier=carrier))
            return number  # carrier "other": the importer checks it against the order's carrier
        if not check.valid:
            self.error(line, name, check.error)
            return None
        for warning in check.warnings:
            self.warn(line, name, warning)
        return check.number

    def moment(self, line: int, name: str, raw: str) -> datetime | None:
        if not raw:
            return self.now
        folded = unicodedata.normalize("NFKC", raw).strip()
        for fmt in _DATETIME_FORMATS + _DATE_FORMATS:
            try:
                parsed = datetime.strptime(folded, fmt).replace(tzinfo=JST)
            except ValueError:
                continue
            if fmt in _DATE_FORMATS:
                self.warn(line, name, _("{value!r} has no time; 00:00 JST used").format(value=raw))
            return self._plausible(line, name, parsed)
        self.error(line, name, _("{value!r} is not a date-time YYYY-MM-DD hh:mm:ss").format(value=raw))
        return None

    def date(self, line: int, name: str, raw: str) -> datetime | None:
        folded = unicodedata.normalize("NFKC", raw).strip()
        for fmt in _DATE_FORMATS:
            try:
                return self._plausible(line, name, datetime.strptime(folded, fmt).replace(tzinfo=JST))
            except ValueError:
                continue
        self.error(line, name, _("{value!r} is not a date YYYY/MM/DD").format(value=raw))
        return None

    def _plausible(self, line: int, name: str, moment: datetime) -> datetime:
        if moment > self.now + timedelta(days=31):
            self.warn(line, name, _("{date} is more than a month ahead; check the date").format(
                date=f"{moment:%Y-%m-%d}"))
        return moment

    def items(self, line: int, item_id: str, quantity: str) -> tuple[tuple[str, Decimal], ...] | None:
        if not item_id and not quantity:
            return ()
        if not item_id:
            self.error(line, "item_id", _("is empty while quantity is given; give both or neither"))
            return None
        try:
            amount = Decimal(unicodedata.normalize("NFKC", quantity or "1").strip())
        except InvalidOperation:
            self.error(line, "quantity", _("{value!r} is not a number").format(value=quantity))
            return None
        if amount <= 0 or amount != amount.to_integral_value():
            self.error(line, "quantity", _("{value!r} must be a whole number above 0").format(value=quantity))
            return None
        return ((item_id, amount),)

    def add(self, line: int, shipment: Shipment, shop: dict[str, str] | None = None) -> None:
        key = f"{shipment.order_id}:{shipment.tracking_number}"
        existing = self.shipments.get(key)
        if existing is None:
            self.shipments[key] = ParsedShipment(shipment, line, key, shop or {})
            return
        if shipment.items and existing.shipment.items:  # one parcel, several items: a partial shipment
            merged = dict(existing.shipment.items)
            for item_id, quantity in shipment.items:
                merged[item_id] = merged.get(item_id, Decimal(0)) + quantity
            self.shipments[key] = replace(existing, shipment=replace(existing.shipment,
                                                                     items=tuple(merged.items())))
            return
        self.warn(line, "", _("order {order} parcel {number} repeats line {first}; ignored").format(
            order=shipment.order_id, number=shipment.tracking_number, first=existing.line))
