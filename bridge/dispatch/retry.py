"""Retry policy: short retries inside one dispatch (tenacity), long retries through ``next_attempt_at``."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from bridge.config import RetrySettings
from bridge.errors import PermanentError, RetryableError


def is_retryable(exc: BaseException) -> bool:
    """Permanent errors never retry; unknown exceptions do (a bug in a sink should not lose data)."""
    return isinstance(exc, Exception) and not isinstance(exc, PermanentError)


class _stop_when_retry_after_too_long(stop_base):
    """Stop short retries when the server asks for a pause longer than one short back-off may be."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(exc, RetryableError) and exc.retry_after is not None and exc.retry_after > self.cap


class _wait_honouring_retry_after(wait_base):
    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        computed = self.fallback(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            return max(exc.retry_after, computed)
        return computed


def short_retrying(
    settings: RetrySettings,
    sleep: Callable[[float], Awaitable[Any]],
    before_sleep: Callable[[RetryCallState], Any] | None = None,
) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_after_attempt(settings.short_attempts) | _stop_when_retry_after_too_long(settings.short_max),
        wait=_wait_honouring_retry_after(
            wait_exponential_jitter(multiplier=settings.short_initial, max=settings.short_max, jitter=settings.short_initial)
        ),
        retry=retry_if_exception(is_retryable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


def long_backoff(settings: RetrySettings, attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds until the next dispatch of an op that has now failed ``attempts`` times."""
    base: float = min(settings.long_max, settings.long_initial * (2 ** max(0, attempts - 1)))
    delay = base * rng.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)
