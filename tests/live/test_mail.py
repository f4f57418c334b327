"""The store's outgoing mails, captured by an SMTP sink on 127.0.0.1 set as the store's SMTP server: the 出荷通知
mail an order gets when the bridge moves it to 出荷通知済 (the add-on's Japanese template with the carrier's name,
the tracking number and URL), after a shipment with its carrier and tracking number."""

from __future__ import annotations

import asyncio

from bridge.cscart.addon_installer import StoreConsole
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.smtp_sink import SmtpSink

# Reads the mailer settings of the Emails section (and any storefront overrides) as JSON, then writes the given ones
# (same shape) straight into the settings tables and clears CS-Cart's cache: Settings::updateValue() refuses an empty
# SMTP host on Ultimate, so the test could not put the store back the way it found it.
SET_MAILER = ("define('AREA', 'A'); define('ACCOUNT_TYPE', 'admin'); require getcwd() . '/init.php';"
              "$names = ['mailer_send_method', 'mailer_smtp_host', 'mailer_smtp_auth', 'mailer_smtp_ecrypted_connection'];"
              "$section = db_get_field('SELECT section_id FROM ?:settings_sections WHERE name = ?s AND type = ?s', 'Emails', 'CORE');"
              "$ids = db_get_hash_single_array('SELECT name, object_id FROM ?:settings_objects WHERE section_id = ?i AND name IN (?a)', ['name', 'object_id'], $section, $names);"
              "$old = ['root' => db_get_hash_single_array('SELECT name, value FROM ?:settings_objects WHERE object_id IN (?n)', ['name', 'value'], array_values($ids)),"
              " 'vendor' => db_get_array('SELECT * FROM ?:settings_vendor_values WHERE object_id IN (?n)', array_values($ids))];"
              "$new = json_decode($argv[1], true);"
              "foreach ($new['root'] ?? [] as $n => $v) { db_query('UPDATE ?:settings_objects SET value = ?s WHERE object_id = ?i', $v, $ids[$n]); }"
              "if (isset($new['vendor'])) { db_query('DELETE FROM ?:settings_vendor_values WHERE object_id IN (?n)', array_values($ids));"
              " foreach ($new['vendor'] as $row) { db_query('REPLACE INTO ?:settings_vendor_values ?e', $row); } }"
              "fn_clear_cache();"
              "echo '@@', json_encode($old), '@@';")


async def test_the_shipping_notified_mail_names_the_status_carrier_and_tracking(live_store: LiveStore,
                                                                                live: LiveBackend) -> None:
    import json

    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)
    before = console.report()
    notified = before.params["status.notified"]
    shipped = before.params["status.shipped"]

    def mailer(values: dict) -> dict:
        _, output = console.run(["php", "-r", SET_MAILER, "--", json.dumps(values)])
        assert "@@" in output, output
        return json.loads(output.split("@@")[1])

    async with SmtpSink() as sink:
        smtp = {"mailer_send_method": "smtp", "mailer_smtp_host": f"127.0.0.1:{sink.port}", "mailer_smtp_auth": "N",
                "mailer_smtp_ecrypted_connection": "none"}
        old = await asyncio.to_thread(mailer, {"root": smtp, "vendor": []})  # no storefront overrides meanwhile
        try:
            product_id = await live.create_product(amount=5)
            order_id = await live.place_order(product_id, 1)
            order = await live.order(order_id)
            tracking = f"4{order_id:011d}"
            await live.client.create_shipment(order_id, shipping_id=int(order["shipping_ids"].split(",")[0]),
                                              carrier="yamato", tracking_number=tracking, order_status=shipped)
            sink.messages.clear()
            change = await live.client.change_order_status(order_id, notified, notify_user=True)
            assert change.applied, change
            for _ in range(100):
                if any(str(order_id) in sink.text_of(m) for m in sink.messages):
                    break
                await asyncio.sleep(0.1)
            mails = [m for m in sink.messages if str(order_id) in sink.text_of(m)]
            assert mails, f"no mail for order {order_id}; got {[m.get('Subject') for m in sink.messages]}"
            text = "\n".join(sink.text_of(m) for m in mails)
            # The add-on's 出荷通知 template (resources/email_templates.xml) replaces the status mail of 出荷通知済.
            assert "出荷のお知らせ" in text, text[:2000]
            assert any(m["To"] and f"order-{live.tag}@example.jp" in m["To"] for m in mails)
            assert tracking in text, "the tracking number is not in the 出荷通知 mail"
            assert "ヤマト運輸" in text, "the carrier's name is not in the 出荷通知 mail"
            assert f"https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={tracking}" in text, \
                "the tracking URL is not in the 出荷通知 mail"
        finally:
            await asyncio.to_thread(mailer, old)
