"""The CLI's side: take the state, or find the daemon that holds it and ask it to run a job (the standard library
only: a CLI that delegates never imports aiohttp, the rules or the job).

Who holds the state is the state lock's answer (``flock`` on ``<state>.lock``, bridge.statelock), not the control
file's: the command tries to take the lock; when a daemon holds it, its control file (same pid) says where to ask. A
held lock with no control file yet is a daemon still starting (or a restore): the command waits for the
announcement, then gives up with a message, and never runs the job beside it.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.control import ROUTE, ControlFile, control_path, read
from bridge.errors import BridgeError
from bridge.i18n import _
from bridge.statelock import SYNC, StateLock

ANNOUNCE_WAIT = 60.0  # seconds a starting daemon has to write its control file
CONNECT_TIMEOUT = 10.0  # the run itself may take long: no timeout once connected


class DaemonRunFailed(BridgeError):
    """The daemon could not be asked, or ran the job and the run failed (its log has the details)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DaemonStopping(BridgeError):
    """The daemon is stopping and did not start the run: look again (it lets go of the state as it exits)."""

    def __init__(self, pid: int) -> None:
        super().__init__(f"the daemon (pid {pid}) is stopping")
        self.pid = pid


@dataclass(frozen=True, slots=True)
class RemoteRun:
    pid: int
    summary: str  # "read …, changed …", in the daemon's language like the notes
    refused_files: int
    plan: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    delivery: dict[str, int] | None = None  # done, retried, dead, queued; None for a dry run


def hold_or_find(state_path: Path, *, waiting: Callable[[str, str], None] = lambda why, pid: None,
                 announce_wait: float = ANNOUNCE_WAIT) -> StateLock | ControlFile:
    """The state for this process (a held ``StateLock``, role sync: no daemon holds it, and one that starts now
    waits for it), or the daemon that holds it (its control file). Another `bridge sync` holding it is waited for;
    a holder that does not announce itself within ``announce_wait`` seconds (a daemon starting, a restore) is an
    error. ``waiting(why, pid)`` is told once per reason: "sync" or "starting"."""
    lock = StateLock(state_path)
    deadline: float | None = None
    told: set[str] = set()
    while (holder := lock.try_acquire(SYNC)) is not None:
        if holder.role == SYNC:
            why = "sync"
        else:
            control = _readable(state_path)
            if control is not None and str(control.pid) == holder.pid:
                return control
            deadline = deadline if deadline is not None else time.monotonic() + announce_wait
            if time.monotonic() >= deadline:
                raise DaemonRunFailed(_(
                    "{path} is held by process {pid}, which does not take jobs (a daemon still starting, a restore, "
                    "or an older bridge): try again once it has started, or stop it first").format(
                        path=state_path, pid=holder.pid))
            why = "starting"
        if why not in told:
            waiting(why, holder.pid)
            told.add(why)
        time.sleep(0.2)
    return lock


def run_in_daemon(control: ControlFile, job: str, *, dry_run: bool, force: bool, full: bool) -> RemoteRun | None:
    """The daemon's run of ``job``, waited for; None when the daemon does not run that job (disabled or unconfigured
    there, or no such job): the caller then handles it itself."""
    where = urllib.parse.urlsplit(control.url)
    connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=CONNECT_TIMEOUT)
    try:
        connection.connect()  # no proxy, no redirect: the token goes to this daemon only
    except OSError as exc:
        raise DaemonRunFailed(_("the daemon (pid {pid}) holds the state but does not answer at {url} ({error}): "
                                "see `systemctl status cscart-smile-bridge`").format(
                                    pid=control.pid, url=control.url, error=exc)) from None
    try:
        if connection.sock is not None:
            connection.sock.settimeout(None)
        connection.request("POST", ROUTE.format(job=urllib.parse.quote(job, safe="")),
                           body=json.dumps({"dry_run": dry_run, "force": force, "full": full}),
                           headers={"Authorization": f"Bearer {control.token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        status, body = response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise DaemonRunFailed(_("the daemon (pid {pid}) stopped answering during the run of {job} ({error}): "
                                "`bridge status` shows whether the run finished").format(
                                    pid=control.pid, job=job, error=str(exc) or type(exc).__name__)) from None
    finally:
        connection.close()
    answer = _json(body)
    if status == 404 and "jobs" in answer:  # the route's own answer (not the server's: a different bridge)
        return None
    if status == 503 and answer.get("ran") is False:
        raise DaemonStopping(control.pid)
    if status != 200:
        detail = str(answer.get("error") or f"HTTP {status}")
        if status == 401:
            raise DaemonRunFailed(_("the daemon (pid {pid}) refused the token in its control file: {detail}; "
                                    "restart it (systemctl restart cscart-smile-bridge)").format(
                                        pid=control.pid, detail=detail))
        if status == 503:
            raise DaemonRunFailed(_("the daemon (pid {pid}) is stopping and did not run {job} to the end: run the "
                                    "command again once it has stopped or restarted").format(
                                        pid=control.pid, job=job))
        raise DaemonRunFailed(_("the daemon (pid {pid}) ran {job} and it failed: {detail} (its log has the "
                                "details)").format(pid=control.pid, job=job, detail=detail),
                              exit_code=int(answer.get("exit_code") or 1))
    try:
        return RemoteRun(pid=control.pid, summary=str(answer["summary"]), refused_files=int(answer["refused_files"]),
                         plan=list(answer["plan"]), notes=list(answer["notes"]), delivery=answer.get("delivery"))
    except (KeyError, TypeError, ValueError):
        raise DaemonRunFailed(_("the daemon (pid {pid}) gave an answer this command does not understand (a "
                                "different version of the bridge?): restart it").format(pid=control.pid)) from None


def _readable(state_path: Path) -> ControlFile | None:
    try:
        return read(state_path)
    except PermissionError:
        raise DaemonRunFailed(_("{path}: cannot read the daemon's control file; run the command as the user the "
                                "daemon runs as").format(path=control_path(state_path))) from None


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
