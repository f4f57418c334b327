"""The SMILE 受注 import file: rows per order (pure), rendering to bytes, and exactly-once batches.

A batch is recorded (order ids, file name, the file's bytes and checksum, state ``writing``) in the same store
transaction that moves its orders to 出荷指示 and binds them to the batch. Only then is the file written under a
temporary name, fsynced and renamed; a second transaction marks the batch ``written``. A restart finishes any batch
still ``writing``: a final file with the recorded checksum is accepted as written, anything else is rewritten from
the recorded bytes. An order's live export row is unique, so no order reaches SMILE twice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.domain.orders import Order
from bridge.domain.time import business_date
from bridge.errors import ValidationFailed
from bridge.i18n import Text, _, ngettext
from bridge.smile.layout import FileLayout
from bridge.smile.writer import TextChange, atomic_write, batch_file_name, csv_writer, prepare_rows
from bridge.store.exports import ExportBatch, checksum
from bridge.sync.campaigns.applied import bonus_label, discount_lines, order_discount

WRITING, WRITTEN, DISCARDED = "writing", "written", "discarded"


@dataclass(frozen=True, slots=True)
class ExportRules:
    """What the 受注 file needs from the rules: item codes of the extra lines, tax, 諸口 ship-to."""

    shipping_item_code: str = "SF-01"
    shipping_item_name: str = "送料"
    shipping_tax_class: str = "0"
    surcharge_item_code: str = "DS-01"
    surcharge_item_name: str = "直送手数料"
    surcharge_tax_class: str = "1"
    tax_rate: Decimal = Decimal(10)
    shipping_tax_rate: Decimal | None = None  # None = tax_rate
    surcharge_tax_rate: Decimal | None = None  # None = tax_rate
    payment_fee_item_code: str = "99999999"  # 代引手数料 (CS-Cart payment_surcharge)
    payment_fee_item_name: str = "代引手数料"
    payment_fee_tax_class: str = "1"
    payment_fee_tax_rate: Decimal | None = None  # None = tax_rate
    product_tax_class: str = "1"
    misc_ship_to_code: str = "999999"
    discount_item_code: str = "NB-01"  # a promotion's 値引 line (campaigns.yaml slip:)
    discount_item_name: str = "値引"
    discount_tax_class: str = "1"
    discount_sign: str = "price"  # price: 数量 1, 単価 −¥; quantity: 数量 −1, 単価 ¥ (campaigns.yaml slip:)
    discount_columns: Mapping[str, str] = field(default_factory=dict)  # more columns on 値引 lines only
    bonus_line: str = "zero_price"  # zero_price: a ¥0 line naming the campaign; omit: not on the slip
    cancel_sign: int = -1  # 赤伝: quantities and amounts negated


@dataclass(frozen=True, slots=True)
class Party:
    """The SMILE 得意先 of an order as the file writes it."""

    code: str
    name: str


def number(value: Decimal) -> str:
    """Yen and quantities as SMILE reads them: no trailing zeros, no exponent."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _ymd(day: date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


def _rate(specific: Decimal | None, default: Decimal) -> Decimal:
    return default if specific is None else specific


def slip_rows(order: Order, party: Party, rules: ExportRules, *, sign: int = 1,
              surcharge: Decimal = Decimal(0)) -> list[dict[str, Any]]:
    """One order's rows for the 受注 import, keyed by the layout's column names; ``sign=-1`` gives a 赤伝."""
    ship = order.shipping
    head: dict[str, Any] = {
        "受注日付": _ymd(business_date(order.placed_at)),
        "受注№": str(order.order_id),
        "得意先ｺｰﾄﾞ": party.code,
        "得意先名１": party.name,
        "納期": _ymd(order.delivery_date),
        "オーダー№": str(order.order_id),
        "メールアドレス": order.email,
        "備考": order.notes.replace("\r", " ").replace("\n", " "),
    }
    if order.direct_ship:
        head.update({
            "納品先ｺｰﾄﾞ": order.ship_to_code or rules.misc_ship_to_code,
            "納品先名": ship.name,
            "納品先郵便番号": ship.postcode,
            "納品先住所１": f"{ship.prefecture}{ship.city}",
            "納品先住所２": ship.street,
            "納品先住所３": ship.building,
            "納品先電話番号": ship.phone,
        })
    rows: list[dict[str, Any]] = []

    def add(code: str, name: str, quantity: Decimal, price: Decimal, tax_class: str, rate: Decimal,
            more: Mapping[str, str] | None = None) -> None:
        rows.append({
            **head, "行": str(len(rows) + 1), "商品ｺｰﾄﾞ": code, "商品名": name,
            "数量": number(quantity * sign), "単価": number(price), "金額": number(quantity * price * sign),
            "課税区分": tax_class, "消費税率％": number(rate), **(more or {}),
        })

    for line in order.lines:
        name = line.name
        if line.bonus_of is not None:  # a campaign's bonus item: a ¥0 line naming the campaign
            if rules.bonus_line == "omit":
                continue
            name = f"{line.name} ({bonus_label(order, line.bonus_of)})"
        add(line.product_code, name, line.quantity, line.unit_price, rules.product_tax_class,
            line.tax_rate if line.tax_rate is not None else rules.tax_rate)
    for discount in discount_lines(order):  # a promotion's discount: its own 値引 line naming the campaign
        quantity, price = ((Decimal(-1), discount.amount) if rules.discount_sign == "quantity"
                           else (Decimal(1), -discount.amount))
        add(rules.discount_item_code, f"{rules.discount_item_name} {discount.label}", quantity, price,
            rules.discount_tax_class, rules.tax_rate, rules.discount_columns)
    if order.shipping_cost:
        add(rules.shipping_item_code, rules.shipping_item_name, Decimal(1), order.shipping_cost,
            rules.shipping_tax_class, _rate(rules.shipping_tax_rate, rules.tax_rate))
    if order.payment_surcharge:
        add(rules.payment_fee_item_code, rules.payment_fee_item_name, Decimal(1), order.payment_surcharge,
            rules.payment_fee_tax_class, _rate(rules.payment_fee_tax_rate, rules.tax_rate))
    if order.direct_ship and surcharge:
        add(rules.surcharge_item_code, rules.surcharge_item_name, Decimal(1), surcharge, rules.surcharge_tax_class,
            _rate(rules.surcharge_tax_rate, rules.tax_rate))
    return rows


def slip_total(rows: Sequence[Mapping[str, Any]]) -> Decimal:
    """The sum of the rows' 金額."""
    return sum((Decimal(str(row["金額"])) for row in rows), Decimal(0))


def total_mismatch(order: Order, rows: Sequence[Mapping[str, Any]], *, sign: int = 1) -> Text | None:
    """Why the slip does not carry the order's total (every yen of CS-Cart's total must be on it), or None.

    CS-Cart's total = products + 送料 + 代引手数料 + 直送手数料 − 値引 (+ tax it added on top of tax-excluded prices,
    which SMILE computes itself from the rows' 消費税率)."""
    expected = (order.total - order.tax_added) * sign
    got = slip_total(rows)
    if got == expected:
        return None
    missing = expected - got
    template = (_("the slip rows total ¥{got} but the CS-Cart order total is ¥{expected} (¥{missing} missing from "
                  "the slip; products ¥{products}, 送料 ¥{shipping}, 代引手数料 ¥{surcharge}, 値引 ¥{discount}): "
                  "check the order in CS-Cart, then release it with bridge orders") if missing > 0 else
                _("the slip rows total ¥{got} but the CS-Cart order total is ¥{expected} (¥{missing} too much on "
                  "the slip; products ¥{products}, 送料 ¥{shipping}, 代引手数料 ¥{surcharge}, 値引 ¥{discount}): "
                  "check the order in CS-Cart, then release it with bridge orders"))
    return template.format(
        got=number(got), expected=number(expected), missing=number(missing),
        products=number(sum((line.quantity * line.unit_price for line in order.lines), Decimal(0))),
        shipping=number(order.shipping_cost), surcharge=number(order.payment_surcharge),
        discount=number(order_discount(order)))


def refused(rows: Sequence[Mapping[str, Any]], layout: FileLayout, substitutions: dict[str, str]) -> list[str]:
    """Why these rows cannot be written (a value outside the encoding, a code too long); empty = fine."""
    return prepare_rows(rows, layout, substitutions)[2]


def prepare_slips(slips: Sequence[Sequence[Mapping[str, Any]]], layout: FileLayout, substitutions: dict[str, str]
                  ) -> tuple[list[list[list[str]]], dict[int, list[str]], list[TextChange]]:
    """Every slip's cells, the problems of each refused slip by its index, and the text changes made to the slips
    that are not refused. One pass over all rows; only when something is refused are the slips prepared one by
    one, so each problem is pinned to its order."""
    cells, changes, problems = prepare_rows([row for rows in slips for row in rows], layout, substitutions)
    if not problems:
        out, start = [], 0
        for rows in slips:
            out.append(cells[start:start + len(rows)])
            start += len(rows)
        return out, {}, changes
    out, refused_slips, kept = [], {}, []
    for index, rows in enumerate(slips):
        slip_cells, slip_changes, slip_problems = prepare_rows(rows, layout, substitutions)
        out.append(slip_cells)
        if slip_problems:
            refused_slips[index] = slip_problems
        else:
            kept.extend(slip_changes)
    return out, refused_slips, kept


def render(rows: Sequence[Mapping[str, Any]], layout: FileLayout, substitutions: dict[str, str]) -> bytes:
    """The file's exact bytes: header, rows sorted by slip then line, the layout's encoding and line ends."""
    ordered = sorted(rows, key=lambda r: (int(r["受注№"]), int(r["行"])))
    cells, _skipped, problems = prepare_rows(ordered, layout, substitutions)
    if problems:
        raise ValidationFailed(ngettext("{file}: {count} value refused, no file written",
                                        "{file}: {count} values refused, no file written", len(problems)).format(
            file=layout.label(), count=len(problems)), problems)
    return render_cells(cells, layout)


def render_cells(cells: Sequence[Sequence[str]], layout: FileLayout) -> bytes:
    """Prepared cells (already in file order) to the file's bytes."""
    text = io.StringIO(newline="")
    writer = csv_writer(text, layout)  # SMILE's own dialect: no backslash escapes when quoting is off
    for _header in range(layout.header_rows):
        writer.writerow(list(layout.columns))
    writer.writerows(cells)
    if layout.encoding == "utf-16":
        return b"\xff\xfe" + text.getvalue().encode("utf-16-le")
    return text.getvalue().encode(layout.encoding)


# ---- batches ---------------------------------------------------------------------------------------------------


def file_name(layout: FileLayout, batch_id: str, now: datetime) -> str:
    return batch_file_name(layout, batch_id, now)


def write_file(directory: Path, name: str, content: bytes) -> Path:
    """Temporary name beside the target, fsync, rename, fsync the folder (``smile.writer.atomic_write``)."""
    path = directory / name
    atomic_write(path, _BytesRender(content), "latin-1")
    return path


class _BytesRender:
    """``atomic_write`` opens a text stream; the bytes are already encoded, so they go to its buffer."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __call__(self, stream: io.TextIOWrapper) -> None:
        stream.flush()
        stream.buffer.write(self.content)


def finish_file(directory: Path, batch: ExportBatch) -> Text:
    """Make the final file exist with the recorded bytes; returns what was done, for the log."""
    path = directory / batch.file_name
    for stale in directory.glob(f".{batch.file_name}.*.tmp"):
        stale.unlink(missing_ok=True)  # a write cut short: never renamed, never seen by SMILE
    if path.exists():
        if checksum(path.read_bytes()) == batch.checksum:
            return _("final file already complete")
        # Our own name with other bytes can only be a torn copy from outside the atomic path: replace it.
    write_file(directory, batch.file_name, batch.content)
    return _("file written from the recorded batch")
