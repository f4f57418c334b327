"""The text the CLI passes on from deeper code speaks the operator's language too: job notes, add-on check and
installer problems, the untested-store warning, carrier label holds, order gate reasons, rules-file errors, SMILE
writer refusals, readiness reasons, staff mails and the demo's tally.

Each test runs in English and Japanese (``lang``). tests/i18n/test_guard.py checks that no English-only sentence
slips into these surfaces again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge import i18n
from bridge.carriers.export import build_label_files
from bridge.cscart import addon_tools
from bridge.cscart.addon_installer import StoreReport, install_problems, uninstall_problems
from bridge.errors import ConfigError, ValidationFailed
from bridge.i18n import Text, _
from bridge.store.business import hold_kind
from tests.carriers.samples import NOW, address, order, shipped_rules


def say(lang: str, en: str, ja: str) -> str:
    return ja if lang == "ja" else en


class _Any(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "X"


def test_add_on_check_problems_name_the_file_and_the_fix(lang: str, tmp_path: Path) -> None:
    import shutil

    tree = tmp_path / "addon"
    shutil.copytree(addon_tools.ADDON_ROOT, tree)
    xml = tree / addon_tools.ADDON_XML
    xml.write_text(xml.read_text(encoding="utf-8").replace("<version>", "<!--").replace("</version>", "-->"),
                   encoding="utf-8")
    (tree / "stray.txt").write_text("x", encoding="utf-8")
    problems = addon_tools.check(tree)
    assert all(isinstance(problem, Text) for problem in problems)
    text = "\n".join(problems)
    assert say(lang, "<version> is missing", "<version> がありません") in text
    assert say(lang, "stray.txt: file outside the add-on tree", "stray.txt: アドオンのツリーの外のファイルです") in text
    with pytest.raises(ValidationFailed) as refused:
        addon_tools.build(tmp_path / "out", tree)
    assert say(lang, "nothing was built", "何も作成していません") in str(refused.value)


def _report(**changes: Any) -> StoreReport:
    values: dict[str, Any] = {
        "addon": {"status": "D", "version": "0.9"}, "tables": {}, "columns": {}, "params": {}, "statuses": {},
        "orders_by_status": {}, "languages": ("en", "ja")}
    values.update(changes)
    return StoreReport(**values)


def test_installer_problems_and_the_inactive_one_left_out_on_request(lang: str) -> None:
    problems = install_problems(_report(), "1.0")
    text = "\n".join(problems)
    assert say(lang, "installed but not active", "インストールされていますが有効ではありません") in text
    assert say(lang, "of the add-on, expected '1.0'", "({!r} のはず)".format("1.0")) in text
    assert say(lang, "is missing", "がありません") in text
    assert len(install_problems(_report(), "1.0", inactive=False)) == len(problems) - 1  # no English text filter
    left = uninstall_problems(_report())
    assert say(lang, "is still installed", "まだインストールされています") in "\n".join(left)


def test_untested_store_warning(lang: str) -> None:
    from bridge.cscart.compatibility import StoreVersion, warning

    text = warning(StoreVersion("4.9.9", "ULTIMATE"))
    assert text is not None and isinstance(text, Text)
    assert say(lang, "warning: CS-Cart 4.9.9 ULTIMATE is untested", "警告: CS-Cart 4.9.9 ULTIMATE は未検証です") in text


def test_label_export_holds_say_what_to_fix(lang: str) -> None:
    rules = shipped_rules()
    bad = [order(3001, 1, shipping=address(phone="12")),
           order(3002, 1, shipping=address(postcode="12")),
           order(3003, 1, delivery_date=date(2026, 11, 1)),
           order(3004, 999)]
    built = build_label_files(bad, rules, NOW)
    held = {r.order_id: r.message for r in built.rejections}
    assert set(held) == {3001, 3002, 3003, 3004}
    assert all(isinstance(message, Text) for message in held.values())
    assert say(lang, "order 3001 not exported to yamato: shipping.phone: phone '12' must be a Japanese number",
               "受注 3001 は yamato に出力していません: shipping.phone: 電話番号 '12' は 10 桁か 11 桁") in held[3001]
    assert say(lang, "correct it on the order", "受注で直してください") in held[3001]
    assert say(lang, "postcode '12' is not 7 digits", "郵便番号 '12' が 7 桁ではありません") in held[3002]
    assert say(lang, "is before the ship date", "が出荷日 2026-11-24 より前です") in held[3003]
    assert say(lang, "no rule in rules/shipping.yaml for shipping method",
               "のルールが rules/shipping.yaml にありません") in held[3004]


# Every reason the order gates hold an order for (bridge/rules/order_flow.py), as the English msgid.
GATE_REASONS = (
    "order {order_id} has no items: SMILE's 受注 file would get no row for it",
    "order {order_id}: CS-Cart stored '?' for characters it cannot keep in {items}: correct the text in the CS-Cart "
    "order (use a BMP form, e.g. 吉 for 𠮷)",
    "unknown product code(s) {items}: not in the SMILE 商品マスター",
    "customer code {shown} unknown to SMILE",
    "payment method {payment_method!r} (payment_id {payment_id}) has no class in order_flow.yaml payment_methods",
    "waiting for payment (先入金): ship after 入金確認",
    "card payment not authorised",
    "代引 total ¥{total} is above the limit ¥{max_total}",
    "掛売 customer has no 与信限度額 in SMILE",
    "credit limit ¥{limit} exceeded: open ¥{exposure} + this order ¥{total} = ¥{needed}",
    "直送 is switched off in order_flow.yaml",
    "直送 is not allowed with payment class {kind}",
    "直送 is not allowed for product(s) {items}",
    "直送 is not allowed to {prefecture}",
)


def test_gate_reasons_are_translated_and_the_dashboard_sorts_them_alike() -> None:
    """Hold reasons are written in the daemon's language; the business dashboard's hold kinds must not change."""
    kinds = {}
    for language in ("en", "ja"):
        i18n.set_language(language)
        for template in GATE_REASONS:
            text = _(template)
            if language == "ja":
                assert text != template, f"no Japanese for gate reason {template!r}"
            kind = hold_kind(None, text.format_map(_Any()))
            assert kinds.setdefault(template, kind) == kind, (template, text, kind)
    assert "other" not in kinds.values(), kinds


def test_rules_file_errors_are_plain_sentences(lang: str, tmp_path: Path) -> None:
    from bridge.carriers.rules import load_shipping_rules
    from tests.carriers.samples import SHIPPED_RULES

    broken = tmp_path / "shipping.yaml"
    text = SHIPPED_RULES.read_text(encoding="utf-8")
    assert "every_minutes:" in text or "times:" in text
    broken.write_text(text + "\nunknown_top_key: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_shipping_rules(broken)
    message = str(refused.value)
    assert say(lang, "problem(s) in the shipping rules:", "配送のルールに 1 件の問題があります:") in message
    assert "unknown_top_key" in message and f"{broken}:" in message
    with pytest.raises(ConfigError) as missing:
        load_shipping_rules(tmp_path / "nowhere.yaml")
    assert say(lang, "shipping rules not found", "配送のルールが見つかりません") in str(missing.value)


def test_smile_writer_refusals(lang: str, tmp_path: Path) -> None:
    from bridge.smile.settings import SmileSettings
    from bridge.smile.writer import write_batch

    layout = SmileSettings().layout("order_import")
    with pytest.raises(ValidationFailed) as refused:
        write_batch([], directory=tmp_path, batch="B1", layout=layout)
    assert say(lang, "a batch needs at least one row", "バッチには 1 行以上必要です") in str(refused.value)


def test_campaign_staff_mail(lang: str) -> None:
    from bridge.sync.campaigns.notify import CampaignEvent

    assert CampaignEvent("spring", "started").text() == say(lang, "campaign started: spring", "キャンペーン開始: spring")
    assert CampaignEvent("spring", "disabled", _("enabled: false")).text() == say(
        lang, "campaign disabled: spring (enabled: false)", "キャンペーン無効化: spring (enabled: false)")


async def test_reorder_alert_mail(lang: str) -> None:
    from bridge.analytics import alerts
    from bridge.config import MailSettings
    from tests.live.smtp_sink import SmtpSink

    async with SmtpSink() as smtp:
        settings = MailSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, staff=("ops@example.jp",))
        await alerts._mail(settings, [alerts.Crossing("A", "ゴム手袋", Decimal(20), 25.0, 30)], date(2026, 12, 3))
        assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["Subject"] == say(lang, "[stock] 1 below reorder point", "[在庫] 発注点割れ 1件")
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert say(lang, "1 SKU(s) at or below their reorder point (2026-12-03):",
               "発注点を下回った SKU 1件 (2026-12-03):") in body


def test_demo_tally_of_writes(lang: str) -> None:
    from bridge.demo import describe_writes

    class Request:
        def __init__(self, method: str, entity: str, body: dict[str, Any], path: str = "/") -> None:
            self.method, self.entity, self.body, self.path = method, entity, body, path

        def json(self) -> dict[str, Any]:
            return self.body

    writes = [Request("PUT", "products", {"amount": 1}), Request("PUT", "products", {"amount": 2}),
              Request("POST", "products", {"product": "x"})]
    assert describe_writes(writes) == say(lang, "2 stock writes, 1 product created",
                                          "2 件の在庫書き込み, 1 件の商品作成")
    assert describe_writes([]) == say(lang, "no writes", "書き込みなし")


@pytest.mark.parametrize("command", [["rules", "check"], ["demo"], ["run"], ["status"], []])
def test_command_help_and_the_help_flag_speak_the_language(lang: str, command: list[str]) -> None:
    """In a fresh process, as an operator runs it (help text built at import follows the language of the process)."""
    import os
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-m", "bridge", *command, "--help"], capture_output=True, text=True,
                           timeout=120, check=False, env={**os.environ, "COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert say(lang, "Show this message and exit.", "このヘルプを表示して終了します。") in shown.stdout
    assert say(lang, "Options:", "オプション:") in shown.stdout  # typer's own headings too
    assert shown.stdout.lstrip().startswith(say(lang, "Usage: ", "使い方: "))  # click's usage line too
    long_help = {"rules": ("Validate every rules file", "すべてのルールファイルを検査します"),
                 "demo": ("See the whole catalog flow", "商品連携の流れ全体を見せます"),
                 "run": ("Run the daemon: sync jobs on their intervals", "デーモンを実行します: 同期ジョブを間隔ごとに"),
                 "status": ("Show each job's last success", "ジョブごとの最終成功")}
    if command:
        assert say(lang, *long_help[command[0]]) in shown.stdout
