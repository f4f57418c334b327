"""The Japanese troubleshooting table quotes what the bridge really prints: every quoted message is in the catalogue."""

from __future__ import annotations

from pathlib import Path

from bridge.i18n import catalogue

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "ja" / "運用ガイド.md"

QUOTED = [  # the table's first column, placeholders left out
    "設定ファイルが見つかりません (--config または",
    "件の問題があります:",
    "不明なキーです。",
    "の間違いではありませんか?",
    "を数値として読みましたが、コードは文字列です",
    "CS-Cart の API キーがありません。",
    "CS-Cart がメールアドレスと API キーを拒否しました",
    "ルールのフォルダが見つかりません",
    "状態ファイルはプロセス",
    "最終行に改行がありません。ファイルが途中で切れているか、まだ書き込み中と考えられます",
    "として正しくないバイト列です",
    "在庫の一括変更ガードが在庫ファイルを保留しました",
]


def test_troubleshooting_table_quotes_real_messages() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    table = guide[guide.index("## 9. よくあるエラーと対処"):]
    assert table.count("\n| `") + table.count("\n| アラート") >= 10  # ten errors
    translations = [message.string for message in catalogue.read("ja") if message.id]
    for snippet in QUOTED:
        assert snippet in table, snippet
        assert any(snippet in text for text in translations), f"{snippet!r} is not something the bridge prints"
