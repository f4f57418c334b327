"""Settings of the CS-Cart edge (``cscart:`` in the config file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bridge.i18n import _


class CSCartSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="Store root, e.g. https://shop.example.jp (the client adds /api/2.1)")
    email: str | None = Field(None, description="Admin e-mail used for HTTP Basic")
    api_key: SecretStr | None = Field(None, description="API key of that admin; from the environment or credentials")
    hmac_secret: SecretStr | None = Field(None, description="Shared secret of the add-on's wake-up push")
    company_id: int = Field(1, description="Storefront company_id, always sent on user writes (Ultimate)")
    timeout: float = Field(30.0, gt=0, description="Seconds per request")
    concurrency: int = Field(4, ge=1, le=32, description="Parallel requests; CS-Cart tables are MyISAM")
    items_per_page: int = Field(250, ge=1, description="Page size sent on every listing")
    text_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TEXT_MAP),
        description="Replacements for characters outside the BMP, which CS-Cart stores as '?' (e.g. 𠮷: 吉)",
    )
    text_fallback: str | None = Field(
        None,
        description="Replacement for non-BMP characters missing from text_map; empty = refuse the write instead",
    )
    languages: list[str] = Field(
        default_factory=list,
        description="Languages whose product texts (name, search words) the bridge writes; empty = every language "
                    "the store has (GET /languages). A write without lang_code reaches only the default language.",
    )
    status_cache_seconds: float = Field(300.0, ge=0, description="How long GET /statuses is trusted")
    addon: bool = Field(
        False, description="The smile_bridge add-on is installed: write its user columns (code, 掛率, credit limit)"
    )

    @field_validator("text_map")
    @classmethod
    def _map_keys_are_single_non_bmp(cls, value: dict[str, str]) -> dict[str, str]:
        for key, replacement in value.items():
            if len(key) != 1 or ord(key) <= 0xFFFF:
                raise ValueError(_("text_map key {key!r} must be one character outside the BMP (above U+FFFF)").format(
                                     key=key))
            if any(ord(ch) > 0xFFFF for ch in replacement):
                raise ValueError(_("text_map replacement {replacement!r} for {key!r} is itself outside the BMP").format(
                                     replacement=replacement, key=key))
        return value

    @field_validator("text_fallback")
    @classmethod
    def _fallback_is_bmp(cls, value: str | None) -> str | None:
        if value and any(ord(ch) > 0xFFFF for ch in value):
            raise ValueError(_("text_fallback {value!r} must use BMP characters only").format(value=value))
        return value or None


# Common 4-byte variants in Japanese names and their everyday BMP forms (CS-Cart's utf8 tables cannot hold them).
DEFAULT_TEXT_MAP: dict[str, str] = {
    "\U00020BB7": "吉",  # 𠮷 (tsuchi-yoshi)
    "\U00020B9F": "叱",  # 𠮟
}
