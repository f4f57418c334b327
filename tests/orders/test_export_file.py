"""The 受注 import file: exact content (golden, CP932), Tokyo business dates around midnight, extra lines."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bridge import metrics
from bridge.domain.orders import Order, OrderLine
from bridge.domain.time import JST
from bridge.smile.settings import SmileSettings
from bridge.sync.orders import export
from tests.orders.conftest import Harness

GOLDEN = Path(__file__).parent / "golden" / "juchu_golden.csv"
UTC = timezone.utc


def _unix(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp())


async def test_the_file_matches_the_golden_file_byte_for_byte(harness: Harness) -> None:
    # 23:59:59 JST on the 23rd, 00:00:00 JST on the 24th, and one from an unknown customer with a 髙.
    # The first is 代引 with its fee and a coupon: every yen of CS-Cart's total is a row (issue 15).
    before_midnight = await harness.place(user_id=1, lines=[(3, 2), (5, 1)], timestamp=_unix(2026, 11, 23, 14, 59, 59),
                                          payment_id=4)
    harness.sim.state.orders[before_midnight].shipping_cost = "800.00"
    harness.sim.state.orders[before_midnight].payment_surcharge = "330.00"
    harness.sim.state.orders[before_midnight].subtotal_discount = "500.00"
    subtotal = harness.sim.state.orders[before_midnight + 0].subtotal
    assert subtotal > 0
    direct = await harness.place(
        user_id=2, lines=[(4, 3)], timestamp=_unix(2026, 11, 23, 15, 0, 0),
        customer={"s_lastname": "田中", "s_firstname": "一郎", "s_zipcode": "530-0001", "s_state": "大阪府",
                  "s_city": "大阪市北区", "s_address": "梅田1-2-3", "s_address_2": "梅田ビル5F",
                  "s_phone": "06-1234-5678"},
        direct_ship={"smile_ship_to_code": "000123"},
    )
    surcharge = (harness.sim.state.orders[direct].subtotal / 10).to_integral_value(rounding="ROUND_DOWN")
    harness.addon[direct]["smile_direct_ship_surcharge"] = f"{surcharge}.00"
    unknown = await harness.place(user_id=20, lines=[(7, 1)], timestamp=_unix(2026, 11, 24, 1, 0, 0),
                                  customer={"b_lastname": "髙橋", "b_firstname": "誠"})
    substituted = metrics.SMILE_TEXT_SUBSTITUTIONS.labels(layout="order_import", reason="substituted")
    before = substituted._value.get()
    await harness.cycle()
    assert substituted._value.get() > before  # 髙 → 高 counted and logged
    files = harness.files()
    assert len(files) == 1
    content = files[0].read_bytes()
    if not GOLDEN.exists():  # first run writes it; review it by eye, then it is frozen
        GOLDEN.write_bytes(content)
    assert content == GOLDEN.read_bytes()
    text = content.decode("cp932")
    # header, order 1 (2 lines + 送料 + 代引手数料 + 値引), order 2 (+ 直送手数料), order 3
    assert text.count("\r\n") == 1 + 5 + 2 + 1
    for order_id in (before_midnight, direct, unknown):
        rows = [line.split(",") for line in text.splitlines()[1:] if line.split(",")[14] == str(order_id)]
        amount = text.splitlines()[0].split(",").index("金額")
        assert sum(Decimal(row[amount]) for row in rows) == harness.sim.state.orders[order_id].total + (
            Decimal(harness.addon.get(order_id, {}).get("smile_direct_ship_surcharge") or 0))
    assert {before_midnight, direct, unknown} == set(harness.exported_ids())


def _order(placed: datetime, **fields: object) -> Order:
    values: dict[str, object] = {
        "order_id": 7, "status": "O", "placed_at": placed, "updated_at": placed, "user_id": 1, "email": "a@b.jp",
        "total": Decimal(1000), "lines": (OrderLine("10000001", "紙コップ", Decimal(2), Decimal(500)),),
    }
    values.update(fields)
    return Order(**values)  # type: ignore[arg-type]


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)))
def test_the_slip_date_is_the_tokyo_date_of_the_order(moment: datetime) -> None:
    placed = moment.replace(tzinfo=UTC)
    rows = export.slip_rows(_order(placed), export.Party("100001", "x"), export.ExportRules())
    assert rows[0]["受注日付"] == placed.astimezone(JST).strftime("%Y%m%d")


def test_midnight_in_tokyo_is_15_00_utc() -> None:
    rules, party = export.ExportRules(), export.Party("100001", "x")
    late = export.slip_rows(_order(datetime(2026, 12, 31, 14, 59, 59, tzinfo=UTC)), party, rules)
    new_year = export.slip_rows(_order(datetime(2026, 12, 31, 15, 0, 0, tzinfo=UTC)), party, rules)
    assert (late[0]["受注日付"], new_year[0]["受注日付"]) == ("20261231", "20270101")


def test_a_cancellation_slip_negates_quantities_and_amounts() -> None:
    order = _order(datetime(2026, 5, 1, tzinfo=UTC), shipping_cost=Decimal(800))
    rows = export.slip_rows(order, export.Party("100001", "x"), export.ExportRules(), sign=-1)
    assert [(r["商品ｺｰﾄﾞ"], r["数量"], r["金額"]) for r in rows] == [("10000001", "-2", "-1000"), ("SF-01", "-1", "-800")]


def test_a_value_outside_jis_x_0208_refuses_only_that_order() -> None:
    layout = SmileSettings().layout("order_import")
    rows = export.slip_rows(_order(datetime(2026, 5, 1, tzinfo=UTC), notes="🎁 gift"), export.Party("100001", "x"),
                            export.ExportRules())
    problems = export.refused(rows, layout, SmileSettings().substitutions)
    assert problems and "備考" in problems[0]


def test_shipping_and_surcharge_lines_carry_their_own_tax_rate_and_class() -> None:
    order = _order(datetime(2026, 5, 1, tzinfo=UTC), shipping_cost=Decimal(800), direct_ship=True)
    rules = export.ExportRules(shipping_tax_rate=Decimal(8), shipping_tax_class="0", surcharge_tax_class="2")
    rows = export.slip_rows(order, export.Party("100001", "x"), rules, surcharge=Decimal(100))
    assert [(r["商品ｺｰﾄﾞ"], r["課税区分"], r["消費税率％"]) for r in rows] == [
        ("10000001", "1", "10"), ("SF-01", "0", "8"), ("DS-01", "2", "10")]
