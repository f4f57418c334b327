"""Fault injection: latency, error rates per endpoint, 500s, connection resets (before or after the write) and slow
bodies.

Set in-process (``sim.faults.rules.append(FaultRule(...))``) or over HTTP (``POST /_sim/faults`` with the same
fields as JSON). Draws come from a seeded RNG so a failing run can be repeated.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# error: an HTTP status (500, 429 …) instead of the answer; reset: the connection drops before the request is handled;
# reset_after: the request is handled (a write is applied), then the connection drops before the answer; slow_body:
# the answer trickles (past the client's timeout: a timeout after the write).
FaultKind = Literal["error", "reset", "reset_after", "slow_body"]


@dataclass
class FaultRule:
    """Applies to requests whose entity (``products``, ``orders`` …, ``*`` for all) and method match."""

    kind: FaultKind = "error"
    entity: str = "*"
    method: str = "*"
    rate: float = 1.0  # probability per matching request
    status: int = 500  # for kind "error"
    times: int | None = None  # stop after this many hits; None = forever
    slow_body_ms: float = 0.0  # for kind "slow_body": pause between body chunks

    def matches(self, entity: str, method: str) -> bool:
        return self.entity in ("*", entity) and self.method in ("*", method) and self.times != 0


@dataclass
class FaultConfig:
    latency_ms: float = 0.0  # added to every API request
    latency_jitter_ms: float = 0.0  # plus a uniform draw in [0, jitter)
    write_latency_ms: float = 0.0  # extra on PUT/POST/DELETE (≈ 85 ms on a real store)
    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def delay_seconds(self, method: str) -> float:
        delay = self.latency_ms + (self._rng.random() * self.latency_jitter_ms if self.latency_jitter_ms else 0.0)
        if method in ("PUT", "POST", "DELETE"):
            delay += self.write_latency_ms
        return delay / 1000.0

    def draw(self, entity: str, method: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(entity, method) and (rule.rate >= 1.0 or self._rng.random() < rule.rate):
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None

    def update(self, data: dict[str, Any]) -> None:
        """Replace the settings with ``data`` (the ``POST /_sim/faults`` body); unknown keys are refused."""
        allowed = {"latency_ms", "latency_jitter_ms", "write_latency_ms", "rules", "seed"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))} (allowed: {sorted(allowed)})")
        self.latency_ms = float(data.get("latency_ms", 0.0))
        self.latency_jitter_ms = float(data.get("latency_jitter_ms", 0.0))
        self.write_latency_ms = float(data.get("write_latency_ms", 0.0))
        self.rules = [FaultRule(**rule) for rule in data.get("rules", [])]
        if "seed" in data:
            self.seed = int(data["seed"])
            self._rng.seed(self.seed)

    def as_dict(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "latency_jitter_ms": self.latency_jitter_ms,
                "write_latency_ms": self.write_latency_ms, "seed": self.seed,
                "rules": [asdict(rule) for rule in self.rules]}
