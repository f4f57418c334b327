"""Text guard for files SMILE imports: characters the target cannot hold are substituted (and reported) or refused,
never written as '?'; lengths are measured in the layout's unit.
"""

from __future__ import annotations

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

    def truncate(self, text: str, limit: int, unit: Literal["bytes", "halfwidth", "chars"]) -> str:
        """The longest prefix that fits; never splits a character."""
        if self.length(text, unit) <= limit:
            return text
        used = 0
        for index, ch in enumerate(text):
            used += self.length(ch, unit)
            if used > limit:
                return text[:index]
        return text
