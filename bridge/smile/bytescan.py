"""Byte-level faults of a SMILE export that a CSV reader would pass or misreport: NUL bytes (NUL characters in UTF-16
text), a byte order mark in the middle (two exports joined), mixed line endings, a two-byte character cut in half.

One pass over the raw bytes in large blocks with ``bytes.find``/``count`` (memchr speed), before the CSV reader; each
finding names the line and column so the operator can look at the very spot.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.i18n import _

BLOCK = 1 << 20
_BOM_UTF8 = codecs.BOM_UTF8

Problem = Callable[..., None]


@dataclass(frozen=True, slots=True)
class Spot:
    offset: int  # byte offset in the file
    line: int  # 1-based
    column: int  # 1-based, counted by delimiters (quotes are not considered: good enough to find the spot)


@dataclass(slots=True)
class Scan:
    nul: Spot | None = None
    nul_count: int = 0
    bom: Spot | None = None  # a UTF-8 byte order mark at the start of a line after the first
    crlf: int = 0
    lf_only: int = 0
    first_lf_only: int | None = None  # line number of the first line ending in a bare LF
    first_crlf: int | None = None
    size: int = 0


def scan(path: Path, delimiter: str) -> Scan:
    """Scan a file that is not UTF-16 (where NUL bytes are normal)."""
    found = Scan()
    sep = delimiter.encode("ascii", errors="ignore") or b","
    lines_before = 0  # line breaks in the blocks already read
    carry = b""  # the last bytes of the previous block (a CRLF or a line break + BOM split by the block boundary)
    with path.open("rb") as raw:
        offset = 0
        while block := raw.read(BLOCK):
            data = carry + block
            base = offset - len(carry)
            if found.nul is None:
                at = data.find(b"\x00")
                if at >= 0:
                    found.nul = _spot(data, at, base, lines_before, sep, len(carry))
            if found.nul is not None:  # counted only once one is found (find is memchr: a clean file costs less)
                found.nul_count += block.count(b"\x00")
            if found.bom is None:  # at the start of a line: files joined (inside a value the row checks say it)
                at = data.find(b"\n" + _BOM_UTF8)
                if at >= 0:
                    found.bom = _spot(data, at + 1, base, lines_before, sep, len(carry))
            # line endings: count on the block joined to one carried byte so a CRLF across the boundary counts once
            lf = data.count(b"\n") - carry.count(b"\n")
            crlf = data.count(b"\r\n") - carry.count(b"\r\n")
            if found.first_lf_only is None and lf > crlf:
                found.first_lf_only = _first_bare_lf(data, len(carry), lines_before)
            if found.first_crlf is None and crlf:
                at = data.find(b"\r\n", max(0, len(carry) - 1))
                found.first_crlf = lines_before + data.count(b"\n", len(carry), at) + 1
            found.crlf += crlf
            found.lf_only += lf - crlf
            lines_before += lf
            offset += len(block)
            carry = data[-3:]
    found.size = offset
    return found


def _spot(data: bytes, at: int, base: int, lines_before: int, sep: bytes, carried: int) -> Spot:
    """``data`` starts with ``carried`` bytes of the previous block, whose line breaks ``lines_before`` counts."""
    line_start = data.rfind(b"\n", 0, at) + 1
    return Spot(base + at, lines_before + data.count(b"\n", carried, at) + 1, data.count(sep, line_start, at) + 1)


def _first_bare_lf(data: bytes, start: int, lines_before: int) -> int | None:
    at = data.find(b"\n", start)
    while at >= 0:
        if at == 0 or data[at - 1] != 0x0D:
            return lines_before + data.count(b"\n", start, at) + 1
        at = data.find(b"\n", at + 1)
    return None


def report(found: Scan, path: Path, layout_type: str, encoding: str, expected_newline: str,
           problem: Problem, notes: list[str]) -> bool:
    """Add the problems (refusing the file) and notes; True when the file may be read."""
    setting = f"smile.files.{layout_type}.encoding"
    ok = True
    if found.nul is not None:
        ok = False
        if found.nul_count * 4 >= found.size:  # every other byte: UTF-16 text without its byte order mark
            problem(found.nul.line, _("the file holds NUL bytes at every other position: it looks like UTF-16 "
                                      "without a byte order mark, not {encoding}").format(encoding=encoding),
                    _("export the file again as {encoding}, or set {setting}: utf-16 and export it with a byte "
                      "order mark").format(encoding=encoding, setting=setting),
                    column=str(found.nul.column))
        else:
            problem(found.nul.line, _("the file holds {count} NUL byte(s) (0x00), the first on this line, which a "
                                      "SMILE text export never has: the file is damaged (a disk or transfer fault, or "
                                      "a binary file)").format(count=found.nul_count),
                    _("export the file again from SMILE and copy it anew; do not edit it with a binary tool"),
                    column=str(found.nul.column))
    if found.bom is not None:
        ok = False
        problem(found.bom.line, _("a UTF-8 byte order mark (EF BB BF) in the middle of the file, at byte {offset}: "
                                  "two exports were probably joined into one file").format(offset=found.bom.offset),
                _("deliver each SMILE export as its own file (do not join files with copy /b or cat), or remove the "
                  "mark at the start of that line"),
                column=str(found.bom.column))
    if found.crlf and found.lf_only:
        wanted = "CRLF" if expected_newline == "crlf" else "LF"
        odd = found.first_lf_only if expected_newline == "crlf" else found.first_crlf
        notes.append(_("{file}: the lines end in both CRLF ({crlf}) and LF alone ({lf}); the first line that does not "
                       "end in {wanted} is line {line}. The rows were read as they are; if the file was edited or "
                       "joined by hand, export it again from SMILE").format(
            file=path.name, crlf=found.crlf, lf=found.lf_only, wanted=wanted, line=odd or "?"))
    return ok


class NulCharacter(ValueError):
    """A NUL character (U+0000) in decoded text, ``offset`` characters from the start."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"NUL character at character {offset}")
        self.offset = offset


class NulRefusingText:
    """A UTF-16 text stream that raises ``NulCharacter`` at a NUL character.

    In UTF-16 every ASCII character holds a NUL byte, so ``scan`` cannot look for damage there; the decoded text
    is checked instead, as the reader takes it (the stream methods ``_RowSource`` and the csv module use)."""

    def __init__(self, text: Any) -> None:
        self._text = text
        self._offset = 0  # characters handed out

    def _checked(self, part: str) -> str:
        if "\0" in part:
            raise NulCharacter(self._offset + part.index("\0"))
        self._offset += len(part)
        return part

    def read(self, size: int = -1) -> str:
        return self._checked(self._text.read(size))

    def readline(self) -> str:
        return self._checked(self._text.readline())

    def __iter__(self) -> NulRefusingText:
        return self

    def __next__(self) -> str:
        return self._checked(next(self._text))


def report_nul_character(path: Path, encoding: str, offset: int, delimiter: str, problem: Problem) -> None:
    """Refuse the file for the NUL character ``offset`` characters into its text, naming its line and column.

    Only the text before it is decoded again (it decoded once already), so a fault further on cannot interfere."""
    try:
        with path.open("r", encoding=encoding, newline="") as text:  # as the reader took it
            before = text.read(offset)
    except (OSError, UnicodeError):
        before = None
    line_start = before.rfind("\n") + 1 if before is not None else 0
    problem(before.count("\n") + 1 if before is not None else None,
            _("the line holds a NUL character (U+0000), which a SMILE text export never has: the file is damaged (a "
              "disk or transfer fault, or a binary file)"),
            _("export the file again from SMILE and copy it anew; do not edit it with a binary tool"),
            column=str(before.count(delimiter, line_start) + 1) if before is not None else None)


def cut_character(data: bytes, start: int, encoding: str) -> str | None:
    """The byte that failed to decode at ``start`` explained, when it is the first half of a two-byte character
    whose second half is missing (a line break, the delimiter or the end of the file follows): a cut character."""
    lead = data[start]
    after = data[start + 1:start + 2]
    cut = after in (b"", b"\r", b"\n", b",", b"\t")
    if not cut:
        return None
    if encoding in ("cp932", "shift_jis") and (0x81 <= lead <= 0x9F or 0xE0 <= lead <= 0xFC):
        return _("a two-byte character is cut in half: its first byte 0x{byte:02X} is followed by {after}").format(
            byte=lead, after=_describe(after))
    if encoding.startswith("utf-8") and lead >= 0xC2:
        return _("a multi-byte UTF-8 character is cut: its first byte 0x{byte:02X} is followed by {after}").format(
            byte=lead, after=_describe(after))
    return None


def _describe(after: bytes) -> str:
    if not after:
        return _("the end of the file")
    return {b"\r": _("a line break"), b"\n": _("a line break"), b",": _("a comma"), b"\t": _("a tab")}[after]
