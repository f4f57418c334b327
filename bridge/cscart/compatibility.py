"""The CS-Cart versions and editions the smile_bridge add-on and the daemon were tested on (docs/compatibility.md has
the dates, PHP and database versions and the live suite's result lines). ``bridge addon check`` warns on others."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bridge.i18n import Text, _

# (version, edition) pairs a live run passed on; keep docs/compatibility.md in step (a test compares them).
TESTED: tuple[tuple[str, str], ...] = (("4.20.1", "ULTIMATE"),)

_DEFINE = re.compile(r"""define\(\s*['"](PRODUCT_VERSION|PRODUCT_EDITION)['"]\s*,\s*['"]([^'"]*)['"]\s*\)""")


@dataclass(frozen=True, slots=True)
class StoreVersion:
    version: str
    edition: str = ""


def read_store_version(store_root: Path) -> StoreVersion:
    """PRODUCT_VERSION and PRODUCT_EDITION from the store's config.php (read, never executed)."""
    path = store_root / "config.php"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValueError(_("{path}: cannot read it ({error}); pass the CS-Cart folder").format(
            path=path, error=exc.strerror)) from None
    found = dict(_DEFINE.findall(text))
    if "PRODUCT_VERSION" not in found:
        raise ValueError(_("{path}: no PRODUCT_VERSION define; is this a CS-Cart store root?").format(path=path))
    return StoreVersion(found["PRODUCT_VERSION"], found.get("PRODUCT_EDITION", "").upper())


def warning(store: StoreVersion) -> Text | None:
    """None when tested; else the warning to show (in the operator's language)."""
    if any(store.version == version and (not store.edition or store.edition == edition)
           for version, edition in TESTED):
        return None
    tested = ", ".join(f"{version} {edition}" for version, edition in TESTED)
    what = f"{store.version} {store.edition}".strip()
    return _("warning: CS-Cart {store} is untested (tested: {tested}); see docs/compatibility.md and run the live "
             "suite (pytest -m live_cscart) against a copy of the store before production").format(store=what,
                                                                                                    tested=tested)
