"""Yamato B2クラウド 外部データ取込: 95 columns, CP932, CRLF, one header row (carriers.md §1).

The same layout comes back as B2's 発行済データ with 伝票番号 (col 4) filled; ``results`` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.carriers.labels import RowBuilder, encode_csv, numbered_row
from bridge.carriers.rules import Service, YamatoRules
from bridge.carriers.text import width
from bridge.i18n import _

CARRIER = "yamato"

HEADER: tuple[str, ...] = (
    "お客様管理番号", "送り状種類", "クール区分", "伝票番号", "出荷予定日", "お届け予定（指定）日", "配達時間帯",
    "お届け先コード", "お届け先電話番号", "お届け先電話番号枝番", "お届け先郵便番号", "お届け先住所",
    "お届け先アパートマンション名", "お届け先会社・部門１", "お届け先会社・部門２", "お届け先名", "お届け先名(ｶﾅ)",
    "敬称", "ご依頼主コード", "ご依頼主電話番号", "ご依頼主電話番号枝番", "ご依頼主郵便番号", "ご依頼主住所",
    "ご依頼主アパートマンション", "ご依頼主名", "ご依頼主名(ｶﾅ)", "品名コード１", "品名１", "品名コード２", "品名２",
    "荷扱い１", "荷扱い２", "記事", "コレクト代金引換額（税込）", "内消費税額等", "営業所止置き", "営業所コード",
    "発行枚数", "個数口表示フラグ", "ご請求先顧客コード", "ご請求先分類コード", "運賃管理番号",
    "クロネコwebコレクトデータ登録", "クロネコwebコレクト加盟店番号", "クロネコwebコレクト申込受付番号１",
    "クロネコwebコレクト申込受付番号２", "クロネコwebコレクト申込受付番号３", "お届け予定ｅメール利用区分",
    "お届け予定ｅメールe-mailアドレス", "入力機種", "お届け予定ｅメールメッセージ", "お届け完了ｅメール利用区分",
    "お届け完了ｅメールe-mailアドレス", "お届け完了ｅメールメッセージ", "クロネコ収納代行利用区分", "予備",
    "収納代行請求金額(税込)", "収納代行内消費税額等", "収納代行請求先郵便番号", "収納代行請求先住所",
    "収納代行請求先住所（アパートマンション名）", "収納代行請求先会社・部門名１", "収納代行請求先会社・部門名２",
    "収納代行請求先名(漢字)", "収納代行請求先名(カナ)", "収納代行問合せ先名(漢字)", "収納代行問合せ先郵便番号",
    "収納代行問合せ先住所", "収納代行問合せ先住所（アパートマンション名）", "収納代行問合せ先電話番号",
    "収納代行管理番号", "収納代行品名", "収納代行備考", "複数口くくりキー", "検索キータイトル1", "検索キー1",
    "検索キータイトル2", "検索キー2", "検索キータイトル3", "検索キー3", "検索キータイトル4", "検索キー4",
    "検索キータイトル5", "検索キー5", "予備", "予備", "投函予定メール利用区分", "投函予定メールe-mailアドレス",
    "投函予定メールメッセージ", "投函完了メール（お届け先宛）利用区分", "投函完了メール（お届け先宛）e-mailアドレス",
    "投函完了メール（お届け先宛）メッセージ", "投函完了メール（ご依頼主宛）利用区分",
    "投函完了メール（ご依頼主宛）e-mailアドレス", "投函完了メール（ご依頼主宛）メッセージ",
)
COLUMNS = len(HEADER)

# Column numbers (1-based, as in carriers.md §1).
ORDER_NO, SLIP_TYPE, COOL, TRACKING, SHIP_DATE, DELIVERY_DATE, TIME_SLOT = 1, 2, 3, 4, 5, 6, 7

SLIP_TYPES = {
    Service.PREPAID: "0", Service.COD: "2", Service.TIME: "4", Service.RECIPIENT_PAYS: "5",
    Service.YU_PACKET: "7", Service.COMPACT: "8", Service.COMPACT_COD: "9", Service.NEKOPOS: "A",
}
COOL_CODES = {"normal": "0", "frozen": "1", "chilled": "2"}
_COOL_SERVICES = (Service.PREPAID, Service.COD, Service.RECIPIENT_PAYS)

# 全角n limits as half-width units (carriers.md §1, server-side limits).
NAME, CITY, STREET, BUILDING, COMPANY, ITEM, HANDLING = 32, 24, 32, 32, 50, 50, 20


def build_row(b: RowBuilder) -> list[str]:
    """One B2 row for ``b.order``; problems are left in ``b.report`` (the row is then not written)."""
    rules = b.carrier_rules
    assert isinstance(rules, YamatoRules)
    order, method, service = b.order, b.request.method, b.request.service
    row, put = numbered_row(COLUMNS)

    put(ORDER_NO, str(order.order_id))
    put(SLIP_TYPE, SLIP_TYPES[service])
    if method.cool != "normal" and service not in _COOL_SERVICES:
        b.report.problem("cool", _("クール便 is not available with {value}").format(value=service.value),
                         _("change the shipping method rule in rules/shipping.yaml"))
    put(COOL, COOL_CODES[method.cool])
    put(SHIP_DATE, b.ship_date.strftime("%Y/%m/%d"))
    put(DELIVERY_DATE, b.delivery_date("%Y/%m/%d"))
    put(TIME_SLOT, b.slot())

    # お届け先
    ship_to = order.shipping
    put(8, b.code("ship_to_code", order.ship_to_code, 20))
    put(9, b.phone("shipping.phone", ship_to.phone, 15))
    parts = b.address("shipping", ship_to)
    if parts is not None:
        put(11, b.postcode(parts))
        city = b.limit("shipping.city", parts.city, CITY, _("shorten the city (市区郡町村) on the order"))
        street, building = b.street_and_building("shipping", parts, STREET, BUILDING)
        put(12, parts.prefecture + city + street)
        put(13, building)
    name, company = ship_to.name, ship_to.company
    honorific = rules.honorific
    if not name.strip() and company.strip():  # a company without a person: 御中
        name, company, honorific = company, "", "御中"
    put(14, b.text("shipping.company", company, COMPANY))
    put(15, b.text("shipping.department", ship_to.department, COMPANY))
    put(16, b.text("shipping.name", name, NAME, required=True, lost=True))
    put(17, b.kana("shipping.name_kana", ship_to.name_kana))
    put(18, b.text("honorific", honorific, 4))

    # ご依頼主
    sender, fix = b.sender()
    put(19, b.code("shipper.code", b.rules.shipper.code, 20))
    put(20, b.phone("sender.phone", sender.phone, 15, fix=fix))
    sender_parts = b.address("sender", sender, fix=fix)
    if sender_parts is not None:
        put(22, b.postcode(sender_parts))
        street, building = b.street_and_building("sender", sender_parts, STREET, BUILDING)
        put(23, sender_parts.prefecture + b.limit("sender.city", sender_parts.city, CITY, fix) + street)
        put(24, building)
    sender_name = sender.company or sender.name
    put(25, b.text("sender.name", sender_name, NAME, required=True))
    put(26, b.kana("sender.name_kana", sender.name_kana))

    # 品名, 荷扱い
    if order.lines and not (b.request.method.item_name or rules.item_name):
        put(27, b.code("item_code", order.lines[0].product_code, 30))
    put(28, b.item_name(ITEM, required=service is not Service.YU_PACKET))
    for column, note in zip((31, 32), method.handling, strict=False):
        put(column, b.text("handling", note, HANDLING))

    # コレクト
    cod = b.cod(rules.compact_cod_max if service is Service.COMPACT_COD else rules.cod_max)
    if cod is not None:
        put(34, str(cod.amount))
        put(35, str(cod.tax))

    # 請求先 (contract)
    put(40, rules.billing_customer_code)
    put(41, rules.billing_class_code)
    put(42, rules.freight_number)

    # 検索キー1: a second home for the order id (key 5 belongs to B2)
    put(75, b.text("search_key_title", rules.search_key_title, 20))
    put(76, str(order.order_id))

    if width(row[ORDER_NO - 1]) > 20:
        b.report.problem("order_id", _("longer than 20 characters"), _("B2 お客様管理番号 holds 20"))
    return row


def write(rows: Sequence[Sequence[str]]) -> bytes:
    return encode_csv(HEADER, rows)
