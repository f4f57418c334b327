"""Settings: one YAML file plus ``BRIDGE_…`` environment overrides; secrets from the environment or systemd credentials.

Precedence, highest first: explicit arguments, environment (``BRIDGE_JOBS__STOCK__INTERVAL=300``), the systemd
credentials directory (``$CREDENTIALS_DIRECTORY/cscart_api_key``), the YAML file, defaults.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bridge.cscart.settings import CSCartSettings
from bridge.errors import ConfigError
from bridge.i18n import _
from bridge.i18n.times import DEFAULT_ZONE
from bridge.i18n.validation import describe, unknown_key
from bridge.smile.settings import SmileSettings

ENV_PREFIX = "BRIDGE_"
CONFIG_ENV = "BRIDGE_CONFIG"
# Secrets that may come from $CREDENTIALS_DIRECTORY (systemd LoadCredential=NAME:PATH); file name → settings path.
CREDENTIAL_FILES: dict[str, tuple[str, ...]] = {
    "cscart_api_key": ("cscart", "api_key"),
    "cscart_hmac_secret": ("cscart", "hmac_secret"),
    "mqtt_password": ("mqtt", "password"),
    "smtp_password": ("mail", "password"),
}

_config_path: ContextVar[Path | None] = ContextVar("bridge_config_path", default=None)
_parsed: ContextVar[tuple[str, Any] | None] = ContextVar("bridge_config_parsed", default=None)  # (text, data)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobSettings(_Section):
    enabled: bool = True
    interval: float = Field(..., gt=0, description="Seconds between the end of one run and the start of the next")
    jitter: float = Field(0.05, ge=0, le=0.5, description="Random extra delay, as a share of the interval")
    stuck_after: float | None = Field(
        None, gt=0, description="A run longer than this stops the systemd watchdog; default 2 × interval, ≥ 15 min"
    )

    def stuck_seconds(self) -> float:
        return self.stuck_after or max(2 * self.interval, 900.0)


def _job(interval: float) -> Any:
    return Field(default_factory=lambda: JobSettings(interval=interval))


class JobsSettings(_Section):
    stock: JobSettings = _job(600)
    prices: JobSettings = _job(3600)
    customers: JobSettings = _job(86400)
    products: JobSettings = _job(86400)
    orders: JobSettings = _job(60)
    drift: JobSettings = _job(86400)  # CS-Cart amounts changed by hand (bridge/sync/catalog/drift.py)
    customer_prices: JobSettings = _job(3600)  # 得意先別単価 → the add-on (bridge/sync/catalog/customer_prices.py)
    shipping: JobSettings = _job(60)  # label files, result files, shipping mails (bridge/sync/shipping/job.py)
    campaigns: JobSettings = _job(300)  # campaigns.yaml → CS-Cart promotions (bridge/sync/campaigns/job.py)
    reports: JobSettings = _job(300)  # report packs due, low-stock mails (bridge/sync/reports/job.py)

    def items(self) -> list[tuple[str, JobSettings]]:
        return [(name, getattr(self, name)) for name in type(self).model_fields]


class RetrySettings(_Section):
    short_attempts: int = Field(3, ge=1, description="Tries inside one dispatch before falling back to long retries")
    short_initial: float = Field(0.5, ge=0, description="First short back-off, seconds")
    short_max: float = Field(10.0, ge=0, description="Cap of one short back-off, seconds")
    long_initial: float = Field(30.0, ge=0, description="First long back-off (next_attempt_at), seconds")
    long_max: float = Field(3600.0, ge=0, description="Cap of one long back-off, seconds")
    max_attempts: int = Field(8, ge=1, description="Dispatches before an op becomes a dead letter")


class DispatchSettings(_Section):
    batch_size: int = Field(
        500, ge=1, le=5000,
        description="Ops claimed per round trip to the store; 500 fills one call of the add-on's batch API",
    )
    concurrency: int = Field(8, ge=1, le=256, description="Deliveries in flight at once, over all sinks")
    lease_seconds: float = Field(300.0, gt=0, description="An in_flight op whose lease expired returns to pending")
    idle_poll: float = Field(1.0, gt=0, description="Seconds between looks at an empty outbox")
    drain_timeout: float = Field(20.0, ge=0, description="On SIGTERM, seconds to let in-flight deliveries finish")
    retry: RetrySettings = Field(default_factory=RetrySettings)


class HttpSettings(_Section):
    host: str = Field("127.0.0.1", description="Bind address of /metrics, /healthz, /readyz and /hooks/cscart")
    port: int = Field(9380, ge=0, le=65535, description="0 picks a free port")


class UiSettings(_Section):
    """What people read: the language of messages and the time zone of times shown to them (bridge/i18n)."""

    language: Literal["auto", "ja", "en"] = Field(
        "auto", description="auto = from LC_ALL/LC_MESSAGES/LANG (ja_JP… → Japanese); ja or en forces it")
    timezone: str = Field(DEFAULT_ZONE, description="Shop time zone for times shown to people (IANA name)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(_("unknown time zone {value!r}; use an IANA name such as Asia/Tokyo").format(
                value=value)) from None
        return value


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "journal", "json", "console"] = Field(
        "auto", description="auto = journal under systemd, console on a TTY, JSON otherwise")


class MqttSettings(_Section):
    host: str | None = Field(None, description="Broker host; MQTT is off when empty")
    port: int = 1883
    username: str | None = None
    password: SecretStr | None = None
    client_id: str = "cscart-smile-bridge"
    topic_prefix: str = "bridge"
    keepalive: int = Field(30, ge=5)
    queue_size: int = Field(1000, ge=1, description="Events kept while the broker is away; the oldest go first")
    reconnect_initial: float = Field(1.0, gt=0, description="First wait before reconnecting, seconds (doubles)")
    reconnect_max: float = Field(60.0, gt=0, description="Longest wait between reconnect attempts, seconds")
    publish_timeout: float = Field(10.0, gt=0, description="Seconds to wait for the broker's PUBACK")


class MailSettings(_Section):
    """Staff notifications by e-mail (campaign starts, ends and usage caps); off while smtp_host or staff is empty."""

    smtp_host: str | None = Field(None, description="SMTP server; staff mail is off when empty")
    smtp_port: int = Field(25, ge=1, le=65535)
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS before logging in")
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field("cscart-smile-bridge@localhost", description="From: address")
    staff: tuple[str, ...] = Field((), description="Recipients of staff notifications")
    timeout: float = Field(10.0, gt=0, description="Seconds to wait for the SMTP server")


class CatalogSettings(_Section):
    """The products and customers jobs. Product field ownership is a rule (rules/products.yaml), not a setting."""

    new_product_category_ids: tuple[int, ...] = Field(
        (), description="Categories a created product starts in (CS-Cart needs one; the shop moves it later)"
    )
    user_fields: tuple[str, ...] = Field(
        ("company", "phone", "status"),
        description="CS-Cart user fields SMILE owns; password and the customer's own addresses are never sent",
    )
    create_customers: bool = Field(False, description="Create CS-Cart customers for 得意先 with an unknown e-mail")


class OrdersSettings(_Section):
    """The orders job (bridge/sync/orders/job.py); the business rules are in rules/order_flow.yaml and pricing.yaml."""

    overlap_seconds: float = Field(120.0, ge=0, description="Polling window starts this long before the last sync start")
    page_size: int = Field(250, ge=1, le=1000, description="items_per_page sent on every order listing")
    initial_lookback_hours: float = Field(24.0, gt=0, description="First poll (no cursor yet) reaches back this far")
    confirm_within_hours: float = Field(
        24.0, gt=0, description="Exported orders SMILE has not confirmed after this long raise an alert")
    max_orders_per_file: int = Field(20_000, ge=1, description="Orders per 受注 file; more go to the next cycle")
    unbound_product_wait_seconds: float = Field(
        1800.0, ge=0, description="An order whose product the catalog has not bound yet waits in 受注 this long "
        "(while no stock/products run has succeeded since it was placed) before it is held as unknown")
    delivery_fields: Literal["smile_bridge", "cscart_jp"] = Field(
        "smile_bridge", description="Where the requested delivery date and time slot come from: the add-on's "
        "checkout fields, or CS-Cart.jp's own (jp_order_delivery_info) on a store that has them")


class AnalyticsSettings(_Section):
    enabled: bool = Field(True, description="Jobs feed the analytics store as they run (bridge/analytics)")
    path: Path | None = Field(None, description="DuckDB file; default DATA_DIR/analytics.duckdb")
    reports_dir: Path | None = Field(None, description="Where report packs are written; default DATA_DIR/reports")
    memory_limit: str = Field("1GB", description="DuckDB memory limit for reports and feeding (a whole 在庫 file "
                                                 "is folded in within 128 MB at most)")
    threads: int = Field(2, ge=1, le=64, description="DuckDB threads")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(Path("/var/lib/cscart-smile-bridge"), description="State and working files")
    state_file: Path | None = Field(None, description="sqlite state; default DATA_DIR/state.sqlite3")
    rules_dir: Path = Field(Path("rules"), description="Folder with the ops-editable rules/*.yaml")
    ui: UiSettings = Field(default_factory=UiSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    cscart: CSCartSettings = Field(default_factory=CSCartSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    smile: SmileSettings = Field(default_factory=SmileSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    orders: OrdersSettings = Field(default_factory=OrdersSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        source = _config_path.get()

        def base(name: str) -> Path:
            # A relative path means: next to the config file when written there, the working folder when it came
            # from the environment (as a shell user expects of BRIDGE_DATA_DIR=./data).
            from_env = f"{ENV_PREFIX}{name}".upper() in {key.upper() for key in os.environ}
            return source.parent if source and not from_env else Path.cwd()

        if not self.data_dir.is_absolute():
            self.data_dir = (base("data_dir") / self.data_dir).resolve()
        if self.state_file is None:
            self.state_file = self.data_dir / "state.sqlite3"
        elif not self.state_file.is_absolute():
            self.state_file = (base("state_file") / self.state_file).resolve()
        if not self.rules_dir.is_absolute():
            self.rules_dir = (base("rules_dir") / self.rules_dir).resolve()
        if self.analytics.path is None:
            self.analytics.path = self.data_dir / "analytics.duckdb"
        elif not self.analytics.path.is_absolute():
            self.analytics.path = (base("analytics") / self.analytics.path).resolve()
        if self.analytics.reports_dir is None:
            self.analytics.reports_dir = self.data_dir / "reports"
        elif not self.analytics.reports_dir.is_absolute():
            self.analytics.reports_dir = (base("analytics") / self.analytics.reports_dir).resolve()
        return self

    @property
    def state_path(self) -> Path:
        assert self.state_file is not None
        return self.state_file

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, CredentialsSource(settings_cls)]
        path = _config_path.get()
        if path is not None:
            sources.append(YamlFileSource(settings_cls, path))
        return tuple(sources)


class YamlFileSource(PydanticBaseSettingsSource):
    """The settings file, read with ruamel.yaml (YAML 1.2): the one YAML library of the config, also used for the
    syntax check and the line numbers of error messages."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        from ruamel.yaml import YAML

        data = _read_yaml(self.path)
        return dict(data) if isinstance(data, dict) else {}


def dump_yaml(data: Any) -> str:
    """Plain data as YAML (``bridge config check --full``), with the same library."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")  # keeps the order of the keys (the safe dumper sorts them)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


class CredentialsSource(PydanticBaseSettingsSource):
    """Reads secrets from files in ``$CREDENTIALS_DIRECTORY``, as systemd's ``LoadCredential=`` provides them."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            return {}
        values: dict[str, Any] = {}
        for filename, path in CREDENTIAL_FILES.items():
            file = Path(directory) / filename
            if file.is_file():
                section = values.setdefault(path[0], {})
                section[path[1]] = file.read_text(encoding="utf-8").strip()
        return values


def resolve_config_path(path: str | Path | None) -> Path | None:
    chosen = path or os.environ.get(CONFIG_ENV)
    return Path(chosen).resolve() if chosen else None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate settings; every problem is reported as one ``ConfigError`` naming key, file and line."""
    config_path = resolve_config_path(path)
    if config_path is not None and not config_path.is_file():
        raise ConfigError(_("{path}: config file not found (given by --config or {variable}); check the path, or "
                            "copy ops/config.example.yaml there").format(path=config_path, variable=CONFIG_ENV))
    token = _config_path.set(config_path)
    try:
        if config_path is not None:
            _check_yaml_syntax(config_path)
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_path)) from None
    finally:
        _config_path.reset(token)


def _read_yaml(path: Path) -> Any:
    """The settings file's data, YAML 1.2 (the pure loader: the C one follows YAML 1.1, where `no` is false);
    parsed once per load (the syntax check and the settings source both ask)."""
    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")
    cached = _parsed.get()
    if cached is not None and cached[0] == text:
        return cached[1]
    data = YAML(typ="safe", pure=True).load(text)
    _parsed.set((text, data))
    return data


def _check_yaml_syntax(path: Path) -> None:
    from ruamel.yaml.error import YAMLError

    try:
        data = _read_yaml(path)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        raise ConfigError(_("{where}: not valid YAML: {problem}; check the indentation (spaces, not tabs) and "
                            "the quotes on that line").format(where=where, problem=problem)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(_("{path}: not UTF-8 ({reason} at byte {offset}); save the file as UTF-8").format(
            path=path, reason=exc.reason, offset=exc.start)) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(_("{path}: the top level must be a mapping of settings (key: value), got {kind}").format(
            path=path, kind=type(data).__name__))


def _describe(exc: ValidationError, path: Path | None) -> str:
    """Every problem as ``where: key: sentence``; where is ``file:line``, an environment variable or the defaults."""
    errors = exc.errors()
    lines: list[str] = [_("{count} problem(s) in the settings:").format(count=len(errors))]
    yaml_lines = _yaml_key_lines(path) if path else {}
    source_lines = path.read_text(encoding="utf-8").splitlines() if path else []
    for error in errors:
        loc = tuple(error["loc"])
        shown = tuple(str(part) for part in loc if part != "[key]")
        key = ".".join(shown)
        env_name = ENV_PREFIX + "__".join(shown).upper()
        line = yaml_lines.get(shown)
        missing_at = next((yaml_lines[shown[:n]] for n in range(len(shown) - 1, 0, -1) if shown[:n] in yaml_lines),
                          None)
        text = None
        where: str
        if env_name in os.environ:
            where = _("environment variable {name}").format(name=env_name)
            text = os.environ[env_name]
        elif path is not None and line is not None:
            where = f"{path}:{line}"
            text = source_lines[line - 1] if 0 < line <= len(source_lines) else ""
        elif path is not None and missing_at is not None and error["type"] == "missing":
            where = f"{path}:{missing_at}"
        elif path is not None:
            where = str(path)
        else:
            where = _("defaults/environment")
        if error["type"] == "extra_forbidden":
            message = unknown_key(Settings, loc, "ops/config.example.yaml")
        else:
            message = describe(error, text, None if loc[-1] == "[key]" else key)
        lines.append(f"  {where}: {key}: {message}")
    return "\n".join(lines)


def _yaml_key_lines(path: Path) -> dict[tuple[str, ...], int]:
    """Map each key path of the YAML file (list items by index) to its 1-based line number, for error messages."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    try:
        root = YAML().load(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - syntax errors are reported elsewhere; here we only add line numbers
        return {}
    found: dict[tuple[str, ...], int] = {}

    def walk(node: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                found[(*prefix, str(key))] = node.lc.key(key)[0] + 1
                walk(value, (*prefix, str(key)))
        elif isinstance(node, CommentedSeq):
            for index, value in enumerate(node):
                found[(*prefix, str(index))] = node.lc.item(index)[0] + 1
                walk(value, (*prefix, str(index)))

    walk(root, ())
    return found


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, secrets shown as ``**********``."""
    return settings.model_dump(mode="json")
