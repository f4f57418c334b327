"""Each gate of order_flow.yaml, end to end: shoppers place orders on the simulator, the job holds or releases them,
and a held order is released once its reason is gone. Every decision is stored with its reason."""

from __future__ import annotations

from decimal import Decimal

from bridge.domain.orders import PaymentState
from bridge.domain.orders import WorkflowState as S
from bridge.rules.pricing import direct_ship_surcharge
from bridge.store import bindings
from bridge.sync.orders.rules import order_rules
from tests.orders.conftest import Harness

ON_ACCOUNT, PREPAID, CARD, COD = 1, 2, 3, 4


async def _reasons(harness: Harness, order_id: int) -> list[str]:
    return [step.reason for step in await harness.history(order_id)]


def _expensive(harness: Harness, over: int) -> tuple[int, int]:
    """A product and a quantity whose subtotal is above ``over`` yen."""
    product = harness.sim.state.products[5]
    price = int(Decimal(product.price))
    return product.product_id, over // price + 1


# -- 掛売 and the credit check -------------------------------------------------------------------------------------


async def test_over_the_credit_limit_holds_with_the_reason_and_a_higher_limit_releases(harness: Harness) -> None:
    await harness.credit("100003", Decimal(50_000), receivable=Decimal(30_000))
    product, quantity = _expensive(harness, 25_000)
    order_id = await harness.place(user_id=3, lines=[(product, quantity)])
    await harness.cycle()
    held = await harness.state(order_id)
    assert held.workflow_state is S.HOLD
    reason = (await _reasons(harness, order_id))[-1]
    assert "credit limit ¥50000 exceeded: open ¥30000 + this order" in reason
    assert harness.sim.state.orders[order_id].status == "A"  # 保留 written to CS-Cart
    assert harness.files() == []

    await harness.credit("100003", Decimal(500_000), receivable=Decimal(30_000))
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    assert harness.exported_ids() == [order_id]
    assert harness.sim.state.orders[order_id].status == "E"


async def test_exposure_counts_orders_sent_to_smile_and_earlier_orders_of_the_same_cycle(harness: Harness) -> None:
    product, quantity = _expensive(harness, 40_000)
    first = await harness.place(user_id=4, lines=[(product, quantity)])
    await harness.credit("100004", Decimal(100_000))
    await harness.cycle()
    assert (await harness.state(first)).workflow_state is S.SHIPPING_INSTRUCTED
    second = await harness.place(user_id=4, lines=[(product, quantity)])
    third = await harness.place(user_id=4, lines=[(product, quantity)])
    await harness.cycle()
    total = harness.sim.state.orders[first].total
    assert total * 2 <= 100_000 < total * 3
    assert (await harness.state(second)).workflow_state is S.SHIPPING_INSTRUCTED
    assert (await harness.state(third)).workflow_state is S.HOLD
    assert f"open ¥{total * 2}" in (await _reasons(harness, third))[-1]


async def test_the_exposure_of_some_customers_is_theirs_in_the_whole_exposure(harness: Harness) -> None:
    """The gate reads the exposure of the customers it needs (those with a 与信限度額 among the orders gated), not
    every open order's: each one's figure is the one the whole read gives."""
    from bridge.sync.orders.credit import credit_exposure

    for user_id in (4, 5, 6, 4):
        await harness.place(user_id=user_id)
    await harness.credit("100004", Decimal(10_000_000), receivable=Decimal(1_000))
    await harness.credit("100005", None, receivable=Decimal(70))
    await harness.cycle()
    await harness.place(user_id=4)  # waiting for the gates: counted only with waiting=True
    async with harness.store.transaction() as tx:
        for waiting in (True, False):
            whole = await credit_exposure(tx, waiting=waiting)
            assert set(whole) >= {"100004", "100005", "100006"}
            for some in ({"100004"}, {"100005", "100006"}, {"100004", "100099"}, set()):
                part = await credit_exposure(tx, waiting=waiting, customers=some)
                assert part == {code: total for code, total in whole.items() if code in some}


async def test_a_customer_without_a_credit_limit_passes_by_default(harness: Harness) -> None:
    order_id = await harness.place(user_id=5)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED


# -- 先入金, card, COD ---------------------------------------------------------------------------------------------


async def test_prepaid_waits_for_the_payment_then_ships_and_tells_the_customer(harness: Harness) -> None:
    order_id = await harness.place(user_id=6, payment_id=PREPAID)
    await harness.cycle()
    held = await harness.state(order_id)
    assert held.workflow_state is S.HOLD and held.payment_state is PaymentState.UNPAID
    assert "waiting for payment (先入金)" in (await _reasons(harness, order_id))[-1]
    await harness.cycle()  # still unpaid: no new history, no new status write
    assert len(await harness.history(order_id)) == 2
    assert [n.status for n in harness.status_writes(order_id)] == ["O", "A"]

    await harness.set_status(order_id, "P")  # 入金確認: staff mark it paid (payment_received=Y)
    await harness.cycle()
    released = await harness.state(order_id)
    assert released.workflow_state is S.SHIPPING_INSTRUCTED and released.payment_state is PaymentState.PAID
    assert harness.exported_ids() == [order_id]
    last = harness.status_writes(order_id)[-1]
    assert (last.status, last.to_customer) == ("E", True)  # notify_payment_received: the customer hears of it


async def test_a_card_order_is_authorised_at_checkout_and_a_failed_one_waits(harness: Harness) -> None:
    authorised = await harness.place(user_id=7, payment_id=CARD)
    failed = await harness.place(user_id=7, payment_id=CARD, status="F")
    await harness.cycle()
    assert (await harness.state(authorised)).payment_state is PaymentState.AUTHORISED
    assert (await harness.state(authorised)).workflow_state is S.SHIPPING_INSTRUCTED
    assert (await harness.state(failed)).workflow_state is S.HOLD
    assert harness.exported_ids() == [authorised]


async def test_cod_above_the_limit_is_held_and_below_it_ships(harness: Harness) -> None:
    product, quantity = _expensive(harness, 300_000)
    big = await harness.place(user_id=8, payment_id=COD, lines=[(product, quantity)])
    small = await harness.place(user_id=8, payment_id=COD, lines=[(product, 1)])
    await harness.cycle()
    assert (await harness.state(big)).workflow_state is S.HOLD
    assert "代引 total" in (await _reasons(harness, big))[-1]
    assert (await harness.state(small)).workflow_state is S.SHIPPING_INSTRUCTED
    assert (await harness.state(small)).payment_state is PaymentState.COD


async def test_a_payment_method_without_a_class_is_held(harness: Harness) -> None:
    harness.sim.state.payments[9] = "ポイント払い"
    order_id = await harness.place(user_id=9, payment_id=9)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert "has no class in order_flow.yaml payment_methods" in (await _reasons(harness, order_id))[-1]


# -- data problems ------------------------------------------------------------------------------------------------


async def test_an_unknown_customer_goes_to_smile_as_shokuchi_with_a_flag(harness: Harness) -> None:
    order_id = await harness.place(user_id=20)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    content = harness.files()[0].read_bytes().decode("cp932")
    assert content.splitlines()[1].split(",")[3] == "999999"
    assert "sent as 諸口 999999" in (await harness.flags(order_id))["misc_customer"]
    assert harness.events.of("order_flagged")[0]["flag"] == "misc_customer"


async def test_an_unknown_product_holds_until_smile_knows_it(harness: Harness) -> None:
    async with harness.store.transaction() as tx:
        await tx.execute("DELETE FROM bindings WHERE id_a = '11' AND entity_a = 'product'")
    order_id = await harness.place(user_id=10, lines=[(11, 1), (3, 1)])
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert "unknown product code(s) 10000011" in (await _reasons(harness, order_id))[-1]
    async with harness.store.transaction() as tx:
        await bindings.bind(tx, "cscart", "product", "11", "smile", "product", "10000011")
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED


async def test_all_reasons_are_kept_and_a_changed_reason_is_recorded(harness: Harness) -> None:
    async with harness.store.transaction() as tx:
        await tx.execute("DELETE FROM bindings WHERE id_a = '12' AND entity_a = 'product'")
    order_id = await harness.place(user_id=11, payment_id=PREPAID, lines=[(12, 1)])
    await harness.cycle()
    first = (await _reasons(harness, order_id))[-1]
    assert "unknown product code(s) 10000012" in first and "waiting for payment" in first
    await harness.set_status(order_id, "P")
    await harness.cycle()
    assert (await _reasons(harness, order_id))[-1] == "still held: unknown product code(s) 10000012: not in the " \
                                                     "SMILE 商品マスター"


# -- staff holds ---------------------------------------------------------------------------------------------------


async def test_a_staff_hold_in_cs_cart_waits_for_staff(harness: Harness) -> None:
    order_id = await harness.place(user_id=12)
    await harness.set_status(order_id, "A")  # staff put it on 保留 before the bridge saw it
    await harness.cycle()
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert harness.files() == []
    await harness.set_status(order_id, "O")
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    assert "released by staff in CS-Cart" in await _reasons(harness, order_id)


# -- 直送 ------------------------------------------------------------------------------------------------------------


async def _direct(harness: Harness, user_id: int, product: int = 3, *, payment_id: int = ON_ACCOUNT,
                  prefecture: str = "大阪府", surcharge: Decimal | None = None) -> int:
    order_id = await harness.place(user_id=user_id, payment_id=payment_id, lines=[(product, 2)],
                                   customer={"s_state": prefecture}, direct_ship={"smile_ship_to_code": "000777"})
    subtotal = harness.sim.state.orders[order_id].subtotal
    pricing = order_rules(harness.context.services.rules.current).pricing
    charged = direct_ship_surcharge(subtotal, pricing) if surcharge is None else surcharge
    harness.addon[order_id]["smile_direct_ship_surcharge"] = str(charged)
    return order_id


async def test_direct_shipping_with_the_right_surcharge_ships_with_its_own_slip_line(harness: Harness) -> None:
    order_id = await _direct(harness, 13)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    rows = [line.split(",") for line in harness.files()[0].read_bytes().decode("cp932").splitlines()[1:]]
    assert [row[16] for row in rows][-1] == "DS-01"
    assert {row[6] for row in rows} == {"000777"}  # 納品先ｺｰﾄﾞ on every row


async def test_a_surcharge_that_does_not_match_the_rule_holds_the_order(harness: Harness) -> None:
    order_id = await _direct(harness, 14, surcharge=Decimal(1))
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert "直送 surcharge charged ¥1 but the rule gives" in (await _reasons(harness, order_id))[-1]
    # Staff correct the surcharge in CS-Cart (saving the order bumps updated_at): the next cycle releases it.
    pricing = order_rules(harness.context.services.rules.current).pricing
    right = direct_ship_surcharge(harness.sim.state.orders[order_id].subtotal, pricing)
    harness.addon[order_id]["smile_direct_ship_surcharge"] = str(right)
    harness.touch(order_id)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED


async def test_direct_shipping_only_for_allowed_products_payments_and_destinations(harness: Harness) -> None:
    product_not_allowed = await _direct(harness, 15, product=12)
    card = await _direct(harness, 15, payment_id=CARD)
    okinawa = await _direct(harness, 15, prefecture="沖縄県")
    await harness.cycle()
    reasons = {order_id: (await _reasons(harness, order_id))[-1] for order_id in (product_not_allowed, card, okinawa)}
    assert "直送 is not allowed for product(s) 10000012" in reasons[product_not_allowed]
    assert "直送 is not allowed with payment class card" in reasons[card]
    assert "直送 is not allowed to 沖縄県" in reasons[okinawa]
    assert harness.files() == []


async def test_a_dry_run_shows_the_plan_and_changes_nothing(harness: Harness) -> None:
    await harness.credit("100016", Decimal(1))
    held = await harness.place(user_id=16)
    released = await harness.place(user_id=17)
    result = await harness.run(dry_run=True)
    assert any(line.startswith(f"order {held}: 保留 — credit limit ¥1 exceeded") for line in result.plan)
    assert f"order {released}: → 出荷指示 (all gates passed)" in result.plan
    assert await harness.store.fetchall("SELECT order_id FROM orders") == []
    assert harness.files() == []


async def test_an_order_the_file_cannot_hold_is_held_and_the_others_still_go(harness: Harness) -> None:
    bad = await harness.place(user_id=18, notes="お届けは☃の日に")  # ☃ is outside JIS X 0208 and CP932
    good = await harness.place(user_id=18)
    await harness.cycle()
    assert harness.exported_ids() == [good]
    assert (await harness.state(bad)).workflow_state is S.HOLD
    reason = (await _reasons(harness, bad))[-1]
    assert reason.startswith("受注 file refuses this order:") and "備考" in reason
    assert harness.sim.state.orders[bad].status == "A"
    steps = len(await harness.history(bad))
    await harness.cycle()  # tried again each cycle, but its history does not grow while nothing changes
    assert len(await harness.history(bad)) == steps and harness.exported_ids() == [good]


async def test_a_move_order_flow_yaml_does_not_allow_is_refused_and_logged(harness: Harness) -> None:
    flow = (harness.settings.rules_dir / "order_flow.yaml")
    flow.write_text(flow.read_text(encoding="utf-8") + "transitions:\n  received: [hold, shipping_instructed, "
                    "cancelled]\n  hold: [cancelled]\n  shipping_instructed: [shipped, cancelled]\n  shipped: "
                    "[notified, complete]\n  notified: [complete]\n", encoding="utf-8")
    await harness.wired.services.rules.reload_hook()
    order_id = await harness.place(user_id=19, payment_id=PREPAID)
    await harness.cycle()
    await harness.set_status(order_id, "P")
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD  # hold → 出荷指示 is not allowed by the rules
    assert harness.files() == []
    refused = await harness.store.fetchall(
        "SELECT detail FROM audit_log WHERE action = 'transition_refused' AND subject = ?", (str(order_id),))
    assert "hold → shipping_instructed not allowed by order_flow.yaml" in refused[0][0]
    await harness.cycle()
    assert len(await harness.store.fetchall(
        "SELECT detail FROM audit_log WHERE action = 'transition_refused' AND subject = ?", (str(order_id),))) == 1
