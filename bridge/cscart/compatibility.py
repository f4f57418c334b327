"""The CS-Cart versions and editions the smile_bridge add-on and the daemon were tested on (docs/compatibility.md has
the dates, PHP and database versions and the live suite's result lines). ``bridge addon check`` warns on others."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
        raise ValueError(f"{path}: cannot read it ({exc.strerror}); pass the CS-Cart folder") from None
    found = dict(_DEFINE.findall(text))
    if "PRODUCT_VERSION" not in found:
        raise ValueError(f"{path}: no PRODUCT_VERSION define; is this a CS-Cart store root?")
    return StoreVersion(found["PRODUCT_VERSION"], found.get("PRODUCT_EDITION", "").upper())


def warning(store: StoreVersion) -> str | None:
    """None when tested; else the warning to show (Japanese and English)."""
    if any(store.version == version and (not store.edition or store.edition == edition)
           for version, edition in TESTED):
        return None
    tested = ", ".join(f"{version} {edition}" for version, edition in TESTED)
    what = f"{store.version} {store.edition}".strip()
    return (f"警告: CS-Cart {what} は未検証です（検証済み: {tested}）。docs/compatibility.md を参照し、"
            f"本番の前にライブテストを実行してください。 / warning: CS-Cart {what} is untested (tested: {tested}); "
            "see docs/compatibility.md and run the live suite (pytest -m live_cscart) against a copy of the store "
            "before production")
