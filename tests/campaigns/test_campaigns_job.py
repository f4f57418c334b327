"""The campaigns job end to end on the simulator: a campaign becomes a live promotion at its minute (JST), an order
gets the discount, the promotion ends by itself, hand edits are put back, removed campaigns are disabled."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bridge.cscart.sim.promotions import edit_by_hand

from .conftest import CATEGORY_0100, CATEGORY_0200, bench

SPRING = """\
version: 1
categories: {"0100": [12], "0200": [13]}
costs: {free_shipping_per_order: 800}
campaigns:
  - id: spring-bulk
    name: 春のまとめ買い
    priority: 10
    period: {start: 2027-03-01 10:00, end: 2027-03-31}
    target: {categories: ["0100"]}
    conditions: {min_order_amount: 30000}
    benefits:
      - {type: discount, percent: 5}
      - {type: free_shipping}
"""
BEFORE = datetime(2027, 3, 1, 0, 59, tzinfo=UTC)  # 09:59 JST
START = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # 10:00 JST
LAST_MINUTE = datetime(2027, 3, 31, 14, 59, tzinfo=UTC)  # 3/31 23:59 JST
END = datetime(2027, 3, 31, 15, 0, tzinfo=UTC)  # 4/1 00:00 JST


def big_cart(b) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    price = Decimal(b.sim.state.products[1].price)
    return [(1, int(Decimal(30000) / price) + 1)]


async def test_a_campaign_starts_at_its_minute_applies_at_checkout_and_ends_by_itself(tmp_path: Path) -> None:
    async with bench(tmp_path, SPRING, BEFORE) as b:
        first = await b.run()
        assert (first.read, first.changed, first.enqueued, first.failed) == (1, 1, 1, 0)
        promotion = b.promotion("spring-bulk")
        assert promotion.status == "D"  # 09:59 JST: planned
        assert (promotion.from_date, promotion.to_date) == ("2027-03-01", "2027-03-31")
        assert promotion.conditions["conditions"][0] == {"condition": "categories", "operator": "in", "value": "12"}
        order = b.place(2, big_cart(b), shipping_cost=800)
        assert order.promotions == {}  # CS-Cart's day has begun, but the campaign starts at 10:00
        assert b.events.campaign() == []

        b.clock.at = START
        started = await b.run()
        assert started.enqueued == 1 and b.promotion("spring-bulk").status == "A"
        assert b.events.campaign() == [("spring-bulk", "started")]
        order = b.place(2, big_cart(b), shipping_cost=800)
        assert list(order.promotions) == [promotion.promotion_id]
        amount = Decimal(order.items[next(iter(order.items))].amount)
        unit = Decimal(b.sim.state.products[1].price)
        assert Decimal(order.items[next(iter(order.items))].discount) == (unit * 5 / 100).quantize(Decimal("0.01"))
        assert order.total == unit * amount - order.discount  # 5 % off, shipping free
        assert order.shipping_cost == "0.00"
        small = b.place(2, [(1, 1)], shipping_cost=800)
        assert small.promotions == {}  # under ¥30,000
        other_category = b.place(2, [(11, 40)], shipping_cost=800)
        assert other_category.promotions == {}

        again = await b.run()  # nothing changed: nothing written
        assert again.enqueued == 0

        b.clock.at = LAST_MINUTE
        assert (await b.run()).enqueued == 0 and b.promotion("spring-bulk").status == "A"
        b.clock.at = END
        ended = await b.run()
        assert ended.enqueued == 1 and b.promotion("spring-bulk").status == "D"
        assert b.events.campaign()[-1] == ("spring-bulk", "ended")
        late = b.place(2, big_cart(b), shipping_cost=800)
        assert late.promotions == {}
        assert promotion.promotion_id in b.sim.state.promotions  # never deleted


async def test_a_hand_edit_in_the_admin_is_reported_and_put_back(tmp_path: Path) -> None:
    async with bench(tmp_path, SPRING, START) as b:
        await b.run()
        promotion = b.promotion("spring-bulk")
        edit_by_hand(b.sim.state, promotion.promotion_id, bonuses=[
            {"bonus": "order_discount", "discount_bonus": "by_percentage", "discount_value": "50"}])
        result = await b.run()
        assert result.enqueued == 1
        assert any("changed in CS-Cart by hand" in note for note in result.notes)
        assert ("spring-bulk", "repaired") in b.events.campaign()
        assert b.promotion("spring-bulk").bonuses[0]["discount_value"] == "5"
        assert (await b.run()).enqueued == 0  # repaired: quiet again


async def test_a_campaign_removed_from_the_file_or_disabled_is_disabled_never_deleted(tmp_path: Path) -> None:
    two = SPRING + """\
  - id: vip
    name: 得意先限定
    period: {start: 2027-03-01, end: 2027-03-31}
    target: {customers: ["000003"]}
    benefits: [{type: discount, amount: 500, applies_to: order}]
"""
    async with bench(tmp_path, two, START) as b:
        await b.run()
        vip = b.promotion("vip")
        assert vip.status == "A"
        assert vip.conditions["conditions"] == [{"condition": "users", "operator": "in", "value": "3"}]
        order = b.place(3, [(25, 1)])
        assert Decimal(order.subtotal_discount) == 500
        assert b.place(4, [(25, 1)]).promotions == {}  # another customer
        b.write_rules(SPRING)  # vip removed
        result = await b.run()
        assert result.enqueued == 1
        assert b.promotion("vip").status == "D" and b.promotion("vip").bonuses  # disabled, kept as it was
        assert ("vip", "disabled") in b.events.campaign()
        assert (await b.run()).enqueued == 0
        b.write_rules(SPRING.replace("    priority: 10\n", "    priority: 10\n    enabled: false\n"))
        await b.run()
        assert b.promotion("spring-bulk").status == "D"
        assert ("spring-bulk", "disabled") in b.events.campaign()


async def test_dry_run_writes_nothing_and_a_missing_mapping_names_the_fix(tmp_path: Path) -> None:
    broken = SPRING.replace('categories: ["0100"]', 'categories: ["0100", "0900"]')
    async with bench(tmp_path, broken, START) as b:
        dry = await b.run(dry_run=True)
        assert dry.failed == 1 and dry.enqueued == 0 and not b.sim.state.promotions
        assert any("商品分類コード 0900" in note and "categories:" in note for note in dry.notes)
        fixed = await b.run()
        assert fixed.failed == 1 and not b.sim.state.promotions  # nothing half-written
        b.write_rules(SPRING)
        plan = await b.run(dry_run=True)
        assert plan.changed == 1 and plan.plan and "spring-bulk" in plan.plan[0]
        assert not b.sim.state.promotions
        assert (await b.run()).enqueued == 1
        assert {CATEGORY_0100, CATEGORY_0200} >= {12}


async def test_usage_cap_stops_the_campaign_and_is_announced_once(tmp_path: Path) -> None:
    capped = SPRING.replace("conditions: {min_order_amount: 30000}", "conditions: {max_uses: 2}")
    async with bench(tmp_path, capped, START) as b:
        await b.run()
        given = [b.place(2, [(1, 1)]) for _ in range(3)]
        assert [bool(o.promotions) for o in given] == [True, True, False]  # the third is over the cap
        await b.run()
        assert b.events.campaign().count(("spring-bulk", "usage_cap")) == 1
        await b.run()
        assert b.events.campaign().count(("spring-bulk", "usage_cap")) == 1


async def test_cli_plan_list_and_sync_show_each_campaign_and_its_promotion(tmp_path: Path) -> None:
    import asyncio

    from bridge.domain.time import utcnow

    rules = """\
version: 1
categories: {"0100": [12]}
campaigns:
  - {id: running, name: 実施中, period: {start: 2020-01-01, end: 2099-12-31}, target: {all: true},
     benefits: [{type: discount, percent: 3}]}
  - {id: planned, name: 予定, period: {start: 2099-01-01, end: 2099-01-31}, target: {categories: ["0100"]},
     conditions: {min_order_amount: 30000}, benefits: [{type: discount, percent: 5}, {type: free_shipping}]}
  - {id: old, name: 終了, period: {start: 2020-01-01, end: 2020-01-31}, target: {all: true},
     benefits: [{type: free_shipping}]}
  - {id: points, name: ポイント, period: {start: 2020-01-01, end: 2099-12-31}, target: {all: true},
     benefits: [{type: points, points: 100}]}
"""
    async with bench(tmp_path, rules, utcnow()) as b:
        code, out = await asyncio.to_thread(b.cli, "campaigns", "plan")
        assert code == 0, out
        assert "campaigns: read 4, changed 3, enqueued 0, failed 1" in out
        assert "running: (new)" in out and '"status":"A"' in out.replace(" ", "")
        assert "points" in out and "Reward points" in out  # refused with the reason, in the plan's notes
        assert not b.sim.state.promotions  # a plan writes nothing
        code, out = await asyncio.to_thread(b.cli, "sync", "campaigns")
        assert code == 0 and "delivered 3" in out, out
        code, out = await asyncio.to_thread(b.cli, "campaigns", "list")
        assert code == 0, out
        rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
        assert "running 実施中" in rows["running"] and f"{b.promotion('running').promotion_id}" in rows["running"]
        assert "planned 開始前" in rows["planned"] and " D " in rows["planned"]
        assert "ended 終了" in rows["old"]
        assert "running 実施中" in rows["points"] and rows["points"].split("│")[5].strip() == "-"  # never written
        code, out = await asyncio.to_thread(b.cli, "rules", "check", str(b.settings.rules_dir))
        assert code == 0 and "planned [開始前]: 1/1 0:00–1/31 24:00, カテゴリ0100, ¥30,000以上で5%引き+送料無料" in out


async def test_the_job_runs_again_at_the_next_start_minute_and_after_a_rules_reload(tmp_path: Path) -> None:
    import asyncio
    from datetime import timedelta

    from bridge.sync.registry import campaigns_job

    class Triggers:
        def __init__(self) -> None:
            self.names: list[str] = []

        def trigger(self, name: str) -> bool:
            self.names.append(name)
            return True

    async with bench(tmp_path, SPRING, START - timedelta(seconds=1)) as b:
        triggers = Triggers()
        b.context.services.scheduler = triggers  # type: ignore[assignment]
        b.job = campaigns_job(b.context)  # as the daemon does: its jobs are built once the scheduler exists
        await b.run()
        assert triggers.names == []
        await asyncio.sleep(2.5)  # 1 s to 10:00 JST (+ 0.5 s margin) on the job's clock
        assert triggers.names == ["campaigns"]
        b.clock.at = START + timedelta(days=3)  # the next boundary (the end) is weeks away: no early run
        await b.run()
        await asyncio.sleep(0.6)
        assert triggers.names == ["campaigns"]
        b.write_rules(SPRING.replace("priority: 10", "priority: 20"))
        assert triggers.names == ["campaigns", "campaigns"]  # the reload asks for a run at once


async def test_an_order_with_the_campaign_reaches_the_smile_juchu_file_with_its_own_discount_line(
        tmp_path: Path) -> None:
    from bridge.cscart.sim.seed import ORDER_FLOW_YAML
    from bridge.store import orders as mirror
    from bridge.sync import RunOptions
    from bridge.sync.orders.credit import set_credit
    from bridge.sync.orders.settings import OrdersSettings
    from bridge.sync.registry import orders_job

    async with bench(tmp_path, SPRING, START) as b:
        (b.settings.rules_dir / "order_flow.yaml").write_text(ORDER_FLOW_YAML, encoding="utf-8")
        b.context.services.rules.reload()  # type: ignore[attr-defined]
        await b.run()
        order = b.place(2, big_cart(b) + [(11, 1)], shipping_cost=800, payment_id=1)
        async with b.store.transaction() as tx:
            await set_credit(tx, "000002", None)
        b.clock.at = datetime.now(UTC)  # the orders job looks back from now
        await orders_job(b.context, settings=OrdersSettings(initial_lookback_hours=24 * 365 * 20)).run(RunOptions())
        async with b.store.transaction() as tx:
            mirrored = await mirror.get(tx, order.order_id)
        assert mirrored is not None
        applied = mirrored.order.promotions
        assert [(p.campaign_id, p.discount, p.free_shipping) for p in applied] == [
            ("spring-bulk", order.discount, True)]
        files = sorted((b.settings.data_dir / "smile" / "outbox").glob("juchu_*.csv"))
        assert files, "the 受注 file was not written"
        rows = [line.split(",") for line in files[-1].read_bytes().decode("cp932").splitlines()[1:]]
        header = files[-1].read_bytes().decode("cp932").splitlines()[0].split(",")
        name, amount = header.index("商品名"), header.index("金額")
        lines = [(row[name], Decimal(row[amount])) for row in rows]
        assert ("値引 spring-bulk", -order.discount) in lines
        assert sum(value for _, value in lines) == order.total  # product lines before the discount + 値引
        unit = Decimal(b.sim.state.products[1].price)
        quantity = big_cart(b)[0][1]
        assert (b.sim.state.products[1].product, unit * quantity) in lines


async def test_a_store_without_the_add_on_or_with_an_older_one_is_told_not_written(tmp_path: Path) -> None:
    from bridge.cscart.sim.app import ADDON_ENTITIES
    from bridge.cscart.simulator import install

    async with bench(tmp_path, SPRING, START, addon=False) as b:
        result = await b.run()
        assert result.enqueued == 0 and any("add-on is not installed" in n for n in result.notes)
        install(b.sim.state)
        entity = ADDON_ENTITIES.pop("smile_bridge_promotions")
        try:
            assert await b.context.services.require_cscart().addon_installed(refresh=True)  # the answer is cached
            result = await b.run()
            assert result.enqueued == 0 and any("no promotions entity" in n for n in result.notes)
        finally:
            ADDON_ENTITIES["smile_bridge_promotions"] = entity
        result = await b.run()
        assert result.enqueued == 1 and b.promotion("spring-bulk").status == "A"


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 (EHLO, MAIL, RCPT, DATA, QUIT) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.port = 0
        self.server: object = None

    async def __aenter__(self) -> SmtpSink:  # noqa: PYI034
        import asyncio

        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()  # type: ignore[attr-defined]

    async def _session(self, reader, writer) -> None:  # type: ignore[no-untyped-def]
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go\r\n")
                await writer.drain()
                data = []
                while (chunk := await reader.readline()) != b".\r\n":
                    data.append(chunk)
                self.messages.append(b"".join(data))
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_staff_get_one_mail_per_run_when_mail_is_configured(tmp_path: Path) -> None:
    import email
    from email import policy

    from bridge.config import MailSettings
    from bridge.sync.registry import campaigns_job

    async with SmtpSink() as smtp, bench(tmp_path, SPRING, BEFORE) as b:
        b.context.settings.mail = MailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                               staff=("eigyo@example.jp", "ops@example.jp"))
        b.job = campaigns_job(b.context)  # the job takes its mail settings when it is built
        await b.run()
        assert smtp.messages == []  # nothing started: no mail
        b.clock.at = START
        await b.run()
        assert len(smtp.messages) == 1
        mail = email.message_from_bytes(smtp.messages[0], policy=policy.default)
        assert mail["To"] == "eigyo@example.jp, ops@example.jp"
        assert "spring-bulk" in mail["Subject"]
        assert "campaign started: spring-bulk" in mail.get_content()  # Japanese: tests/i18n/test_deep_messages.py
        b.context.settings.mail = MailSettings(smtp_host="127.0.0.1", smtp_port=1, staff=("x@example.jp",))
        b.job = campaigns_job(b.context)
        b.clock.at = END
        result = await b.run()  # the SMTP server is unreachable: the run still succeeds, the event still goes out
        assert result.enqueued == 1 and b.events.campaign()[-1] == ("spring-bulk", "ended")


async def test_the_job_records_the_members_of_the_usergroups_campaigns_name(tmp_path: Path) -> None:
    from bridge.cscart.sim.state import SimUsergroup
    from bridge.store import usergroups

    rules = """\
version: 1
campaigns:
  - id: rank1
    name: ランク1限定
    period: {start: 2027-03-01, end: 2027-03-31}
    target: {customer_groups: [ランク1]}
    benefits: [{type: discount, amount: 100, applies_to: order}]
"""
    async with bench(tmp_path, rules, BEFORE) as b:
        state = b.sim.state
        state.usergroups[60] = SimUsergroup(usergroup_id=60, usergroup="ランク1")
        state.usergroups[61] = SimUsergroup(usergroup_id=61, usergroup="ほか")
        for uid in (1, 2, 3):
            state.users[uid].usergroups[60] = "A"
        state.users[4].usergroups[60] = "P"  # pending: not a member for CS-Cart's usergroup condition
        state.users[5].usergroups[61] = "A"  # a group no campaign names: not read
        await b.run()
        state.users[1].usergroups[60] = "F"
        state.users[6].usergroups[60] = "A"
        b.clock.at = START
        await b.run()
        async with b.store.transaction() as tx:
            members = await usergroups.memberships(tx)
            assert await usergroups.groups_read(tx) == {"ランク1"}
        assert sorted(members) == [1, 2, 3, 6]
        assert members[1] == [usergroups.Membership("ランク1", None, START)]  # left at the second read
        assert members[2] == [usergroups.Membership("ランク1", None, None)]  # a member before the first read
        assert members[6] == [usergroups.Membership("ランク1", START, None)]  # joined at the second read
        assert usergroups.member_at(members, 1, ["ランク1"], BEFORE)
        assert not usergroups.member_at(members, 1, ["ランク1"], START)
        assert not usergroups.member_at(members, 6, ["ランク1"], BEFORE)
