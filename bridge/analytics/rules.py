"""``rules/reports.yaml``: report settings (reorder policy, churn, transit days, forecasts), the low-stock alert
and the report packs (which reports, filters, period, formats, recipients, when)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.errors import ConfigError
from bridge.i18n import N_, _
from bridge.rules.common import require_unique
from bridge.rules.yamlfile import read_rules_yaml, validated

FORMATS = ("html", "xlsx", "csv", "parquet")
Format = Literal["html", "xlsx", "csv", "parquet"]


def _default_formats() -> list[Format]:
    return ["html", "xlsx"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StockOptions(_Model):
    lead_time_days: float = Field(7, gt=0, description="Days from order to arrival at the warehouse")
    service_level: float = Field(0.95, gt=0.5, lt=1, description="Share of cycles without stock-out (0.95)")
    review_days: float = Field(14, ge=0, description="Days between orders to the supplier (order-up-to)")
    lookback_days: int = Field(90, ge=14, description="Days of demand history for the reorder point")
    slow_mover_days: int = Field(90, ge=7, description="No sale for this long = slow mover")
    rows: int | None = Field(500, ge=1, description="Rows per SKU table in packs (all when empty)")


class CustomerOptions(_Model):
    churn_factor: float = Field(2.0, gt=1, description="No order for this many times the usual interval = churn risk")
    rfm_days: int = Field(365, ge=30)
    rows: int | None = Field(500, ge=1)


class DeliveryOptions(_Model):
    transit_days: int = Field(1, ge=0, description="Days a parcel travels: on time = shipped this long before 希望日")


class ForecastOptions(_Model):
    top_skus: int = Field(20, ge=1, le=5000)
    horizon_weeks: int = Field(4, ge=1, le=26)
    horizon_months: int = Field(3, ge=1, le=12)
    history_weeks: int = Field(104, ge=8, le=520)


class Settings(_Model):
    stock: StockOptions = StockOptions()
    customers: CustomerOptions = CustomerOptions()
    delivery: DeliveryOptions = DeliveryOptions()
    forecast: ForecastOptions = ForecastOptions()

    def options_for(self, kind: str) -> dict[str, Any]:
        section = {"stock": self.stock, "customers": self.customers, "delivery": self.delivery,
                   "forecast": self.forecast}.get(kind)
        return section.model_dump() if section is not None else {}


class LowStock(_Model):
    enabled: bool = True
    mail: bool = Field(True, description="Mail the staff (mail.staff in the config) when SKUs cross")


class ReportEntry(_Model):
    kind: str
    by: str = ""
    top: int | None = Field(None, ge=1)
    bottom: int | None = Field(None, ge=1)

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        from bridge.analytics.report_kinds import KINDS

        if value not in KINDS:
            raise ValueError(f"unknown report {value!r}; known: {', '.join(KINDS)}")
        return value

    @model_validator(mode="after")
    def _by(self) -> ReportEntry:
        from bridge.analytics.report_kinds import KINDS

        by = KINDS[self.kind]
        if self.by and self.by not in by:
            allowed = ", ".join(by) or "none"
            raise ValueError(f"report {self.kind}: by {self.by!r} is not one of {allowed}")
        return self


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Pack(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    name: str = Field(min_length=1)
    schedule: Literal["daily", "weekly", "monthly", "none"] = "none"
    """daily = yesterday, weekly = last Monday–Sunday, monthly = last month; none = only by hand."""
    period: Literal["day", "week", "month"] | None = None
    """For schedule none: the period a hand run covers (default: by the schedule's kind, else month)."""
    at: str = Field("07:00", description="JST time of day the pack is made, HH:MM")
    reports: list[ReportEntry] = Field(min_length=1)
    formats: list[Format] = Field(default_factory=_default_formats)
    recipients: list[str] = Field(default_factory=list)

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"at {value!r} is not a time HH:MM (e.g. 07:00)")
        return value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or " " in address:
                raise ValueError(f"recipient {address!r} is not a mail address")
        return value


class ReportRules(_Model):
    version: Literal[1] = 1
    settings: Settings = Settings()
    low_stock: LowStock = LowStock()
    packs: list[Pack] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ReportRules:
        require_unique((pack.id for pack in self.packs), "pack id")
        return self

    def pack(self, pack_id: str) -> Pack:
        for pack in self.packs:
            if pack.id == pack_id:
                return pack
        raise ConfigError(_("no pack {pack!r} in rules/reports.yaml; packs: {packs}").format(
            pack=pack_id, packs=", ".join(p.id for p in self.packs) or _("none")))


def load_report_rules(path: Path | str) -> ReportRules:
    """Read and validate ``rules/reports.yaml``; every problem names file, line and key."""
    path = Path(path)
    root = read_rules_yaml(path, N_("report rules"))
    if root is None:
        return ReportRules()
    if not isinstance(root, dict):
        raise ConfigError(_("{path}: the top level must be a mapping (settings:, low_stock:, packs:)").format(path=path))
    return validated(ReportRules, root, path, N_("report rules"), "rules/reports.yaml")


def load_or_default(rules_dir: Path) -> ReportRules:
    path = Path(rules_dir) / "reports.yaml"
    return load_report_rules(path) if path.is_file() else ReportRules()


def rules_in_force(services: Any, rules_dir: Path) -> ReportRules:
    """The reports rules the job's rules source holds (reloaded on change by the daemon), else the file in
    ``rules_dir``, else the defaults."""
    current = getattr(getattr(services, "rules", None), "current", None)
    found = getattr(current, "extras", {}).get("reports.yaml") if current is not None else None
    if isinstance(found, ReportRules):
        return found
    return load_or_default(rules_dir)


def campaigns_in_force(services: Any, rules_dir: Path) -> Any:
    """rules/campaigns.yaml in force (``services.campaigns``), else read from ``rules_dir``; None when invalid."""
    if services is not None and getattr(services, "rules", None) is not None:
        return services.campaigns
    from bridge.rules import load_rules

    try:
        return load_rules(rules_dir).campaigns
    except ConfigError:
        return None
