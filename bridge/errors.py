"""The small error hierarchy every layer shares.

Edges classify failures once, where they happen: a sink or client raises ``RetryableError`` or
``PermanentError`` and the dispatcher only looks at the class, never at messages or status codes.
"""

from __future__ import annotations

from collections.abc import Sequence


class BridgeError(Exception):
    """Base class of every error the bridge raises on purpose."""


class ConfigError(BridgeError):
    """Settings or rules that cannot be used; the message names the file and the key."""


class StateMissing(BridgeError):
    """A read-only command found no state file where the settings point; it never creates one."""

    exit_code = 2


class DeliveryError(BridgeError):
    """A write to the outside failed."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class RetryableError(DeliveryError):
    """Worth trying again: connection refused or reset, timeout, 5xx, 429, a locked file."""

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Trying again gives the same answer: validation, mapping, unknown codes, encoding."""


class AuthError(PermanentError):
    """Credentials are refused; nothing will work until an operator fixes them."""


class ValidationFailed(BridgeError):
    """Input that was read but must not be applied; ``problems`` lists every one of them."""

    def __init__(self, message: str, problems: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems or [])
