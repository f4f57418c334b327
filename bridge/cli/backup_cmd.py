"""``bridge backup PATH`` and ``bridge restore PATH``: a consistent copy of the state file, and putting one back.

Backup uses sqlite's online backup API, so it is safe while the daemon runs (it copies one consistent snapshot,
WAL contents included). Restore refuses while a daemon holds the state lock, verifies the backup first, keeps the
current state as ``<state>.bak`` and swaps the new file in with one atomic rename.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.common import CliError, ConfigOption, console, settings_or_exit
from bridge.durable import fsync_dir
from bridge.errors import BridgeError
from bridge.i18n import _
from bridge.statelock import StateLock


def backup(
    path: Annotated[str, typer.Argument(help=_(
        "Backup file to write, or a folder (existing, or ending in /) to write a time-stamped file into."))],
    force: bool = typer.Option(False, "--force", help=_("Overwrite an existing backup file.")),
    config: ConfigOption = None,
) -> None:
    settings = settings_or_exit(config)
    source = settings.state_path
    if not source.is_file():
        raise CliError(_("{file}: no state file to back up (check data_dir / state_file in the settings)").format(
            file=source))
    folder = path.endswith(("/", os.sep)) or Path(path).is_dir()
    target = Path(path) / f"state-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.sqlite3" if folder else Path(path)
    if target.exists() and not force:
        raise CliError(_("{file}: exists; choose another name or add --force").format(file=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        _copy_database(source, partial)
        version = verify_state_file(partial)
        os.replace(partial, target)
        fsync_dir(target.parent)
    except (sqlite3.Error, BridgeError) as exc:
        partial.unlink(missing_ok=True)
        raise CliError(_("backup failed: {problem}").format(problem=exc)) from None
    console.print(_("Backed up {source} to {target} ({size} bytes, schema version {version}).").format(
        source=source, target=target, size=target.stat().st_size, version=version),
        markup=False, highlight=False, soft_wrap=True)


def restore(
    path: Annotated[Path, typer.Argument(help=_("A file written by `bridge backup`."))],
    config: ConfigOption = None,
) -> None:
    settings = settings_or_exit(config)
    state = settings.state_path
    if not path.is_file():
        raise CliError(_("{file}: backup file not found").format(file=path))
    lock = StateLock(state)
    try:
        lock.acquire(_("restore over it"))
        version = verify_state_file(path)
        state.parent.mkdir(parents=True, exist_ok=True)
        incoming = state.with_name(state.name + ".restore")
        _copy_database(path, incoming)
        verify_state_file(incoming)
        kept = _keep_current(state)
        os.replace(incoming, state)
        fsync_dir(state.parent)
    except BridgeError as exc:
        raise CliError(str(exc)) from None
    except sqlite3.Error as exc:
        raise CliError(_("restore failed, the state file is unchanged: {problem}").format(problem=exc)) from None
    finally:
        lock.release()
    done = (_("Restored {state} from {path} (schema version {version}); the previous state is kept as {kept}.")
            if kept else _("Restored {state} from {path} (schema version {version})."))
    console.print(done.format(state=state, path=path, version=version, kept=kept), markup=False,
                  highlight=False, soft_wrap=True)


backup.__doc__ = _("Copy the state file consistently, even while the daemon runs (sqlite online backup).")
restore.__doc__ = _("Replace the state file with a backup; the daemon must be stopped. The old state is kept as "
                    "<state>.bak.")


def verify_state_file(path: Path) -> int:
    """Check that ``path`` is a sound bridge state file this version can open; returns its schema version."""
    known = _known_schema_version()
    try:
        conn = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise BackupInvalid(_("{file}: cannot be opened as sqlite: {problem}").format(file=path, problem=exc)) from None
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()
        if check is None or check[0] != "ok":
            raise BackupInvalid(_("{file}: integrity check failed: {answer}").format(
                file=path, answer=check[0] if check else _("no answer")))
        has_schema = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not has_schema:
            raise BackupInvalid(_("{file}: not a bridge state file (no schema_migrations table)").format(file=path))
        version = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise BackupInvalid(_("{file}: not a readable sqlite database: {problem}").format(
            file=path, problem=exc)) from None
    finally:
        conn.close()
    if version == 0:
        raise BackupInvalid(_("{file}: schema_migrations is empty; this is not a bridge state file").format(file=path))
    if version > known:
        raise BackupInvalid(_(
            "{file}: schema version {version} is newer than this bridge knows ({known}); restore it with the "
            "bridge version that wrote it").format(file=path, version=version, known=known))
    return version


class BackupInvalid(BridgeError):
    """The file is not a usable state backup."""


def _copy_database(source: Path, target: Path) -> None:
    """One consistent snapshot of ``source`` into a fresh single file (no WAL) at ``target``, flushed to disk."""
    target.unlink(missing_ok=True)
    # owner-only from the first byte: the state holds customer data
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(_read_only_uri(source), uri=True, timeout=30)
    try:
        dest = sqlite3.connect(target)
        try:
            src.backup(dest)  # pages=-1: the whole database in one step, under one read transaction
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    finally:
        src.close()
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def _keep_current(state: Path) -> Path | None:
    """Copy the current state (WAL folded in) to ``<state>.bak`` and empty its WAL, so no stale frames remain."""
    if not state.exists():
        return None
    kept = state.with_name(state.name + ".bak")
    conn = sqlite3.connect(state, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _copy_database(state, kept)
    for suffix in ("-wal", "-shm"):
        state.with_name(state.name + suffix).unlink(missing_ok=True)
    return kept


def _read_only_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def _known_schema_version() -> int:
    names = [entry.name for entry in resources.files("bridge.store.migrations").iterdir()]
    return max((int(name[:4]) for name in names if name.endswith(".sql") and name[:4].isdigit()), default=0)


