"""Issue 13 item 4 (stock): a 在庫 file with an amount CS-Cart cannot hold (above 8,388,607, or a fraction) is
refused whole, naming file, line and field; and the REST sink never sends such an amount."""

from __future__ import annotations

import re

import pytest

from bridge.cscart.client import CSCartClient
from bridge.cscart.sink import CSCartSink, PayloadError
from bridge.store import outbox as ob
from tests.catalog.conftest import MISSING_CODE, CatalogWorld


@pytest.mark.parametrize("value", ["100000000000000000000", "9999999", "12.5"])
async def test_a_stock_file_with_an_amount_cscart_cannot_hold_is_refused_naming_the_line(
        world: CatalogWorld, value: str) -> None:
    world.deliver_stock()
    await world.run("stock")
    before = {p: pr.amount for p, pr in world.sim.state.products.items()}
    world.sim.requests.clear()
    code = "10000005"
    assert code != MISSING_CODE
    world.deliver_stock({"10000006": 1})
    # SMILE's file with one 現在庫数量 (column 5) CS-Cart cannot hold, written into the delivered copy
    delivered = world.dirs.inbox / f"stock_{world.deliveries:03d}.csv"
    rows = delivered.read_bytes().split(b"\r\n")
    for index, row in enumerate(rows):
        cells = row.split(b",")
        if len(cells) > 4 and cells[2].strip(b'"') == code.encode():
            cells[4] = value.encode()
            rows[index] = b",".join(cells)
            break
    else:
        raise AssertionError(f"{code} not in the file")
    delivered.write_bytes(b"\r\n".join(rows))
    result = await world.run("stock")
    assert result.refused_files == 1
    assert not world.stock_writes(), "nothing of the file was applied"
    assert {p: pr.amount for p, pr in world.sim.state.products.items()} == before
    report = next(p for p in world.dirs.error.iterdir() if p.name.endswith(".error.txt")).read_text()
    assert re.search(r"stock_\d+\.csv:\d+, column \d+ \(現在庫数量\)", report), report  # file, line, field
    assert ("must be at most 8,388,607" in report) if "." not in value else ("whole number" in report), report
    assert "Fix:" in report


async def test_the_rest_sink_refuses_an_amount_cscart_cannot_hold(world: CatalogWorld) -> None:
    async with CSCartClient(world.sim.client_settings()) as client:
        sink = CSCartSink(client)
        for amount in (8_388_608, 10**20, -1):
            op = ob.OutboxOp(id=1, target="cscart", op="product.stock", entity="product", key="5",
                             payload_json="", payload_hash="", idempotency_key="k", track_ledger=True,
                             state="in_flight", attempts=0, next_attempt_at=0,
                             payload={"product_id": 5, "amount": amount})
            with pytest.raises(PayloadError, match="8,388,607"):
                await sink.deliver(op)
    assert not world.sim.requests.where(method="PUT", entity="products")
