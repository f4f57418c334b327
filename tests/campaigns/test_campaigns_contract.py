"""The promotion contract (contract.py) on the simulator: the same campaigns and orders the live suite runs on a real
CS-Cart 4.20.1 (test_campaigns_contract_live.py), with the same expected figures."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge.cscart.sim.state import SimUsergroup
from bridge.domain.time import utcnow

from .conftest import CATEGORY_0100, bench
from .contract import SCENARIOS, Shop

EMPTY = "version: 1\ncampaigns: []\n"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_the_simulator_keeps_the_promotion_contract(tmp_path: Path, name: str) -> None:
    async with bench(tmp_path, EMPTY, utcnow()) as b:
        state = b.sim.state
        state.reward_points = True
        state.shipping_rates = {1: Decimal(800)}
        state.usergroups[50] = SimUsergroup(usergroup_id=50, usergroup="ランク1")
        state.users[1].usergroups[50] = "A"
        product, gift = state.products[1], state.products[21]
        for p in (product, gift):
            p.amount = 1000
        client = b.context.services.require_cscart()

        async def apply(text: str) -> None:
            b.write_rules(text)
            b.clock.at = utcnow()
            result = await b.run()
            assert result.failed == 0, result.notes

        shop = Shop(client=client, company_id=1, product_id=1, product_code=product.product_code,
                    price=Decimal(product.price), category_id=CATEGORY_0100, bonus_id=21,
                    bonus_code=gift.product_code, user_id=1, other_user_id=2, member_code="000001", group="ランク1",
                    payment_id=min(state.payments), shipping_id=1, apply=apply)
        await SCENARIOS[name](shop, f"sim-{name.replace('_', '-')}")
