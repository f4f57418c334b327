"""Fixtures of the catalog job tests: a CS-Cart simulator, a generated SMILE folder whose 商品コード match the
simulator's product_code, and settings pointing the bridge at both (data_dir in tmp_path)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.config import Settings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.smile.generator import GeneratedSet, generate, rewrite_stock
from bridge.smile.settings import SmileDirs
from bridge.store import Store, bindings
from bridge.sync.base import JobResult

# The generator numbers products 10000000 + i (i from 0), the simulator 10000000 + id (id from 1): with one more
# simulator product every code but 10000000 exists in both, and 10000000 is "not in CS-Cart yet".
MISSING_CODE = "10000000"


def sim_product_id(code: str) -> int:
    return int(code) - 10_000_000


@dataclass
class CatalogWorld:
    root: Path
    settings: Settings
    sim: Simulator
    made: GeneratedSet
    dirs: SmileDirs
    deliveries: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)

    @property
    def master_stock(self) -> Path:
        return self.made.paths["stock"]

    def deliver_stock(self, changes: Mapping[str, int] | None = None, *, drop: int = 0) -> Path:
        """Rewrite the generated 在庫 file (new 現在庫 for ``changes``; the last ``drop`` rows left out) and drop a
        copy into the inbox with a NAME.done sentinel, as SMILE's export job would."""
        if changes:
            rewrite_stock(self.master_stock, changes)
        self.deliveries += 1
        target = self.dirs.inbox / f"stock_{self.deliveries:03d}.csv"
        self.dirs.inbox.mkdir(parents=True, exist_ok=True)
        if drop:
            lines = self.master_stock.read_bytes().split(b"\r\n")
            body = [line for line in lines if line]
            target.write_bytes(b"\r\n".join(body[: len(body) - drop]) + b"\r\n")
        else:
            shutil.copy(self.master_stock, target)
        target.with_name(target.name + ".done").touch()
        return target

    def deliver(self, file_type: str, records: list[Any] | None = None, *, encoding: str | None = None) -> Path:
        """Drop a SMILE file of ``file_type`` into the inbox with a NAME.done sentinel: the generated one, or
        ``records`` written in the same layout (``encoding`` overrides the layout's, e.g. utf-8 for 𠮷)."""
        from bridge.smile.generator import FILE_NAMES, layouts_for
        from bridge.smile.writer import write_records

        self.deliveries += 1
        stem, _, suffix = FILE_NAMES[file_type].partition(".")
        target = self.dirs.inbox / f"{stem}_{self.deliveries:03d}.{suffix}"
        self.dirs.inbox.mkdir(parents=True, exist_ok=True)
        if records is None and encoding is None:
            shutil.copy(self.made.paths[file_type], target)
        else:
            chosen = records if records is not None else getattr(self.made, file_type)
            write_records(target, file_type, chosen, layout=layouts_for(self.settings.smile, encoding)[file_type])
        target.with_name(target.name + ".done").touch()
        return target

    async def run(self, job: str, *, dry_run: bool = False, force: bool = False) -> JobResult:
        """``bridge sync JOB`` in this process: the job, then a drain of the outbox."""
        from bridge.cli.sync_cmd import _run

        return await _run(self.settings, job, dry_run, force)

    def product_writes(self) -> list[tuple[int, dict[str, Any]]]:
        """(product_id, body) of every product PUT the simulator answered, oldest first."""
        return [(int(r.path.rstrip("/").rsplit("/", 1)[1]), r.json() or {})
                for r in self.sim.requests.where(method="PUT", entity="products")]

    def stock_writes(self) -> dict[int, int]:
        writes: dict[int, int] = {}
        for product_id, body in self.product_writes():
            if "amount" in body:
                assert product_id not in writes, f"product {product_id} was written twice"
                writes[product_id] = int(body["amount"])
        return writes

    def cscart_amount(self, code: str) -> int:
        return self.sim.state.products[sim_product_id(code)].amount

    async def bound(self, entity: str) -> dict[str, str]:
        """CS-Cart id → SMILE code of the ``product`` or ``user`` bindings the catalog jobs made."""
        store = await Store.open(self.settings.state_path)
        try:
            async with store.transaction() as tx:
                return await bindings.all_of(tx, "cscart", entity, "smile", "customer" if entity == "user" else entity)
        finally:
            await store.close()


def world_settings(root: Path, sim: Simulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": root / "data",
        "cscart": sim.client_settings(),
        "http": {"port": 0},
        "log": {"level": "WARNING", "format": "json"},
        "dispatch": {"idle_poll": 0.05},
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[CatalogWorld]:
    made = generate(tmp_path / "smile_export", products=80, customers=5, seed=3)
    async with run_simulator(products=80 + 1, users=3, orders=0, seed=3) as sim:
        settings = world_settings(tmp_path, sim)
        dirs = settings.smile.dirs(settings.data_dir)
        dirs.create()
        yield CatalogWorld(tmp_path, settings, sim, made, dirs)
