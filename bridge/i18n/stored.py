"""Stored English sentences shown in the reader's language.

A dead letter's error and hint are stored in English (``Said.source``): the daemon and the operator may not share
a language, and English is what a machine or a support ticket reads best. ``shown`` turns such a text back into
the current language: it finds the catalogue sentence (one of ``templates``) the text was made from, takes the
values out of it and formats the translation with them. A text that fits no template (CS-Cart's own words, an
error of a library, a dead letter written before its sentence went through the catalogue) is shown as it is.

The values are shown again as they were, except one that is itself a known sentence (a nested ``said``). A
leading exception class name (``PermanentError: …``, as the dispatcher stores it) is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bridge.i18n import Text, _, get_language, verbatim

_FIELD = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}")
_CLASS_PREFIX = re.compile(r"([A-Z][A-Za-z0-9]*(?:Error|Exception|Failed|Timeout)): (.*)", re.DOTALL)


def pattern(template: str) -> re.Pattern[str]:
    """``template``'s literal parts with a named group for each ``{placeholder}`` (the first of a repeated one)."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for field in _FIELD.finditer(template):
        parts.append(re.escape(template[position:field.start()].replace("{{", "{").replace("}}", "}")))
        name = field.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        position = field.end()
    parts.append(re.escape(template[position:].replace("{{", "{").replace("}}", "}")))
    return re.compile("".join(parts), re.DOTALL)


def _plain(text: str) -> str:
    """A translation with ``{x!r}``/``{x:g}`` reduced to ``{x}``: the values are already formatted."""
    return _FIELD.sub(lambda field: "{" + field.group(1) + "}", text)


@lru_cache(maxsize=64)
def _compiled(templates: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # the most literal text first: "{where}: expected an integer, got {value}" before "{where}: {error}"
    ordered = sorted(templates, key=lambda t: len(_FIELD.sub("", t)), reverse=True)
    return tuple((template, pattern(template)) for template in ordered)


def shown(text: str | None, templates: Iterable[str], *, depth: int = 2) -> Text:
    """``text`` (stored in English) in the current language; as it is when it fits none of ``templates``."""
    if not text:
        return verbatim(text or "")
    return _shown(text, tuple(templates), depth, get_language())


@lru_cache(maxsize=4096)
def _shown(text: str, templates: tuple[str, ...], depth: int, language: str) -> Text:
    prefixed = _CLASS_PREFIX.fullmatch(text)
    if prefixed is not None:
        return Text(f"{prefixed.group(1)}: {_shown(prefixed.group(2), templates, depth, language)}")
    for template, compiled in _compiled(templates):
        found = compiled.fullmatch(text)
        if found is None:
            continue
        values = {name: (_shown(value, templates, depth - 1, language) if depth > 1 else value)
                  for name, value in found.groupdict().items()}
        try:
            return Text(_plain(_(template)).format(**values))
        except (KeyError, IndexError, ValueError):
            return verbatim(text)
    return verbatim(text)
