"""Text guard for files SMILE imports: characters the target cannot hold are substituted (and reported) or refused,
never written as '?'; lengths are measured in the layout's unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bridge.smile.text import display_width

# cp932 lead bytes outside JIS X 0208: NEC row 13, NEC-selected IBM extensions, user-defined area, IBM extensions.
_NON_0208_LEADS = frozenset([0x87, 0xED, 0xEE, *range(0xF0, 0xFD)])


@dataclass(frozen=True, slots=True)
class Substitution:
    original: str
    replacement: str


class TextGuard:
    def __init__(self, encoding: str, *, repertoire: Literal["encoding", "jis_x_0208"] = "encoding",
                 substitutions: dict[str, str] | None = None,
                 unmappable: Literal["refuse", "replace"] = "refuse", replacement: str = "〓") -> None:
        self.encoding = "utf-16-le" if encoding == "utf-16" else encoding
        self.repertoire = repertoire
        self.substitutions = substitutions or {}
        self.unmappable = unmappable
        self.replacement = replacement
        self._verdicts: dict[str, bool] = {}

    def holds(self, ch: str) -> bool:
        verdict = self._verdicts.get(ch)
        if verdict is None:
            verdict = self._holds(ch)
            self._verdicts[ch] = verdict
        return verdict

    def _holds(self, ch: str) -> bool:
        try:
            # Round trip: cp932 "best fit" maps some characters (− U+2212, 〜 U+301C) to a different one.
            if ch.encode(self.encoding).decode(self.encoding) != ch:
                return False
        except UnicodeError:
            return False
        if self.repertoire == "jis_x_0208" and not ch.isascii():
            try:
                encoded = ch.encode("cp932")
            except UnicodeEncodeError:
                return False
            if len(encoded) == 2 and encoded[0] in _NON_0208_LEADS:
                return False
        return True

    def clean(self, text: str) -> tuple[str, list[Substitution], list[str]]:
        """(text to write, substitutions made, characters refused)."""
        if text.isascii():
            return text, [], []
        out: list[str] = []
        made: list[Substitution] = []
        refused: list[str] = []
        for ch in text:
            if self.holds(ch):
                out.append(ch)
                continue
            replacement = self.substitutions.get(ch)
            if replacement is not None and all(self.holds(c) for c in replacement):
                out.append(replacement)
                made.append(Substitution(ch, replacement))
            elif self.unmappable == "replace":
                out.append(self.replacement)
                made.append(Substitution(ch, self.replacement))
            else:
                refused.append(ch)
        return "".join(out), made, refused

    def length(self, text: str, unit: Literal["bytes", "halfwidth", "chars"]) -> int:
        if unit == "bytes":
            return len(text.encode(self.encoding, errors="replace"))
        if unit == "halfwidth":
            return display_width(text)
        return len(text)

    def truncate(self, text: str, limit: int, unit: Literal["bytes", "halfwidth", "chars"], *,
                 keep_numbers: bool = True) -> str:
        """The longest prefix that fits; never splits a character, nor a number ("1000入" cut in "10|00入" becomes
        "" + what came before the number, never "10")."""
        if self.length(text, unit) <= limit:
            return text
        used = 0
        for index, ch in enumerate(text):
            used += self.length(ch, unit)
            if used > limit:
                return _before_number(text, index) if keep_numbers else text[:index]
        return text


_NUMBER_CHARS = frozenset("0123456789０１２３４５６７８９.,．，")


def _before_number(text: str, cut: int) -> str:
    """``text[:cut]``, moved back to the start of a number the cut would split."""
    if cut == 0 or cut >= len(text) or text[cut] not in _NUMBER_CHARS or text[cut - 1] not in _NUMBER_CHARS:
        return text[:cut]
    start = cut
    while start > 0 and text[start - 1] in _NUMBER_CHARS:
        start -= 1
    return text[:start].rstrip()


# C0 and C1 control characters (BEL, ESC …) but tab and line breaks: SMILE has no use for them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_controls(text: str) -> bool:
    return _CONTROL.search(text) is not None


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)
