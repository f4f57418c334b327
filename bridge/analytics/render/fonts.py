"""A Japanese font inside the HTML page, so a report reads the same on a machine without Japanese fonts (a phone,
a locked-down PC, a mail client's viewer).

The font is IPA Gothic from Debian's ``fonts-ipafont-gothic`` (or any TrueType/OpenType file named by
``BRIDGE_REPORT_FONT``), cut down with fontTools to the characters the page uses (a month's pack needs a few hundred
glyphs: some 20-60 KB instead of 6 MB) and embedded as a base64 WOFF ``@font-face``. Nothing is fetched and the font
is not shipped in this repository: it is read from the machine that makes the report.

Licence: the IPA Font License Agreement v1.0 lets a recipient use the font, with or without modification, in
digital content "as an expression of character texts" (Article 2.2), distribute that content (Article 2.3), and a
font embedded in a document only to display that document brings no further obligation (Article 1.5, Article 2.5).
An embedded subset used to render the page it is in is exactly that case.

Without the font file or fontTools the page falls back to the reader's fonts (and says so in the log).
"""

from __future__ import annotations

import base64
import io
import os
import string
import threading
from functools import lru_cache
from pathlib import Path

import structlog

log = structlog.get_logger("bridge.analytics.fonts")

FAMILY = "BridgeReportGothic"  # the embedded font's name in the page (not the IPA name: it is a subset)
CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)
_LOCK = threading.Lock()
# printable ASCII and the usual Japanese punctuation, whatever the page's text (entities, numbers formatted later)
_ALWAYS = set(string.printable.strip()) | set(" 、。・ー（）「」【】％￥¥—…〜：／")


def font_file() -> Path | None:
    """The font to embed: ``BRIDGE_REPORT_FONT`` when set, else IPA Gothic where Debian installs it."""
    named = os.environ.get("BRIDGE_REPORT_FONT")
    if named:
        return Path(named) if Path(named).is_file() else None
    return next((p for p in CANDIDATES if p.is_file()), None)


def face_css(text: str, path: Path | None = None) -> str:
    """An ``@font-face`` rule for ``FAMILY`` holding the glyphs of ``text`` (every character of the page), or ""
    when no font or no fontTools is there (the page then uses the reader's fonts)."""
    path = path or font_file()
    if path is None:
        log.warning("report_font_missing", hint="apt-get install fonts-ipafont-gothic, or set BRIDGE_REPORT_FONT")
        return ""
    try:
        woff = _subset(str(path), "".join(sorted(set(text) | _ALWAYS)))
    except ImportError:
        log.warning("report_font_no_fonttools", hint="pip install fonttools")
        return ""
    data = base64.b64encode(woff).decode("ascii")
    return (f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 400; font-display: block; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}\n'
            f'@font-face {{ font-family: "{FAMILY}"; font-style: normal; font-weight: 700; font-display: block; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}\n')


@lru_cache(maxsize=8)
def _subset(path: str, characters: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]  # vertical forms, proportional widths: whatever the page's text may use
    options.notdef_outline = True
    options.name_IDs = ["*"]  # the licence and copyright notices stay in the font
    options.name_legacy = True
    options.name_languages = ["*"]
    with _LOCK:  # fontTools objects are not shared between threads
        font = TTFont(path, lazy=True)
        try:
            subsetter = subset.Subsetter(options)
            subsetter.populate(text=characters)
            subsetter.subset(font)
            font.flavor = "woff"
            out = io.BytesIO()
            font.save(out)
        finally:
            font.close()
    return out.getvalue()
