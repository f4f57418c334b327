"""Settings of the CS-Cart edge (``cscart:`` in the config file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


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
