"""The operator commands speak the operator's language: sync, dlq, orders, carriers, smile, addon, backup/restore.

Each test runs in English and Japanese (``lang``); times are shown in the shop's zone (JST) with the zone named,
and ``--json`` stays the same machine output in both languages.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app
from bridge.domain.orders import Order, OrderLine, WorkflowState
from bridge.store import Store
from bridge.store import orders as mirror
from bridge.store import outbox as ob

runner = CliRunner()


def say(lang: str, en: str, ja: str) -> str:
    return ja if lang == "ja" else en


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path))
    return tmp_path


def _state(data_dir: Path) -> None:
    async def make() -> None:
        store = await Store.open(data_dir / "state.sqlite3")
        async with store.transaction() as tx:
            await ob.enqueue(tx, [ob.NewOp("cscart", "product.stock", "product", "P1", {"amount": 1})], 0)
            claimed = await ob.claim(tx, targets=["cscart"], limit=10, now=0, lease=60, owner="t")
            await ob.complete(tx, [ob.Outcome(op, ob.DEAD, "PermanentError: 400 amount invalid", "fix amount")
                                   for op in claimed], "t")
            order = Order(order_id=1001, status="O", placed_at=datetime(2026, 12, 3, 16, 5, tzinfo=UTC),
                          updated_at=None, user_id=7, email="a@example.com", total=Decimal(1100),
                          lines=(OrderLine(product_code="10000001", name="紙コップ 小", quantity=Decimal(2),
                                           unit_price=Decimal(550)),),
                          customer_code="000123", direct_ship=True)
            await mirror.upsert(tx, order, initial_state=WorkflowState.RECEIVED)
        await store.close()

    asyncio.run(make())


def test_sync_lists_jobs_and_refuses_an_unknown_one(lang: str) -> None:
    listed = runner.invoke(app, ["sync"])
    assert listed.exit_code == 0
    assert say(lang, "registered jobs:", "登録済みのジョブ:") in listed.output
    assert say(lang, "SMILE 在庫 → CS-Cart amounts", "SMILE の在庫 → CS-Cart の在庫数") in listed.output
    unknown = runner.invoke(app, ["sync", "nosuchjob"])
    assert unknown.exit_code == 2
    assert say(lang, "unknown job 'nosuchjob'", "ジョブ 'nosuchjob' は不明です") in unknown.output


def test_dlq_in_the_operators_language_with_local_times(data_dir: Path, lang: str) -> None:
    _state(data_dir)
    listed = runner.invoke(app, ["dlq", "list"])
    assert listed.exit_code == 0 and "400 amount invalid" in listed.output
    assert say(lang, "attempts", "試行回数") in listed.output
    shown = runner.invoke(app, ["dlq", "show", "1"])
    assert shown.exit_code == 0, shown.output
    assert say(lang, "hint: fix amount", "ヒント: fix amount") in shown.output
    assert " JST" in shown.output  # created/updated in the shop's zone, zone named
    missing = runner.invoke(app, ["dlq", "show", "99"])
    assert missing.exit_code == 1 and say(lang, "no outbox op #99", "送信待ちキューに #99 はありません") in missing.output
    usage = runner.invoke(app, ["dlq", "replay"])
    assert usage.exit_code == 2
    assert say(lang, "name dead letter ids, or use --all", "ID を指定するか、--all を付けてください") in usage.output
    replayed = runner.invoke(app, ["dlq", "replay", "1"])
    assert say(lang, "Replayed 1 dead letter(s): 1", "配信不能の書き込み 1 件を再送キューに戻しました: 1") in replayed.output
    assert say(lang, "No dead letters.", "配信不能の書き込みはありません。") in runner.invoke(app, ["dlq", "list"]).output


def test_orders_show_and_list_with_times_in_jst_and_json_unchanged(data_dir: Path, lang: str) -> None:
    _state(data_dir)
    shown = runner.invoke(app, ["orders", "show", "1001"])
    assert shown.exit_code == 0, shown.output
    # placed 2026-12-03 16:05 UTC = 2026-12-04 01:05 JST
    assert say(lang, "placed 2026-12-04 01:05 JST, customer 000123 (user 7), total ¥1100, 直送 1 line(s)",
               "受注日時 2026-12-04 01:05 JST、得意先 000123 (ユーザー 7)、合計 ¥1100、直送 1 明細") in shown.output
    assert say(lang, "history:", "履歴:") in shown.output and say(lang, "(new) → received", "(新規) → received") \
        in shown.output
    table = runner.invoke(app, ["orders", "list"])
    assert table.exit_code == 0 and "2026-12-04 01:05 JST" in table.output
    assert say(lang, "customer", "得意先") in table.output
    as_json = runner.invoke(app, ["orders", "list", "--json"])
    row = json.loads(as_json.output.splitlines()[0])
    assert row["order_id"] == 1001 and row["placed_at"] == "2026-12-03T16:05:00+00:00"  # machine output: ISO, UTC
    absent = runner.invoke(app, ["orders", "show", "4242"])
    assert absent.exit_code == 1
    assert say(lang, "order 4242 is not in the mirror", "受注 4242 は受注ミラーにありません") in absent.output


def test_carriers_track_and_check_result(tmp_path: Path, lang: str) -> None:
    tracked = runner.invoke(app, ["carriers", "track", "3897-1107-4012"])
    assert tracked.exit_code == 0, tracked.output
    assert say(lang, "number: ", "番号: ") in tracked.output
    assert say(lang, "carrier: one of", "配送業者: ") in tracked.output
    unknown = runner.invoke(app, ["carriers", "track", "389711074012", "--carrier", "ufo"])
    assert unknown.exit_code == 2 and say(lang, "unknown carrier 'ufo'", "配送業者 'ufo' は不明です") in unknown.output
    good = tmp_path / "good.csv"
    good.write_text("order_no,delivery_no,delivery_date\n1001,389711074012,2026-11-24 10:00:00\n", encoding="utf-8")
    checked = runner.invoke(app, ["carriers", "check-result", str(good)])
    assert checked.exit_code == 0, checked.output
    assert say(lang, "line 2: order 1001 other 389711074012 2026-11-24 10:00 JST (all items)",
               "2 行目: 受注 1001 other 389711074012 2026-11-24 10:00 JST (全商品)") in checked.output
    assert say(lang, "1 shipment(s), 0 error(s)", "出荷 1 件、エラー 0 件") in checked.output


def test_smile_check_and_generate(tmp_path: Path, lang: str) -> None:
    out = tmp_path / "smile"
    made = runner.invoke(app, ["smile", "generate", "--out", str(out), "--products", "3", "--customers", "2"])
    assert made.exit_code == 0, made.output
    assert say(lang, "encoding", "文字コード") in made.output
    stock = next(out.glob("*zaiko*")) if list(out.glob("*zaiko*")) else None
    products = [p for p in out.iterdir() if "shohin" in p.name or "product" in p.name.lower()]
    target, kind = (stock, "stock") if stock else (products[0], "products")
    checked = runner.invoke(app, ["smile", "check", str(target), "--type", kind])
    assert checked.exit_code == 0, checked.output
    assert say(lang, ": OK — ", ": 問題なし — ") in checked.output
    missing = runner.invoke(app, ["smile", "check", str(tmp_path / "none.csv"), "--type", "stock"])
    assert missing.exit_code == 2 and say(lang, "no such file", "ファイルがありません") in missing.output
    bad_type = runner.invoke(app, ["smile", "check", str(target), "--type", "nonsense"])
    assert bad_type.exit_code == 2
    assert say(lang, "is not a readable SMILE file type", "読み込める SMILE ファイルの種類ではありません") in bad_type.output


def test_addon_check_names_the_tested_version(lang: str) -> None:
    checked = runner.invoke(app, ["addon", "check", "--cscart-version", "4.20.1"])
    assert checked.exit_code == 0, checked.output
    assert say(lang, ": ok (", ": 問題なし (") in checked.output
    assert say(lang, "CS-Cart 4.20.1: tested", "CS-Cart 4.20.1: 検証済み") in checked.output


def test_backup_and_restore_messages(data_dir: Path, tmp_path: Path, lang: str) -> None:
    _state(data_dir)
    target = tmp_path / "backups" / "b.sqlite3"
    done = runner.invoke(app, ["backup", str(target)])
    assert done.exit_code == 0, done.output
    assert say(lang, "Backed up ", "にバックアップしました") in done.output
    again = runner.invoke(app, ["backup", str(target)])
    assert again.exit_code == 1
    assert say(lang, "exists; choose another name or add --force", "すでにあります。別の名前にするか --force") \
        in again.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "nothing.sqlite3")])
    assert missing.exit_code == 1
    assert say(lang, "backup file not found", "バックアップファイルが見つかりません") in missing.output


def test_command_help_is_translated(lang: str) -> None:
    # help text is built when a command module is imported: a fresh process, as an operator runs it
    for args, en, ja in ((["dlq", "--help"], "Put dead letters back", "送信待ちキューに戻します"),
                         (["sync", "--help"], "Print the plan", "計画 (件数と最初の変更)"),
                         (["backup", "--help"], "Overwrite an existing", "既存のバックアップ")):
        shown = subprocess.run([sys.executable, "-m", "bridge", *args], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "COLUMNS": "200"})
        assert shown.returncode == 0, shown.stderr
        assert say(lang, en, ja) in shown.stdout, (args, shown.stdout)


def test_report_campaigns_analytics_refusals(data_dir: Path, tmp_path: Path, lang: str) -> None:
    unknown = runner.invoke(app, ["report", "salez"])
    assert unknown.exit_code == 2
    assert say(lang, "unknown report 'salez'; known: ", "レポート 'salez' は不明です。使えるもの: ") in unknown.output
    bad_day = runner.invoke(app, ["report", "sales", "--from", "2026-13-01"])
    assert bad_day.exit_code == 2
    assert say(lang, "give a date as YYYY-MM-DD", "日付を YYYY-MM-DD (日本時間) で指定") in bad_day.output
    bad_format = runner.invoke(app, ["campaigns", "report", "--format", "xml"])
    assert bad_format.exit_code == 2
    assert say(lang, "--format must be one of table, csv, json", "--format は table, csv, json のいずれか") \
        in bad_format.output
    bad_file = runner.invoke(app, ["analytics", "export", "orders", "--output", str(tmp_path / "orders.txt")])
    assert bad_file.exit_code == 2
    assert say(lang, "give a .parquet or .csv file name", ".parquet か .csv のファイル名") in bad_file.output


def test_carrier_file_and_number_problems_in_both_languages(tmp_path: Path, lang: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("order_no,delivery_no,delivery_date\nx12,389711074012,2026-11-24 10:00:00\n", encoding="utf-8")
    checked = runner.invoke(app, ["carriers", "check-result", str(bad)])
    assert checked.exit_code == 1
    assert say(lang, "bad.csv:2: error: order_no: 'x12' is not a CS-Cart order number (digits only)",
               "bad.csv:2: エラー: order_no: 'x12' は CS-Cart の注文番号ではありません (数字のみ)") in checked.output
    wrong = runner.invoke(app, ["carriers", "track", "12345"])
    assert wrong.exit_code == 1
    assert say(lang, "'12345' is not a tracking number", "'12345' は送り状番号ではありません") in wrong.output


def test_orders_resend_refusal_in_both_languages(data_dir: Path, lang: str) -> None:
    _state(data_dir)  # order 1001 is mirrored but was never exported
    refused = runner.invoke(app, ["orders", "resend", "1001"])
    assert refused.exit_code == 1
    assert say(lang, "order 1001 was never sent to SMILE (受注)", "受注 1001 は一度も SMILE に送っていません (受注)") \
        in refused.output
