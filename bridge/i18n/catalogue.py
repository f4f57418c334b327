"""Maintain the catalogue: ``python -m bridge.i18n.catalogue update|check`` (docs/i18n.md).

``update`` extracts every ``_()``, ``N_()`` and ``ngettext()`` string from ``bridge/`` and merges it into each
language's ``.po`` (existing translations kept, new ones left empty, vanished ones dropped). ``check`` lists messages
that have no translation, are fuzzy, or whose ``{placeholders}`` differ from the English; exit 1 if any.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bridge.i18n import DOMAIN, LANGUAGES, catalogue_path

STABLE_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # bridge/
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
_PLACEHOLDER = re.compile(r"(?<!\{)\{([a-zA-Z_][a-zA-Z0-9_]*)(?:[:!][^}]*)?\}")


def extract() -> Catalog:
    template = Catalog(project="cscart-smile-bridge", domain=DOMAIN)
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE_DIR, method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        template.add(message, None, [(f"bridge/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def read(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def write(language: str, catalog: Catalog) -> None:
    # A stable header: dates that change on every run would make every merge of the .po conflict.
    catalog.creation_date = catalog.revision_date = STABLE_DATE
    catalog.project, catalog.version = "cscart-smile-bridge", "1"
    catalog.last_translator = catalog.language_team = "cscart-smile-bridge operators"
    catalog.msgid_bugs_address = ""
    catalog.fuzzy = False
    catalog.copyright_holder = "cscart-smile-bridge"
    catalog.header_comment = ("# Japanese messages of cscart-smile-bridge (docs/i18n.md).\n"
                              "# Edit the msgstr lines; python -m bridge.i18n.catalogue update adds new msgids.")
    buffer = BytesIO()  # written whole, so a failure never leaves a truncated .po
    write_po(buffer, catalog, width=110, no_location=True, sort_output=True, omit_header=False,
             ignore_obsolete=True)
    catalogue_path(language).write_bytes(buffer.getvalue())


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        if language == "en":
            continue
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True)
        write(language, catalog)


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def problems(language: str) -> list[str]:
    """Every message of the source that is not usable in ``language``, one line each."""
    catalog = read(language)
    found: list[str] = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        singular = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"missing: {singular!r} (run: python -m bridge.i18n.catalogue update)")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            found.append(f"untranslated: {singular!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy: {singular!r}")
        else:
            ids = [str(text) for text in (message.id if isinstance(message.id, (tuple, list)) else (message.id,))]
            expected: set[str] = set().union(*(placeholders(text) for text in ids))
            for text in (str(item) for item in strings if item):
                if placeholders(text) != expected:
                    found.append(f"placeholders differ: {singular!r}: {sorted(placeholders(text))} "
                                 f"!= {sorted(expected)}")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        listed = [f"{language}: {line}" for language in LANGUAGES if language != "en" for line in problems(language)]
        for line in listed:
            print(line)
        return 1 if listed else 0
    print("usage: python -m bridge.i18n.catalogue update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
