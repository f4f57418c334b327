"""Sagawa e飛伝Ⅱ/Ⅲ: 74 columns, CP932, CRLF, one header row; e飛伝Ⅲ reads it with the template
「標準_飛脚宅急便_CSV_ヘッダ有り」 (carriers.md §2).

Addresses and names are written in 全角 (e飛伝Ⅲ counts 16 全角 per line), in three address lines and two name
lines; a street that does not fit runs on into the next line, and a row that needs more lines is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.carriers.address import fit_lines
from bridge.carriers.labels import RowBuilder, encode_csv, numbered_row
from bridge.carriers.rules import SagawaRules, Service
from bridge.carriers.text import to_fullwidth
from bridge.i18n import Text, _

CARRIER = "sagawa"

HEADER: tuple[str, ...] = (
    "お届け先コード取得区分", "お届け先コード", "お届け先電話番号", "お届け先郵便番号", "お届け先住所１",
    "お届け先住所２", "お届け先住所３", "お届け先名称１", "お届け先名称２", "お客様管理番号", "お客様コード",
    "部署ご担当者コード取得区分", "部署ご担当者コード", "部署ご担当者名称", "荷送人電話番号", "ご依頼主コード取得区分",
    "ご依頼主コード", "ご依頼主電話番号", "ご依頼主郵便番号", "ご依頼主住所１", "ご依頼主住所２", "ご依頼主名称１",
    "ご依頼主名称２", "荷姿", "品名１", "品名２", "品名３", "品名４", "品名５", "荷札荷姿", "荷札品名１", "荷札品名２",
    "荷札品名３", "荷札品名４", "荷札品名５", "荷札品名６", "荷札品名７", "荷札品名８", "荷札品名９", "荷札品名１０",
    "荷札品名１１", "出荷個数", "スピード指定", "クール便指定", "配達日", "配達指定時間帯", "配達指定時間（時分）",
    "代引金額", "消費税", "決済種別", "保険金額", "指定シール１", "指定シール２", "指定シール３", "営業所受取",
    "SRC区分", "営業所受取営業所コード", "元着区分", "メールアドレス", "ご不在時連絡先", "出荷日",
    "お問い合せ送り状No.", "出荷場印字区分", "集約解除指定", "編集０１", "編集０２", "編集０３", "編集０４", "編集０５",
    "編集０６", "編集０７", "編集０８", "編集０９", "編集１０",
)
COLUMNS = len(HEADER)

ORDER_NO, TRACKING, SHIP_DATE = 10, 62, 61
COOL_CODES = {"normal": "001", "chilled": "002", "frozen": "003"}
PAYER_CODES = {Service.PREPAID: "1", Service.COD: "1", Service.RECIPIENT_PAYS: "2"}  # 元着区分
LINE = 32  # 全角16
PHONE = 14
ORDER_NO_LIMIT = 16


def build_row(b: RowBuilder) -> list[str]:
    rules = b.carrier_rules
    assert isinstance(rules, SagawaRules)
    order, method, service = b.order, b.request.method, b.request.service
    row, put = numbered_row(COLUMNS)

    put(1, "0")  # use the address in this row, not the e飛伝 address book
    ship_to = order.shipping
    put(3, b.phone("shipping.phone", ship_to.phone, PHONE))
    parts = b.address("shipping", ship_to)
    if parts is not None:
        put(4, b.postcode(parts))
        lines = _lines(b, "shipping.address", [parts.prefecture + parts.city, parts.street, parts.building], 3,
                       _("shorten the address on the order (3 lines of 全角16)"))
        for column, line in zip((5, 6, 7), lines, strict=True):
            put(column, line)
    person = " ".join(p for p in (ship_to.department.strip(), ship_to.name.strip()) if p)
    names = [ship_to.company.strip(), person] if ship_to.company.strip() else [person]
    if not any(names):
        b.report.problem("shipping.name", _("is empty"), _("fill in the recipient's name on the order"))
    name_lines = _lines(b, "shipping.name", names, 2, _("shorten the recipient or company name on the order (2 lines "
                                                        "of 全角16)"), lost=True)
    put(8, name_lines[0])
    put(9, name_lines[1])

    order_no = str(order.order_id)
    if len(order_no) > ORDER_NO_LIMIT:
        b.report.problem("order_id", _("longer than {limit} digits").format(limit=ORDER_NO_LIMIT),
                         _("e飛伝 お客様管理番号 holds 16"))
    put(ORDER_NO, order_no)
    put(11, rules.customer_code)

    sender, fix = b.sender()
    put(17, b.code("shipper.code", b.rules.shipper.code, 20))
    put(18, b.phone("sender.phone", sender.phone, PHONE, fix=fix))
    sender_parts = b.address("sender", sender, fix=fix)
    if sender_parts is not None:
        put(19, b.postcode(sender_parts))
        lines = _lines(b, "sender.address", [sender_parts.prefecture + sender_parts.city, sender_parts.street,
                                              sender_parts.building], 2, fix)
        put(20, lines[0])
        put(21, lines[1])
    sender_names = [sender.company.strip(), sender.name.strip()] if sender.company.strip() else [sender.name]
    sender_lines = _lines(b, "sender.name", sender_names, 2, fix)
    put(22, sender_lines[0])
    put(23, sender_lines[1])

    put(24, rules.package_type)
    put(25, b.item_name(LINE, required=True))
    put(42, "1")
    put(43, rules.speed)
    put(44, COOL_CODES[method.cool])
    delivery_date = b.delivery_date("%Y%m%d")
    slot = b.slot()
    put(45, delivery_date)
    put(46, slot)
    cod = b.cod(rules.cod_max)
    if cod is not None:
        put(48, str(cod.amount))
        put(49, str(cod.tax))
        put(50, rules.cod_payment_type)
    seals = _seals(b, rules, bool(delivery_date), bool(slot))
    for column, seal in zip((52, 53, 54), seals, strict=False):
        put(column, seal)
    put(58, PAYER_CODES[service])
    put(SHIP_DATE, b.ship_date.strftime("%Y%m%d"))
    return row


def _lines(b: RowBuilder, name: str, segments: list[str], count: int, fix: Text, *, lost: bool = False
           ) -> list[str]:
    cleaned = [b.clean(name, to_fullwidth(segment), lost=lost) for segment in segments]
    lines = fit_lines(cleaned, [LINE] * count, sep="　")
    if lines is None:
        b.report.problem(name, _("{items!r} does not fit {count} lines of 全角16").format(
                                   items=''.join(cleaned), count=count), fix)
        return [""] * count
    return lines


def _seals(b: RowBuilder, rules: SagawaRules, has_date: bool, has_slot: bool) -> list[str]:
    """指定シール: one date-or-time seal (the time seal covers a date too), then the handling seals."""
    seals: list[str] = []
    if has_slot or has_date:
        wanted, code = ("time_seal", rules.time_seal) if has_slot else ("date_seal", rules.date_seal)
        if code:
            seals.append(code)
        else:
            b.report.warnings.append(
                (_("no 指定シール for the requested time slot: set carriers.sagawa.{wanted} in rules/shipping.yaml "
                   "(code from the e飛伝 manual)") if has_slot else
                 _("no 指定シール for the requested date: set carriers.sagawa.{wanted} in rules/shipping.yaml (code "
                   "from the e飛伝 manual)")).format(wanted=wanted))
    seals.extend(rules.seal_codes[note] for note in b.request.method.handling)
    if len(seals) > 3:
        b.report.problem("seals", _("{count} 指定シール needed, e飛伝 has 3 columns").format(count=len(seals)),
                         _("reduce the handling notes of this shipping method in rules/shipping.yaml"))
    return seals[:3]


def write(rows: Sequence[Sequence[str]]) -> bytes:
    return encode_csv(HEADER, rows)
