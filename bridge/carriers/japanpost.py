"""Japan Post ゆうパックプリントR: the bridge's own layout, imported through a filter the operator registers once.

ゆうプリR has no fixed import layout (carriers.md §3): each site registers a 取り込み用フィルタ that says which
column is which item and how values convert. ``COLUMNS`` is the single source of both the file and the filter
description (``filter_description``), which docs/carriers.md reproduces for the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bridge.carriers.address import AddressParts
from bridge.carriers.labels import RowBuilder, encode_csv
from bridge.carriers.rules import JAPANPOST_HANDLING, JapanPostRules, Service
from bridge.i18n import Text, _

CARRIER = "japanpost"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    item: str  # the ゆうプリR item the filter maps it to
    values: str = ""  # value conversion the filter needs, or the format


COLUMNS: tuple[Column, ...] = (
    Column("お客様側管理番号", "お客様側管理番号", "CS-Cart order id (半角数字)"),
    Column("発送予定日", "発送予定日", "yyyymmdd"),
    Column("郵便種別", "郵便種別", "0 → ゆうパック, 9 → ゆうパケット"),
    Column("元着払代引", "元/着払/代引", "0 → 元払, 1 → 着払, 2 → 代引"),
    Column("保冷種別", "保冷種別", "0 → なし, 1 → チルド, 2 → 冷凍"),
    Column("お届け先郵便番号", "お届け先 郵便番号", "NNN-NNNN"),
    Column("お届け先都道府県", "お届け先 住所1 (都道府県)", "全角4"),
    Column("お届け先市区町村", "お届け先 住所1 (市区町村)", "全角25"),
    Column("お届け先丁目番地", "お届け先 住所2", "全角25"),
    Column("お届け先建物名", "お届け先 住所3", "全角25; street overflow comes first"),
    Column("お届け先電話番号", "お届け先 電話番号", "hyphens allowed, ≤ 15"),
    Column("お届け先名", "お届け先 名前", "全角20"),
    Column("お届け先敬称", "お届け先 敬称", "様 / 御中"),
    Column("お届け先名カナ", "お届け先 名前カナ", "半角カタカナ ≤ 50"),
    Column("お届け先法人名", "お届け先 会社名", "全角25"),
    Column("お届け先部署名", "お届け先 部署名", "全角25"),
    Column("ご依頼主郵便番号", "ご依頼主 郵便番号", "NNN-NNNN"),
    Column("ご依頼主都道府県", "ご依頼主 住所1 (都道府県)", "全角4"),
    Column("ご依頼主市区町村", "ご依頼主 住所1 (市区町村)", "全角25"),
    Column("ご依頼主丁目番地", "ご依頼主 住所2", "全角25"),
    Column("ご依頼主建物名", "ご依頼主 住所3", "全角25"),
    Column("ご依頼主電話番号", "ご依頼主 電話番号", "≤ 15"),
    Column("ご依頼主名", "ご依頼主 名前", "全角20"),
    Column("ご依頼主名カナ", "ご依頼主 名前カナ", "半角カタカナ ≤ 50"),
    Column("品名", "品名", "全角25"),
    Column("個数", "個数", "1"),
    Column("配達希望日", "配達希望日", "yyyymmdd or blank"),
    Column("配達希望時間帯", "配達希望時間帯",
           "51 → 午前中, 52 → 12時～14時頃, 53 → 14時～16時頃, 54 → 16時～18時頃, 55 → 18時～20時頃, "
           "57 → 19時～21時頃, blank → 指定なし (codes from carriers.japanpost.time_slots)"),
    Column("代引金額", "代引金額", "yen, digits only"),
    Column("代引消費税", "代引消費税額", "yen, digits only"),
    Column("こわれもの", "こわれもの", "1 → 有, 0 → 無"),
    Column("なまもの", "なまもの", "1 → 有, 0 → 無"),
    Column("ビン類", "ビン類", "1 → 有, 0 → 無"),
    Column("逆さま厳禁", "逆さま厳禁", "1 → 有, 0 → 無"),
    Column("下積み厳禁", "下積み厳禁", "1 → 有, 0 → 無"),
)
HEADER = tuple(column.header for column in COLUMNS)

# The 出力用フィルタ the operator registers: issued labels come back with these columns, header on row 1.
RESULT_COLUMNS: tuple[Column, ...] = (
    Column("お客様側管理番号", "お客様側管理番号", "the CS-Cart order id written on export"),
    Column("お問い合せ番号", "お問い合せ番号 (追跡番号)", "12 digits; hyphens allowed"),
    Column("発送日", "発送予定日", "yyyymmdd or yyyy/mm/dd"),
)
RESULT_HEADER = tuple(column.header for column in RESULT_COLUMNS)
_INDEX = {header: position for position, header in enumerate(HEADER)}

MAIL_KINDS = {Service.YU_PACKET: "9"}  # everything else is ゆうパック "0"
PAYMENT_CODES = {Service.PREPAID: "0", Service.RECIPIENT_PAYS: "1", Service.COD: "2", Service.YU_PACKET: "0"}
COOL_CODES = {"normal": "0", "chilled": "1", "frozen": "2"}
PREFECTURE, PART, NAME, PHONE = 8, 50, 40, 15


def build_row(b: RowBuilder) -> list[str]:
    rules = b.carrier_rules
    assert isinstance(rules, JapanPostRules)
    order, method, service = b.order, b.request.method, b.request.service
    row = [""] * len(COLUMNS)

    def put(header: str, value: str) -> None:
        row[_INDEX[header]] = value

    put("お客様側管理番号", str(order.order_id))
    put("発送予定日", b.ship_date.strftime("%Y%m%d"))
    put("郵便種別", MAIL_KINDS.get(service, "0"))
    put("元着払代引", PAYMENT_CODES[service])
    if method.cool != "normal" and service is Service.YU_PACKET:
        b.report.problem("cool", _("ゆうパケット has no 保冷"), _("change the shipping method rule in rules/shipping.yaml"))
    put("保冷種別", COOL_CODES[method.cool])

    ship_to = order.shipping
    _address(b, "お届け先", "shipping", b.address("shipping", ship_to), put, _("shorten the address on the order"))
    put("お届け先電話番号", b.phone("shipping.phone", ship_to.phone, PHONE))
    name, company, honorific = ship_to.name, ship_to.company, rules.honorific
    if not name.strip() and company.strip():
        name, company, honorific = company, "", "御中"
    put("お届け先名", b.text("shipping.name", name, NAME, required=True, lost=True))
    put("お届け先敬称", b.text("honorific", honorific, 4))
    put("お届け先名カナ", b.kana("shipping.name_kana", ship_to.name_kana))
    put("お届け先法人名", b.text("shipping.company", company, PART))
    put("お届け先部署名", b.text("shipping.department", ship_to.department, PART))

    sender, fix = b.sender()
    _address(b, "ご依頼主", "sender", b.address("sender", sender, fix=fix), put, fix)
    put("ご依頼主電話番号", b.phone("sender.phone", sender.phone, PHONE, fix=fix))
    put("ご依頼主名", b.text("sender.name", sender.company or sender.name, NAME, required=True))
    put("ご依頼主名カナ", b.kana("sender.name_kana", sender.name_kana))

    put("品名", b.item_name(PART, required=True))
    put("個数", "1")
    put("配達希望日", b.delivery_date("%Y%m%d"))
    put("配達希望時間帯", b.slot())
    cod = b.cod(rules.cod_max)
    if cod is not None:
        put("代引金額", str(cod.amount))
        put("代引消費税", str(cod.tax))
    for flag in JAPANPOST_HANDLING:
        put(flag, "1" if flag in method.handling else "0")
    return row


def _address(b: RowBuilder, prefix: str, name: str, parts: AddressParts | None,
             put: Callable[[str, str], None], fix: Text) -> None:
    if parts is None:
        return
    put(f"{prefix}郵便番号", b.postcode(parts))
    put(f"{prefix}都道府県", parts.prefecture)
    put(f"{prefix}市区町村", b.limit(f"{name}.city", parts.city, PART, fix))
    street, building = b.street_and_building(name, parts, PART, PART)
    put(f"{prefix}丁目番地", street)
    put(f"{prefix}建物名", building)


def write(rows: Sequence[Sequence[str]]) -> bytes:
    return encode_csv(HEADER, rows, quote_all=True)


def filter_description() -> str:
    """The 取り込み用フィルタ the operator registers in ゆうプリR (also printed in docs/carriers.md)."""
    lines = [
        "ゆうプリR 取り込み用フィルタ「cscart-smile-bridge」",
        "ファイル形式: CSV (カンマ区切り, ダブルクォート囲み), 文字コード: Shift_JIS, 取込開始行: 2 (1行目は見出し)",
        "",
        "| 列 | 見出し | ゆうプリR 項目 | 値の変換 / 形式 |",
        "|---|---|---|---|",
    ]
    for number, column in enumerate(COLUMNS, start=1):
        lines.append(f"| {number} | {column.header} | {column.item} | {column.values} |")
    lines += [
        "",
        "ゆうプリR 出力用フィルタ「cscart-smile-bridge 結果」",
        "ファイル形式: CSV (カンマ区切り), 文字コード: Shift_JIS, 1行目に見出しを出力",
        "",
        "| 列 | 見出し | ゆうプリR 項目 | 形式 |",
        "|---|---|---|---|",
    ]
    for number, column in enumerate(RESULT_COLUMNS, start=1):
        lines.append(f"| {number} | {column.header} | {column.item} | {column.values} |")
    return "\n".join(lines)
