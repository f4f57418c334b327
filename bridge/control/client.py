"""The CLI's side: ask the daemon that holds the state file to run a job (the standard library only: a CLI that
delegates never imports aiohttp, the rules or the job)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.control import ROUTE, ControlFile, read
from bridge.errors import BridgeError
from bridge.i18n import _


class DaemonRunFailed(BridgeError):
    """The daemon ran the job and the run failed (the daemon's log has the details)."""


@dataclass(frozen=True, slots=True)
class RemoteRun:
    pid: int
    summary: str  # "read …, changed …", in the daemon's language like the notes
    refused_files: int
    plan: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # in the daemon's language (its own catalogue texts)
    delivery: dict[str, int] | None = None  # done, retried, dead, waiting; None for a dry run


def running_daemon(state_path: Path) -> ControlFile | None:
    """The daemon announced beside ``state_path`` when its process is alive; None otherwise (a file left by a
    daemon that was killed names a pid that is gone)."""
    control = read(state_path)
    if control is None:
        return None
    try:
        os.kill(control.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, under another user
    return control


def run_in_daemon(control: ControlFile, job: str, *, dry_run: bool, force: bool, full: bool) -> RemoteRun | None:
    """The daemon's run of ``job``, waited for; None when it does not answer or does not run that job (disabled or
    unconfigured there): the caller then runs the job itself, as without a daemon."""
    request = urllib.request.Request(
        control.url + ROUTE.format(job=job), method="POST",
        data=json.dumps({"dry_run": dry_run, "force": force, "full": full}).encode(),
        headers={"Authorization": f"Bearer {control.token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=None) as response:  # noqa: S310 - our own daemon's URL
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        detail = _error_of(exc)
        if exc.code == 401:
            raise DaemonRunFailed(_("the daemon (pid {pid}) refused the token in its control file: {detail}; "
                                    "restart it (systemctl restart cscart-smile-bridge)").format(
                                        pid=control.pid, detail=detail)) from None
        raise DaemonRunFailed(_("the daemon (pid {pid}) ran {job} and it failed: {detail} (its log has the "
                                "details)").format(pid=control.pid, job=job, detail=detail)) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None  # starting, stopping or not listening: nobody to ask
    return RemoteRun(pid=control.pid, summary=answer["summary"], refused_files=answer["refused_files"],
                     plan=list(answer["plan"]), notes=list(answer["notes"]), delivery=answer.get("delivery"))


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error")) or str(exc)
    except (ValueError, AttributeError, OSError):
        return str(exc)
