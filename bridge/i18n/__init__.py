"""Operator-facing text in Japanese and English: one gettext catalogue, one language, one display time zone.

- Source strings are English and are the message ids: ``_("rules OK: {directory}").format(directory=...)``.
  Placeholders are named (``{file}``), never positional, so a translation may reorder them.
- The Japanese catalogue is ``bridge/i18n/locale/ja/LC_MESSAGES/bridge.po``. It is compiled in memory with Babel the
  first time Japanese is asked for (no ``.mo`` file to forget); English needs no catalogue at all.
- The language is ``ui.language`` when set to ``ja``/``en``; otherwise the locale environment, POSIX order
  ``LC_ALL`` → ``LC_MESSAGES`` → ``LANG`` (``ja_JP.UTF-8`` → Japanese; anything else → English).
- Text built at import time (constants, typer help) is marked with ``N_`` and translated where it is shown.
- Log event names and metric/alert names stay English (machines key on them); the human text in them is translated.
- ``_()`` and ``ngettext()`` return ``Text``, a ``str`` that says it came from the catalogue (``.format()`` keeps it
  a ``Text``; ``+`` and f-strings make a plain ``str``). Operator-facing fields deeper than the CLI (job notes, add-on
  check problems, installer warnings, label holds …) are typed ``Text``, so mypy --strict refuses an English-only
  sentence there, and tests/i18n/test_guard.py checks the same at run time.

How to add a message: docs/i18n.md.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from bridge.i18n.times import display_zone, format_local, set_display_zone

DOMAIN = "bridge"
LANGUAGES = ("en", "ja")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX precedence for message language

__all__ = [
    "DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "_", "catalogue_path", "configure", "configure_from_env", "display_zone", "format_local",
    "Text", "get_language", "language_from_env", "ngettext", "resolve_language", "set_display_zone", "set_language",
    "joined", "translations", "verbatim", "Said", "said", "source_of",
]

_current = "en"


def language_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``ja`` when the first set locale variable (LC_ALL, LC_MESSAGES, LANG) names Japanese, else ``en``."""
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = (environ.get(name) or "").strip()
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def resolve_language(setting: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``setting`` (``ja``/``en``) wins; ``auto``, empty or None means the locale environment."""
    if setting and setting.lower() in LANGUAGES:
        return setting.lower()
    return language_from_env(environ)


def set_language(language: str) -> None:
    global _current
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}")
    _current = language


def get_language() -> str:
    return _current


def configure(language: str | None = None, timezone: str | None = None,
              environ: Mapping[str, str] | None = None) -> None:
    """Apply the ``ui`` settings: language (``auto``/``ja``/``en``) and the display time zone."""
    set_language(resolve_language(language, environ))
    if timezone:
        set_display_zone(timezone)


def configure_from_env(environ: Mapping[str, str] | None = None) -> None:
    """The language before any settings are read: ``BRIDGE_UI__LANGUAGE`` if set, else the locale environment."""
    environ = os.environ if environ is None else environ
    set_language(resolve_language(environ.get("BRIDGE_UI__LANGUAGE"), environ))


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``; English (the source language) is the identity."""
    if language == "en":
        return gettext.NullTranslations()
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, so they fall back to English
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Text(str):
    """Operator text that went through the catalogue (or is data shown as is, see ``verbatim``).

    A ``str`` in every other way; ``format`` returns a ``Text`` again, so ``_("…{x}").format(x=…)`` stays one.
    """

    __slots__ = ()

    def format(self, *args: object, **kwargs: object) -> Text:
        return Text(str.format(self, *args, **kwargs))


def joined(parts: Iterable[Text], separator: str = "\n") -> Text:
    """Catalogue texts put together (lines of a report, items of a list) stay a ``Text``."""
    return Text(separator.join(parts))


def verbatim(data: object) -> Text:
    """Data with no words to translate, shown as is (a file name, a SKU list, CS-Cart's own error text)."""
    return Text(str(data))


class Said(Text):
    """A catalogue sentence that keeps its English source (``said``): an error that is stored (a dead letter's
    error and hint in the outbox) is stored in English and shown again in the reader's language
    (``bridge.i18n.stored``); the exception itself, its log line and a CLI that prints it read in the current one."""

    source: str

    def __reduce__(self) -> tuple[object, ...]:
        return (_said_again, (str(self), self.source))


def _said_again(text: str, source: str) -> Said:
    said_text = Said(text)
    said_text.source = source
    return said_text


def said(message: str, /, **params: object) -> Said:
    """``_(message).format(**params)`` that remembers ``message.format(**params)`` in English (``source``).

    ``message`` is a constant marked with ``N_`` (the catalogue extracts it there); a parameter that is itself a
    ``Said`` is put into the source in English too.
    """
    text = Said(translations(_current).gettext(message).format(**params))
    text.source = message.format(**{name: source_of(value) for name, value in params.items()})
    return text


def source_of(value: object) -> object:
    """The English source of a ``Said`` (or of an exception raised with one), else ``value`` itself."""
    if isinstance(value, BaseException):
        first = value.args[0] if len(value.args) == 1 else None
        return first.source if isinstance(first, Said) else str(value)
    return value.source if isinstance(value, Said) else value


def _(message: str) -> Text:
    """``message`` in the current language (English when it has no translation)."""
    return Text(translations(_current).gettext(message))


def ngettext(singular: str, plural: str, n: int) -> Text:
    return Text(translations(_current).ngettext(singular, plural, n))


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it yet (module constants, help built at import)."""
    return message
