"""What the state file keeps in English — a dead letter's error, hint and resolution, a job's last error — shown in
the reader's language (bridge/i18n/stored.py): the sentences they can be made of are listed here."""

from __future__ import annotations

from functools import cache

from bridge.i18n import N_, Text
from bridge.i18n.stored import shown

# The resolutions bridge/store/outbox.py writes (in SQL too, so they are not said() there).
RESOLUTIONS = (N_("superseded by #{id}"), N_("superseded by pending #{id}"), N_("replayed"), N_("discarded"))


@cache
def templates() -> tuple[str, ...]:
    from bridge.cscart.messages import STORED
    from bridge.dispatch.dispatcher import DEFAULT_HINTS

    return (*STORED, *DEFAULT_HINTS.values(), *RESOLUTIONS)


def stored_text(text: str | None) -> Text:
    """``text`` as the state file keeps it, in the current language ("" for None)."""
    return shown(text, templates())
