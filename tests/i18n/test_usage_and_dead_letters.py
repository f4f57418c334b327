"""The last English-only texts (issue 17): click's usage errors, CS-Cart's refusals as dead letters, the simulator.

Usage errors run a real ``bridge`` process; dead letters come from a real dispatcher delivering to the CS-Cart
simulator on 127.0.0.1 into a real sqlite state file, and are read back by a real ``bridge dlq`` process. Each runs
in English and Japanese (``lang``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bridge import i18n
from bridge.cli import app
from bridge.cli.stored import stored_text, templates
from bridge.config import DispatchSettings
from bridge.cscart import messages as msg
from bridge.cscart.client import CSCartClient
from bridge.cscart.simulator import run_simulator
from bridge.cscart.sink import CSCartSink
from bridge.dispatch import Dispatcher
from bridge.i18n import said, source_of
from bridge.store import Store
from bridge.store import outbox as ob

BRIDGE = Path(sys.executable).with_name("bridge")  # the installed console script, as an operator runs it
JAPANESE_LOCALE = {"LANG": "ja_JP.UTF-8"}
ENGLISH_LOCALE = {"LANG": "C.UTF-8"}


def bridge(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return bridges([args], env=env)[0]


def bridges(commands: list[tuple[str, ...]], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Run ``bridge`` command lines at once (each a process of its own; the suite's time on a loaded machine)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_", "BRIDGE_"))}
    started = [(args, subprocess.Popen([str(BRIDGE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env={**clean, **env})) for args in commands]
    done = []
    for args, process in started:
        out, err = process.communicate(timeout=120)
        done.append(subprocess.CompletedProcess([str(BRIDGE), *args], process.returncode, out, err))
    return done


def locale(lang: str) -> dict[str, str]:
    return JAPANESE_LOCALE if lang == "ja" else ENGLISH_LOCALE


# -- usage errors -------------------------------------------------------------------------------------------------

USAGE_CASES = {
    # args: (English error line, Japanese error line)
    ("status", "--bogus"): ("Error: No such option: --bogus", "エラー: オプション --bogus はありません"),
    ("backup",): ("Error: Missing argument 'path'.", "エラー: 引数 'path' を指定してください。"),
    ("demo", "--cycles", "many"): (
        "Error: Invalid value for '--cycles': expected a whole number (e.g. 600), got 'many'",
        "エラー: '--cycles' の値が正しくありません: 整数 (例: 600) を指定してください。'many' になっています"),
    ("simulator", "--port", "99999"): (
        "Error: Invalid value for '--port': must be 65535 or less, got '99999'",
        "エラー: '--port' の値が正しくありません: 65535 以下にしてください。'99999' になっています"),
    ("status", "extra"): ("Error: Got unexpected extra argument(s): extra", "エラー: 余分な引数があります: extra"),
    ("nosuch",): ("Error: No such command 'nosuch'.", "エラー: コマンド 'nosuch' はありません。"),
}


def test_usage_errors_keep_clicks_shape_in_the_operators_language(lang: str) -> None:
    for args, done in zip(USAGE_CASES, bridges(list(USAGE_CASES), env=locale(lang)), strict=True):
        assert done.returncode == 2, (args, done.stderr)  # bad input (docs/operations.md "Exit codes")
        assert done.stdout == ""
        lines = done.stderr.splitlines()
        command = " ".join(["bridge", *[a for a in args[:1] if a != "nosuch"]])
        usage, try_help, blank, error = lines
        assert usage.startswith(("使い方: " if lang == "ja" else "Usage: ") + command + " [OPTIONS]"), lines
        assert try_help == (f"'{command} --help' でヘルプを表示できます。" if lang == "ja"
                            else f"Try '{command} --help' for help."), lines
        assert blank == ""
        english, japanese = USAGE_CASES[args]
        assert error == (japanese if lang == "ja" else english)


def test_an_option_without_its_value_and_a_group_without_a_command(lang: str) -> None:
    done, group = bridges([("status", "--config"), ("dlq",)], env=locale(lang))
    assert done.returncode == 2
    assert done.stderr.strip() == ("エラー: オプション '--config' には値が必要です。" if lang == "ja"
                                   else "Error: Option '--config' needs a value.")
    # a group without its command: click shows the group's help, exit 2
    assert group.returncode == 2 and ("コマンド:" if lang == "ja" else "Commands:") in group.stderr


def test_ui_language_of_the_named_settings_file_applies_to_usage_errors(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ui:\n  language: ja\n", encoding="utf-8")
    done, = bridges([("status", "-c", str(config), "--bogus")], env=ENGLISH_LOCALE)
    via_env, = bridges([("status", "--bogus")], env={**ENGLISH_LOCALE, "BRIDGE_CONFIG": str(config)})
    forced, = bridges([("status", "--bogus")], env={**JAPANESE_LOCALE, "BRIDGE_UI__LANGUAGE": "en"})
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "エラー: オプション --bogus はありません"
    assert via_env.stderr.splitlines()[-1] == "エラー: オプション --bogus はありません"
    assert forced.stderr.splitlines()[-1] == "Error: No such option: --bogus"


def test_help_texts_of_typer_are_translated_too(lang: str) -> None:
    done = bridge("simulator", "--help", env=locale(lang))
    assert done.returncode == 0
    if lang == "ja":
        assert "[既定値: 127.0.0.1]" in done.stdout and "待ち受けるアドレス。" in done.stdout
        assert "CS-Cart 模擬サーバー" in done.stdout
    else:
        assert "[default: 127.0.0.1]" in done.stdout and "Bind address." in done.stdout


def test_the_simulator_says_where_it_listens_and_why_it_cannot(lang: str, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = bridge("simulator", "--port", str(port), "--products", "2", "--users", "1", "--orders", "0",
                      env=locale(lang))
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("エラー: 127.0.0.1:" if lang == "ja" else "error: cannot listen on 127.0.0.1:")
    assert ("で待ち受けできません" in done.stderr) is (lang == "ja")
    started = subprocess.Popen([str(BRIDGE), "simulator", "--port", "0", "--products", "2",
                                "--users", "1", "--orders", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, **locale(lang)})
    try:
        assert started.stdout is not None
        line = started.stdout.readline()
    finally:
        started.terminate()
        started.wait(timeout=30)
    if lang == "ja":
        assert "CS-Cart 模擬サーバーを http://127.0.0.1:" in line and "商品 2 件、顧客 1 件、受注 0 件。" in line
        assert line.rstrip().endswith("Ctrl-C で停止します。")
    else:
        assert "CS-Cart simulator on http://127.0.0.1:" in line and "2 products, 1 customers, 0 orders." in line


# -- dead letters ---------------------------------------------------------------------------------------------------

async def _dead_letters(state: Path) -> None:
    """Two writes CS-Cart refuses, delivered by a dispatcher running in Japanese: an order status letter CS-Cart
    does not have (the bridge's sentence and hint) and the stock of a product it does not have (CS-Cart's words)."""
    i18n.set_language("ja")
    store = await Store.open(state)
    try:
        async with run_simulator(products=3, users=1, orders=2, seed=4) as sim:
            order = next(iter(sim.state.orders.values()))
            async with CSCartClient(sim.client_settings()) as client:
                async with store.transaction() as tx:
                    await ob.enqueue(tx, [
                        ob.NewOp("cscart", "order.status", "order", str(order.order_id),
                                 {"order_id": order.order_id, "status": "Q"}, track_ledger=False,
                                 coalescing=False),
                        ob.NewOp("cscart", "product.stock", "product", "999999", {"product_id": 999999, "amount": 3}),
                    ], 0.0)
                await Dispatcher(store, {"cscart": CSCartSink(client)}, DispatchSettings()).drain_all()
        rows = await store.fetchall("SELECT id, state, last_error, hint FROM outbox ORDER BY id")
    finally:
        await store.close()
    assert [r["state"] for r in rows] == ["dead", "dead"]
    # stored in English, whatever the daemon's language
    assert rows[0]["last_error"].startswith(f"PermanentError: order {order.order_id}: status 'Q' does not exist")
    assert rows[0]["hint"] == msg.HINT_STATUS_LETTER
    assert rows[1]["last_error"].startswith("NotFoundError: CS-Cart PUT products/999999: 404")


def test_a_cscart_refusal_reaches_bridge_dlq_in_the_readers_language(tmp_path: Path, lang: str) -> None:
    import asyncio

    asyncio.run(_dead_letters(tmp_path / "state.sqlite3"))
    env = {**locale(lang), "BRIDGE_DATA_DIR": str(tmp_path)}
    listed, shown, other = bridges([("dlq", "list"), ("dlq", "show", "1"), ("dlq", "show", "2")], env=env)
    for done in (listed, shown, other):
        assert done.returncode == 0, done.stderr
    # bridge status in this process (its job registry is slow to import in a fresh one)
    status = CliRunner().invoke(app, ["status"], env={"BRIDGE_DATA_DIR": str(tmp_path), "COLUMNS": "200"})
    assert status.exit_code == 0, status.output
    if lang == "ja":
        assert "ステータス 'Q' は CS-Cart にありません" in shown.stdout
        assert "ヒント: rules/order_flow.yaml の記号を直すか、そのステータスを作成してください" in shown.stdout
        assert "ステータス 'Q' は CS-Cart にありません" in status.output
        # CS-Cart's own words stay as they are; the default hint is in the reader's language
        assert "CS-Cart PUT products/999999: 404" in other.stdout
        assert "ヒント: 送信先がこの書き込みを拒否しました。" in other.stdout
        assert "PermanentError" in listed.stdout and "受注" in listed.stdout
    else:
        assert "status 'Q' does not exist in CS-Cart" in shown.stdout
        assert "hint: fix the letter in rules/order_flow.yaml or create the status" in shown.stdout
        assert "status 'Q' does not exist in CS-Cart" in status.output
        assert "hint: The target refused this write." in other.stdout
        assert "order" in listed.stdout
    replayed = bridge("dlq", "replay", "1", env=env)
    assert replayed.returncode == 0
    shown = bridge("dlq", "show", "1", env=env)
    assert ("処理結果: 再送済み" if lang == "ja" else "resolution: replayed") in shown.stdout


# -- the stored sentences, found again ----------------------------------------------------------------------------

_VALUE = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30)


@settings(max_examples=60, deadline=None)
@given(order_id=st.integers(min_value=1, max_value=10**9), letter=_VALUE, known=_VALUE)
def test_a_stored_sentence_is_shown_again_with_its_values(order_id: int, letter: str, known: str) -> None:
    i18n.set_language("ja")
    try:
        error = said(msg.UNKNOWN_STATUS, order_id=order_id, letter=letter, known=known)
        stored = f"PermanentError: {source_of(error)}"
        assert stored_text(stored) == f"PermanentError: {error}"
        i18n.set_language("en")
        assert stored_text(stored) == stored
    finally:
        i18n.set_language("en")


def test_every_stored_sentence_is_found_again_in_japanese() -> None:
    """Each template formatted with plain values comes back as its translation (no other template takes it)."""
    import re

    i18n.set_language("ja")
    try:
        for template in templates():
            names = set(re.findall(r"\{([a-z_]+)[^}]*\}", template))
            values = {name: f"v{index}x" for index, name in enumerate(sorted(names))}
            error = said(template, **values)
            assert stored_text(str(source_of(error))) == error, template
    finally:
        i18n.set_language("en")


def test_text_that_fits_no_sentence_is_shown_as_it_is() -> None:
    i18n.set_language("ja")
    try:
        for text in ("ClientConnectorError: Cannot connect to host", "PermanentError: 400 amount invalid", ""):
            assert stored_text(text) == text
    finally:
        i18n.set_language("en")
