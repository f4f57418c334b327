"""An order's life on a real store: the orders and shipping jobs run once each as ``bridge sync`` runs them, then
the same life through the daemon (``bridge run`` as a process, config derived from ops/config.example.yaml), with
the store's outgoing mail caught by an SMTP sink: placed → mirrored → 受注 file (SMILE outbox) → 出荷指示 → label
file → carrier result file → shipment with carrier and tracking → 出荷済 → 出荷通知 mail → 出荷通知済 → 完了."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bridge.cscart.addon_installer import StoreConsole
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import EXAMPLE_CONFIG, first_category, live_settings, ok, run
from tests.live.order_kit import TRACKING, files_naming, place, rules_with_immediate_mail, status_of, world
from tests.live.smtp_sink import SmtpSink
from tests.live.test_addon_endpoints import feed_after, newest_event
from tests.live.test_mail import SET_MAILER


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 180.0) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit:g} s")
        await asyncio.sleep(0.5)


def drop_result(data_dir: Path, name: str, order_id: int) -> Path:
    """Yamato's result file (お客様管理番号 = CS-Cart order id, 伝票番号), complete with NAME.done."""
    inbox = data_dir / "carriers" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_text(f"order_no,delivery_no\n{order_id},{TRACKING}\n", encoding="utf-8")
    path.with_name(name + ".done").touch()
    return path


async def test_orders_and_shipping_jobs_take_an_order_to_complete(live_store: LiveStore, live: LiveBackend,
                                                                 tmp_path: Path) -> None:
    rules = rules_with_immediate_mail(tmp_path / "rules")
    settings = live_settings(live_store, tmp_path, await first_category(live), rules_dir=rules,
                             smile={"stable_seconds": 0})
    w = await world(live, settings, tmp_path)
    report = StoreConsole(live_store.require_root(), web_user=live_store.web_user).report()
    letter = {key: report.params[f"status.{key}"] for key in ("shipping_instructed", "shipped", "notified")}
    order_id = await place(live, w)

    ok(await run(settings, "orders"))
    assert await status_of(live, order_id) == letter["shipping_instructed"]
    outbox = settings.smile.dirs(settings.data_dir).outbox
    slips = files_naming(outbox, str(order_id))
    assert slips, f"no 受注 file in {outbox} names order {order_id}: {sorted(outbox.iterdir())}"
    slip = slips[0].read_bytes().decode("cp932")
    assert w.customer_code in slip and w.product_code in slip, slip  # 得意先コード and 商品コード, bound by the jobs

    ok(await run(settings, "shipping"))
    labels = files_naming(settings.data_dir / "carriers" / "yamato", str(order_id))
    assert labels, "no B2 label file names the order"
    drop_result(settings.data_dir, "result_1.csv", order_id)
    ok(await run(settings, "shipping"))
    shipments = await live.client.list_shipments(order_id)
    assert [(s.get("carrier"), s.get("tracking_number")) for s in shipments] == [("yamato", TRACKING)], shipments
    for _ in range(3):  # 出荷済 → 出荷通知済 (mail) → 完了, each a move the job makes once CS-Cart took the last
        if await status_of(live, order_id) == "C":
            break
        ok(await run(settings, "shipping"))
    assert await status_of(live, order_id) == "C"
    assert list((settings.data_dir / "carriers" / "archive").rglob("result_1.csv"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def daemon_config(path: Path, data_dir: Path, rules: Path, store: LiveStore, category_id: int, port: int) -> Path:
    """ops/config.example.yaml with this test's folders, store and port; orders and shipping every 2 s, the jobs
    the life does not need switched off (their runs would only slow the store down)."""
    from ruamel.yaml import YAML

    from bridge.config import dump_yaml

    config = YAML(typ="safe").load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    config.update(data_dir=str(data_dir), rules_dir=str(rules))
    config["http"].update(port=port)
    config["log"].update(format="json", level="INFO")
    config["cscart"].update(url=store.url, email=store.email, company_id=store.company_id, timeout=120)
    config["catalog"].update(new_product_category_ids=[category_id])
    config["smile"].update(stable_seconds=0)
    config["dispatch"].update(idle_poll=0.2)
    config["analytics"].update(enabled=False)
    for name, job in config["jobs"].items():
        job.update(enabled=name in ("orders", "shipping"), interval=2)
    path.write_text(dump_yaml(config), encoding="utf-8")
    return path


async def test_one_orders_life_through_the_daemon_with_the_shipping_mail(live_store: LiveStore, live: LiveBackend,
                                                                         tmp_path: Path) -> None:
    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)
    report = console.report()
    letter = {key: report.params[f"status.{key}"] for key in ("shipping_instructed", "shipped", "notified")}
    rules = rules_with_immediate_mail(tmp_path / "rules", labels_every_minute=True)
    category_id = await first_category(live)
    settings = live_settings(live_store, tmp_path, category_id, rules_dir=rules, smile={"stable_seconds": 0})
    w = await world(live, settings, tmp_path)  # bound by the catalog jobs, in the daemon's own state file
    port = free_port()
    config = daemon_config(tmp_path / "config.yaml", settings.data_dir, rules, live_store, category_id, port)

    def mailer(values: dict) -> dict:
        _, output = console.run(["php", "-r", SET_MAILER, "--", json.dumps(values)])
        assert "@@" in output, output
        return dict(json.loads(output.split("@@")[1]))

    env = {**os.environ, "BRIDGE_CSCART__API_KEY": live_store.api_key, "BRIDGE_CSCART__HMAC_SECRET": "live-" + live.tag}
    log = (tmp_path / "daemon.log").open("w")
    async with SmtpSink() as sink:
        old = await asyncio.to_thread(mailer, {"root": {
            "mailer_send_method": "smtp", "mailer_smtp_host": f"127.0.0.1:{sink.port}", "mailer_smtp_auth": "N",
            "mailer_smtp_ecrypted_connection": "none"}, "vendor": []})
        daemon = subprocess.Popen([sys.executable, "-m", "bridge", "run", "--config", str(config)], env=env,  # noqa: ASYNC220
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            start = await newest_event(live)
            order_id = await place(live, w)
            outbox = settings.smile.dirs(settings.data_dir).outbox
            labels = settings.data_dir / "carriers" / "yamato"

            async def instructed() -> bool:
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
                return await status_of(live, order_id) == letter["shipping_instructed"] and bool(
                    files_naming(outbox, str(order_id))) and bool(files_naming(labels, str(order_id)))

            await until(instructed, "出荷指示 in CS-Cart, the 受注 file and the B2 label file")
            slip = files_naming(outbox, str(order_id))[0].read_bytes().decode("cp932")
            assert w.customer_code in slip and w.product_code in slip, slip
            drop_result(settings.data_dir, "result_1.csv", order_id)

            async def complete() -> bool:
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
                return await status_of(live, order_id) == "C"

            await until(complete, "完了 in CS-Cart (出荷済 → 出荷通知済 → 完了)")
            shipments = await live.client.list_shipments(order_id)
            assert [(s.get("carrier"), s.get("tracking_number")) for s in shipments] == [("yamato", TRACKING)]
            moves = [e["data"]["status_to"] for e in await feed_after(live, start)
                     if e["entity_id"] == order_id and e["type"] == "order.status_changed"]
            assert moves[-4:] == [letter["shipping_instructed"], letter["shipped"], letter["notified"], "C"], moves
            for _ in range(100):
                if any(str(order_id) in sink.text_of(m) for m in sink.messages):
                    break
                await asyncio.sleep(0.1)
            mails = [m for m in sink.messages if str(order_id) in sink.text_of(m) and w.email in str(m["To"])]
            assert mails, f"no mail to {w.email} for order {order_id}: {[m.get('Subject') for m in sink.messages]}"
            notified = [m for m in mails if TRACKING in sink.text_of(m)]
            assert len(notified) == 1, [m.get("Subject") for m in mails]  # the 出荷通知 mail, once
            text = sink.text_of(notified[0])
            assert "出荷のお知らせ" in text, text[:3000]  # the add-on's Japanese 出荷通知 template (issue 15)
            assert "ヤマト運輸" in text, "the carrier's name is not in the 出荷通知 mail"
            assert f"https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={TRACKING}" in text, \
                "the tracking URL is not in the 出荷通知 mail"
            (tmp_path / "shipping-mail.txt").write_text(text, encoding="utf-8")
            print(f"出荷通知 mail: {tmp_path / 'shipping-mail.txt'}")
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            log.close()
            await asyncio.to_thread(mailer, old)
    assert daemon.returncode == 0, (tmp_path / "daemon.log").read_text()[-3000:]
