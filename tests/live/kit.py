"""What the live job tests share: settings from the shipped ``ops/config.example.yaml`` and ``rules/`` pointed at
the live store, SMILE files delivered into the inbox as SMILE writes them, a job run as ``bridge sync JOB`` runs it,
and customers with a storefront password (CS-Cart 4.20.1 hashes a REST password only as ``password1``/``password2``;
a plain ``password`` key is stored unhashed and can never log in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bridge.config import Settings, load_settings
from bridge.smile.generator import FILE_NAMES, layouts_for
from bridge.smile.writer import write_records
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "ops" / "config.example.yaml"
PASSWORD = "Live-Pass-2026"


def live_settings(store: LiveStore, tmp_path: Path, category_id: int, **overrides: Any) -> Settings:
    """``ops/config.example.yaml`` as shipped, with the folders, the store and the loopback port of this test."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data", "rules_dir": ROOT / "rules", "http": {"port": 0},
        "log": {"level": "WARNING", "format": "json"}, "dispatch": {"idle_poll": 0.05},
        "cscart": {"url": store.url, "email": store.email, "api_key": SecretStr(store.api_key),
                   "company_id": store.company_id, "timeout": 120},
        "catalog": {"new_product_category_ids": [category_id]},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return load_settings(EXAMPLE_CONFIG, **values)


def deliver(settings: Settings, file_type: str, records: list, number: int) -> Path:
    """One complete SMILE export in the inbox (the file, then its ``.done`` sentinel)."""
    dirs = settings.smile.dirs(settings.data_dir)
    dirs.create()
    stem, _, suffix = FILE_NAMES[file_type].partition(".")
    target = dirs.inbox / f"{stem}_{number:03d}.{suffix}"
    write_records(target, file_type, records, layout=layouts_for(settings.smile, None)[file_type])
    target.with_name(target.name + ".done").touch()
    return target


async def run(settings: Settings, job: str) -> Any:
    """One run of ``job`` with its deliveries, as ``bridge sync JOB`` does it."""
    from bridge.cli.sync_cmd import _run

    return await _run(settings, job, False, False)


def ok(result: Any) -> None:
    assert result.failed == 0, result.notes


async def first_category(live: LiveBackend) -> int:
    _, categories = await live.raw("GET", "categories", params={"items_per_page": 1})
    return int(categories["categories"][0]["category_id"])


async def create_customer(live: LiveBackend, email: str, *, lastname: str = "ライブ") -> int:
    """A storefront customer with a Japanese address and the password ``PASSWORD``; deleted with the backend."""
    address = {"country": "JP", "state": "13", "city": "千代田区", "address": "丸の内1-1-1", "zipcode": "1000005",
               "phone": "0312345678"}
    body: dict[str, Any] = {"email": email, "user_type": "C", "company_id": live.company_id, "status": "A",
                            "firstname": "試験", "lastname": lastname, "phone": address["phone"],
                            "password1": PASSWORD, "password2": PASSWORD}
    for prefix in ("b_", "s_"):
        body.update({prefix + key: value for key, value in address.items()})
    status, created = await live.raw("POST", "users", json_body=body)
    assert status == 201, created
    user_id = int(created["user_id"])
    live._created.append(("users", user_id))
    # the profile's addresses: a POST leaves the shipping address of the new profile empty on 4.20.1
    profile = {key: value for key, value in body.items() if key[:2] in ("b_", "s_")}
    status, updated = await live.raw("PUT", f"users/{user_id}", json_body={"company_id": live.company_id, **profile})
    assert status == 200, updated
    return user_id
