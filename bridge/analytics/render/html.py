"""A self-contained HTML page: inline CSS and SVG charts, no script, nothing fetched from anywhere.

Japanese text is drawn with a subset of IPA Gothic embedded in the page (``fonts.face_css``: only the glyphs the
page uses), so it reads the same where no Japanese font is installed; the reader's Japanese fonts (IPA, Noto CJK,
Hiragino, Yu Gothic, Meiryo) come after it, for a machine where the font file is missing. ``lang="ja"`` makes
browsers pick Japanese glyph forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from bridge.analytics.render import fonts, svg
from bridge.analytics.render.cells import text
from bridge.analytics.reports.base import Report

FONTS = (f'"{fonts.FAMILY}", "IPAexGothic", "IPAGothic", "IPAPGothic", "Noto Sans CJK JP", "Noto Sans JP", '
         '"Hiragino Kaku Gothic ProN", "Hiragino Sans", "Yu Gothic", "YuGothic", "Meiryo", sans-serif')

CSS = f"""
body {{ font-family: {FONTS}; margin: 24px; color: #222; background: #fff; }}
h1 {{ font-size: 22px; border-bottom: 3px solid #2f6fb0; padding-bottom: 6px; }}
h2 {{ font-size: 18px; margin-top: 32px; color: #2f6fb0; }}
h3 {{ font-size: 15px; margin: 18px 0 6px; }}
p.summary {{ background: #f2f6fb; padding: 8px 12px; border-left: 4px solid #2f6fb0; }}
table {{ border-collapse: collapse; font-size: 12px; margin-bottom: 12px; }}
th, td {{ border: 1px solid #ccd; padding: 3px 6px; }}
th {{ background: #e8eef6; position: sticky; top: 0; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
svg.chart {{ width: 100%; max-width: 760px; height: auto; display: block; margin: 8px 0 16px; }}
svg .grid {{ stroke: #e3e3e3; }} svg .axis {{ font-size: 10px; fill: #555; }}
svg .chart-title {{ font-size: 13px; font-weight: bold; }} svg .legend {{ font-size: 11px; }}
footer {{ margin-top: 32px; font-size: 11px; color: #777; }}
"""

NUMERIC = {"int", "yen", "qty", "pct", "days", "float"}


def page(title: str, reports: Sequence[Report], *, generated: datetime | None = None,
         max_rows: int = 1000, embed_font: bool = True) -> str:
    body = [f"<h1>{escape(title)}</h1>"]
    chart_no = 0
    for report in reports:
        body.append(f'<section class="report" data-kind="{report.kind}"><h2>{escape(report.title)} '
                    f'<small>{escape(report.period.label())}</small></h2>')
        if report.summary:
            body.append(f'<p class="summary">{escape(report.summary)}</p>')
        for chart in report.charts:
            chart_no += 1
            body.append(svg.render(chart, f"chart-{chart_no}"))
        for table in report.tables:
            body.append(f"<h3>{escape(table.title)}</h3>")
            if not table.rows:
                body.append("<p>データなし / no data</p>")
                continue
            head = "".join(f"<th>{escape(c.label)}</th>" for c in table.columns)
            rows = []
            for row in table.rows[:max_rows]:
                cells = "".join(
                    f'<td class="n">{escape(text(v, c))}</td>' if c.kind in NUMERIC else f"<td>{escape(text(v, c))}</td>"
                    for v, c in zip(row, table.columns, strict=True))
                rows.append(f"<tr>{cells}</tr>")
            more = (f"<p>… 他 {len(table.rows) - max_rows} 行 (CSV / Excel に全行)</p>"
                    if len(table.rows) > max_rows else "")
            body.append(f'<table data-name="{escape(table.name)}"><thead><tr>{head}</tr></thead>'
                        f'<tbody>{"".join(rows)}</tbody></table>{more}')
        body.append("</section>")
    stamp = f"作成 {generated:%Y-%m-%d %H:%M} JST — " if generated else ""
    body.append(f"<footer>{stamp}cscart-smile-bridge analytics</footer>")
    content = "".join(body)
    face = fonts.face_css(title + content) if embed_font else ""
    return ("<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
            f"<style>{face}{CSS}</style></head><body>{content}</body></html>\n")
