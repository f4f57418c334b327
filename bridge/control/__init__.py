"""Runs asked of a running daemon: ``bridge sync JOB`` while ``bridge run`` holds the state file.

The daemon already keeps each job warm (rules, the code→id map, the ledger's digests, the last file's lines), so a
run it does for the CLI costs what its own cycle costs, never the start-up and imports of a new process, and never
two runs of one job at once on one state file. The daemon announces itself in ``<state file>.control`` (mode 0600:
whoever may read it may read the state itself): its pid, the URL of its HTTP server and a random token that the
route ``POST /control/jobs/{job}/run`` asks for. This module is the file; ``server`` the daemon's route, ``client``
the CLI's side (the standard library only, so the CLI need not import aiohttp). The route listens on loopback, on
a port of its own, never on the /metrics and /hooks listener (which may face the network).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

ROUTE = "/control/jobs/{job}/run"


@dataclass(frozen=True, slots=True)
class ControlFile:
    pid: int
    url: str  # the daemon's control listener (loopback)
    token: str


def control_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".control")


def announce(state_path: Path, url: str) -> ControlFile:
    """Write the control file (atomically, 0600) for this process; returns what it holds."""
    control = ControlFile(pid=os.getpid(), url=url, token=secrets.token_urlsafe(32))
    path = control_path(state_path)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # a new file, so 0600 holds (never a link someone left there)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(asdict(control), stream)
    os.replace(partial, path)
    return control


def withdraw(state_path: Path, control: ControlFile) -> None:
    """Remove the control file if it is still this process's (a second daemon refused at the lock wrote none)."""
    if read(state_path) == control:
        control_path(state_path).unlink(missing_ok=True)


def read(state_path: Path) -> ControlFile | None:
    """The control file's content; None when there is none or it is not whole (then nobody answers there).
    PermissionError is left to the caller: the file is there, for another user."""
    try:
        data = json.loads(control_path(state_path).read_text(encoding="utf-8"))
        return ControlFile(pid=int(data["pid"]), url=str(data["url"]), token=str(data["token"]))
    except PermissionError:
        raise
    except (OSError, ValueError, KeyError, TypeError):
        return None
