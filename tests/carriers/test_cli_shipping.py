"""``bridge carriers export`` and ``bridge carriers import FILE`` through the real CLI, against the simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from bridge.cli import app
from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import Shipping, shipping_for


def cli(s: Shipping, *args: str) -> tuple[int, str]:
    settings = s.orders.settings
    cscart = settings.cscart.model_dump(mode="json")
    cscart.update(api_key=s.orders.sim.api_key, hmac_secret="s3cret")
    config = settings.data_dir.parent / "bridge.yaml"
    config.write_text(json.dumps({"data_dir": str(settings.data_dir), "rules_dir": str(settings.rules_dir),
                                  "state_file": str(settings.data_dir.parent / "state.sqlite3"),
                                  "cscart": cscart}, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


async def test_export_dry_run_then_once_per_order(tmp_path: Path) -> None:
    async with shipping_for(tmp_path) as s:
        order_id = await s.instruct((1, 1))
        code, out = await asyncio.to_thread(cli, s, "carriers", "export", "--dry-run")
        assert code == 0 and "would write yamato b2_" in out and f"1 order(s) {order_id}" in out
        assert s.label_files("yamato") == []
        bad = await s.instruct((2, 1), customer={"s_phone": "電話なし"})
        code, out = await asyncio.to_thread(cli, s, "carriers", "export", "--carrier", "sagawa")
        assert code == 0 and "nothing to export" in out and s.label_files("yamato") == []
        assert await s.state(bad) is S.SHIPPING_INSTRUCTED  # another carrier's rows are not judged
        code, out = await asyncio.to_thread(cli, s, "carriers", "export", "--carrier", "yamato")
        assert code == 0 and "wrote yamato b2_" in out
        assert f"held (保留): order {bad} not exported to yamato: shipping.phone:" in out
        assert await s.state(bad) is S.HOLD
        assert len(s.label_files("yamato")) == 1
        code, out = await asyncio.to_thread(cli, s, "carriers", "export")
        assert code == 0 and "nothing to export" in out and len(s.label_files("yamato")) == 1
        code, out = await asyncio.to_thread(cli, s, "carriers", "export", "--carrier", "dhl")
        assert code == 2 and "unknown carrier 'dhl'" in out


async def test_import_applies_once_and_refuses_bad_files_with_lines(tmp_path: Path) -> None:
    async with shipping_for(tmp_path) as s:
        order_id = await s.instruct((1, 1))
        await s.run()
        good = tmp_path / "result.csv"
        good.write_text(f"order_no,delivery_no,delivery_date\n{order_id},389711074012,2026-11-24 15:00:00\n",
                        encoding="utf-8")
        code, out = await asyncio.to_thread(cli, s, "carriers", "import", str(good), "--dry-run")
        assert code == 0 and "checked (dry run)" in out and await s.state(order_id) is S.SHIPPING_INSTRUCTED
        code, out = await asyncio.to_thread(cli, s, "carriers", "import", str(good))
        assert code == 0 and "1 new parcel(s), 0 already imported" in out and "1 order(s) → 出荷済" in out
        assert await s.state(order_id) is S.SHIPPED
        assert [x.tracking_number for x in s.shipments(order_id)] == ["389711074012"]  # delivered by the CLI
        code, out = await asyncio.to_thread(cli, s, "carriers", "import", str(good))
        assert code == 0 and "0 new parcel(s), 1 already imported" in out and len(s.shipments(order_id)) == 1

        bad = tmp_path / "bad.csv"
        bad.write_text("order_no,delivery_no\n999999,512547514334\n", encoding="utf-8")
        code, out = await asyncio.to_thread(cli, s, "carriers", "import", str(bad))
        assert code == 1 and "bad.csv:2: error: order_no: order 999999 is unknown to the bridge" in out
        assert "refused, nothing applied" in out

