"""Every report rendered to HTML and opened in headless Chromium (no console error, no empty chart, a screenshot
saved); the Excel workbook opened by LibreOffice headless without repair (round trip) and read back typed."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from bridge.analytics.periods import Period
from bridge.analytics.render import html, workbook
from bridge.analytics.reports import REPORTS, Params, run
from bridge.analytics.reports.base import Chart, Report
from tests.analytics.browser import check_page

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def reports(shop):
    from bridge.rules.campaigns import CampaignRules

    rules = CampaignRules.model_validate({"version": 1, "campaigns": [{
        "id": "nov", "name": "11月セール", "period": {"start": "2026-11-10", "end": "2026-11-19"},
        "target": {"all": True}, "benefits": [{"type": "free_shipping"}]}]})
    with shop.analytics.connect() as con:
        return {kind: run(kind, con, Params(NOVEMBER, options={"rules": rules} if kind == "campaigns" else {}))
                for kind in REPORTS}


@pytest.mark.parametrize("kind", list(REPORTS))
async def test_each_report_renders_in_chromium_without_errors_or_empty_charts(reports, kind, tmp_path) -> None:
    page = tmp_path / f"{kind}.html"
    page.write_text(html.page(f"{kind} テスト", [reports[kind]]), encoding="utf-8")
    checked = await check_page(page.as_uri(), SCREENSHOTS / f"{kind}.png", font_selectors=("body",))
    assert checked.errors == []
    # every character was drawn with the font embedded in the page, none with a font of this machine
    assert checked.faces and all(face.endswith(":loaded") for face in checked.faces), checked.faces
    assert checked.fonts["body"] and all(f["isCustomFont"] for f in checked.fonts["body"]), checked.fonts
    assert checked.charts, "every report draws at least one chart"
    for chart in checked.charts:
        assert chart["marks"] > 0 and chart["nonzero"] > 0, f"empty chart {chart}"
        assert chart["width"] > 100 and chart["height"] > 50
    assert checked.title == f"{kind} テスト"
    assert checked.screenshot is not None and checked.screenshot.stat().st_size > 10_000


async def test_japanese_renders_with_the_embedded_font_alone(tmp_path) -> None:
    """The page's only font is the embedded one (no fallback to a Japanese font of this machine): Chromium loads it
    from the page and draws every glyph of the Japanese text with it; without it the text falls back (the control)."""
    from bridge.analytics.render import fonts

    report = Report("sales", "売上分析 / sales", NOVEMBER, summary="売上 2,452,905,540円 (受注 14903件, 粗利率 40.1%)",
                    charts=[Chart("得意先別売上", "bar", ["東京都", "大阪府"], {"売上": [3.0, 2.0]})])
    text = html.page("月次経営レポート", [report])
    assert f'font-family: "{fonts.FAMILY}"' in text and "data:font/woff;base64," in text
    only = text.replace(html.FONTS, f'"{fonts.FAMILY}"')
    assert f'font-family: "{fonts.FAMILY}";' in only and "IPAGothic" not in only.split("<body>")[0]
    page = tmp_path / "embedded.html"
    page.write_text(only, encoding="utf-8")
    checked = await check_page(page.as_uri(), SCREENSHOTS / "embedded-font.png",
                               font_selectors=("h1", "p.summary", "svg text.chart-title", "h2"))
    assert checked.errors == [] and checked.faces == [f"{fonts.FAMILY}:loaded", f"{fonts.FAMILY}:loaded"]
    for selector, used in checked.fonts.items():
        assert used and all(f["isCustomFont"] for f in used), (selector, used)
        assert sum(f["glyphCount"] for f in used) > 0
    # the control: the same page without the embedded face draws its Japanese with a system font
    bare = html.page("月次経営レポート", [report], embed_font=False).replace(html.FONTS, f'"{fonts.FAMILY}"')
    page.write_text(bare, encoding="utf-8")
    control = await check_page(page.as_uri(), tmp_path / "bare.png", font_selectors=("h1",))
    assert control.fonts["h1"] and not any(f["isCustomFont"] for f in control.fonts["h1"]), control.fonts


async def test_the_checker_catches_console_errors_and_empty_charts(tmp_path) -> None:
    empty = Report("x", "空", NOVEMBER, charts=[Chart("空のグラフ", "bar", ["a"], {"s": [float("nan")]})])
    text = html.page("壊れたページ", [empty]).replace("</body>", "<script>console.error('boom')</script></body>")
    page = tmp_path / "broken.html"
    page.write_text(text, encoding="utf-8")
    checked = await check_page(page.as_uri(), tmp_path / "broken.png")
    assert any("boom" in error for error in checked.errors)
    assert checked.charts[0]["marks"] == 0


def test_workbook_round_trips_through_libreoffice_and_keeps_types(reports, tmp_path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
    path = workbook.write(tmp_path / "pack.xlsx", "月次", list(reports.values()))
    out = tmp_path / "converted"
    profile = tmp_path / "lo-profile"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                           "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(path)],
                          check=False, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    converted = out / "pack.xlsx"
    assert converted.is_file(), f"LibreOffice wrote nothing: {done.stdout} {done.stderr}"
    assert "repair" not in (done.stdout + done.stderr).lower()
    for source in (path, converted):
        book = openpyxl.load_workbook(source)
        assert book.sheetnames[0] == "概要"
        sheet = book["sales_by_product"]
        if source == path:  # LibreOffice headless saves no view settings (frozen panes) of a file it converts
            assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
        header = [c.value for c in sheet[1]]
        sales_col = header.index("売上 / sales") + 1
        first = sheet.cell(row=2, column=sales_col)
        assert isinstance(first.value, (int, float)) and first.value > 0
        assert "¥" in first.number_format or "[$¥" in first.number_format
        rate = sheet.cell(row=2, column=header.index("粗利率 / margin rate") + 1)
        assert isinstance(rate.value, float) and "%" in rate.number_format
        table = reports["sales"].table("sales_by_product")
        assert first.value == float(table.rows[0][4])
        stock_sheet = book["stock_by_sku"]
        dates = [c.value for c in stock_sheet["E"][1:] if c.value is not None]  # 入荷予定日
        assert dates and all(isinstance(d, datetime) for d in dates)
