"""SMILE's read-back: the 受注明細 / 売上明細 exports bind CS-Cart order ids to SMILE's 伝票№ and 処理連番, and
exported orders SMILE has not confirmed in time become alerts.

The bridge writes the CS-Cart order id into オーダー№; SMILE carries it through to both exports. A row whose
オーダー№ is not a mirrored order (hand-typed slips, other channels) is ignored.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from bridge import metrics
from bridge.domain.time import JST, iso
from bridge.smile.reader import read_file
from bridge.smile.records import SalesSlipLine
from bridge.smile.settings import SmileDirs, SmileSettings
from bridge.store import bindings, exports, order_flags
from bridge.store import orders as mirror
from bridge.store.db import Connection, Store

log = structlog.get_logger("bridge.sync.orders")

READBACK_TYPES = ("order_lines", "sales_lines")


@dataclass(slots=True)
class ReadbackResult:
    files: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # (file, layout, reason) for the events


async def apply(tx: Connection, records: Iterable[SalesSlipLine]) -> list[int]:
    """Bind each mirrored order found in the records; returns the order ids confirmed now."""
    seen: dict[int, SalesSlipLine] = {}
    for record in records:
        ref = (record.order_ref or "").strip()
        if ref.isdigit():
            seen.setdefault(int(ref), record)
    confirmed = []
    for order_id, record in sorted(seen.items()):
        current = await mirror.get(tx, order_id)
        if current is None:
            continue
        if current.smile_slip_no == record.slip_no and current.smile_serial == record.serial:
            continue
        await mirror.confirm(tx, order_id, record.slip_no, record.serial)
        if await bindings.lookup(tx, "cscart", "order", str(order_id), "smile", "slip") is None:
            await bindings.bind(tx, "cscart", "order", str(order_id), "smile", "slip", record.slip_no)
        await order_flags.resolve(tx, order_id, "unconfirmed", iso(datetime.now(JST)))
        confirmed.append(order_id)
    return confirmed


def _complete(path: Path, smile: SmileSettings, now: float) -> bool:
    if smile.completion in ("sentinel", "either") and path.with_name(path.name + smile.sentinel_suffix).exists():
        return True
    if smile.completion == "sentinel":
        return False
    return now - path.stat().st_mtime >= smile.stable_seconds


async def read_inbox(store: Store, smile: SmileSettings, dirs: SmileDirs) -> ReadbackResult:
    """Apply every complete read-back file in the inbox, then move it to archive/YYYYMMDD (or error/ with a
    NAME.error.txt naming each problem: nothing of a refused file is applied)."""
    result = ReadbackResult()
    if not dirs.inbox.is_dir():
        return result
    now = time.time()
    for file_type in READBACK_TYPES:
        layout = smile.files.get(file_type)
        if layout is None:
            continue
        for path in sorted(dirs.inbox.glob(layout.glob)):
            if not path.is_file() or not _complete(path, smile, now):
                continue
            read = read_file(path, file_type, smile)
            sentinel = path.with_name(path.name + smile.sentinel_suffix)
            if not read.ok:
                dirs.error.mkdir(parents=True, exist_ok=True)
                (dirs.error / f"{path.name}.error.txt").write_text(read.report() + "\n", encoding="utf-8")
                shutil.move(str(path), dirs.error / path.name)
                sentinel.unlink(missing_ok=True)
                result.refused.append(path.name)
                log.error("orders.readback_refused", file=path.name, problems=read.problem_count)
                metrics.SMILE_FILES_QUARANTINED.labels(layout=file_type).inc()
                metrics.SMILE_FILES.labels(layout=file_type, outcome="rejected").inc()
                result.quarantined.append((path.name, file_type, f"{read.problem_count} problem(s), see "
                                           f"{dirs.error / path.name}.error.txt"))
                continue
            async with store.transaction() as tx:
                result.confirmed.extend(await apply(tx, read.records))
            day = dirs.archive / datetime.now(JST).strftime("%Y%m%d")
            day.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), day / path.name)
            sentinel.unlink(missing_ok=True)
            result.files.append(path.name)
            metrics.SMILE_FILES_PROCESSED.labels(layout=file_type).inc()
            metrics.SMILE_FILES.labels(layout=file_type, outcome="applied").inc()
    return result


async def unconfirmed(tx: Connection, now: datetime, within: timedelta) -> list[int]:
    """Exported orders without a SMILE confirmation after ``within``."""
    cutoff = iso(now - within)
    return await exports.unconfirmed(tx, cutoff)
