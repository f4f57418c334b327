"""``bridge sync JOB``: run one job once, in this process, then deliver what it enqueued."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bridge.cli.common import CliError, ConfigOption, console, console_err, run_async, settings_or_exit
from bridge import i18n
from bridge.i18n import _
from bridge.statelock import StateLock

if TYPE_CHECKING:
    from bridge.config import Settings
    from rich.progress import Progress, TaskID  # the bar is drawn on a terminal only: loaded there


class RichProgress:
    """Adapts a rich progress bar to the jobs' small Progress protocol."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, description: str, total: int | None) -> None:
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, amount)


def sync(
    job: str = typer.Argument(None, help=_("Job name; run without one to list the registered jobs.")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("Print the plan (counts and first changes); write nothing.")),
    force: bool = typer.Option(False, "--force", help=_("Apply what a guard stopped (e.g. the stock mass-change guard).")),
    full: bool = typer.Option(False, "--full", help=_("Read and compute everything, not only what changed since the "
                                                      "last run (stock, prices).")),
    config: ConfigOption = None,
) -> None:
    loaded = _settings_if_valid(config) if job else None
    held: StateLock | None = None
    if loaded is not None:
        outcome = _in_daemon(loaded, job, dry_run, force, full)
        if outcome is None:
            return
        held = outcome if isinstance(outcome, StateLock) else None
    try:
        from bridge.logging import configure
        from bridge.sync import registered_jobs

        specs = registered_jobs()
        if not job or job not in specs:
            width = max(map(len, specs), default=0)
            listing = "\n".join(f"  {name:<{width}}  {_(spec.description)}" for name, spec in specs.items()) \
                or "  " + _("(none yet)")
            message = _("registered jobs:\n{listing}").format(listing=listing)
            if job:
                raise CliError(_("unknown job '{job}'.\n{message}").format(job=job, message=message), exit_code=2)
            console.print(message, markup=False)
            return
        settings = loaded or settings_or_exit(config)
        configure(settings.log.level, settings.log.format)
        result = run_async(_run(settings, job, dry_run, force, full))
    finally:
        if held is not None:  # held while the job ran here: a daemon that started meanwhile waited for it
            held.release()
    _report(job, result.summary(), result.plan, result.notes, result.refused_files, dry_run)


sync.__doc__ = _("Run one sync job once, now: in the running daemon when there is one, else in this process.")


def _settings_if_valid(config: Path | None) -> Settings | None:
    """The settings, or None when they do not load (the error is reported where it always was)."""
    from bridge.config import load_settings
    from bridge.errors import BridgeError

    i18n.configure_from_env()
    try:
        settings = load_settings(config)
    except BridgeError:
        return None
    i18n.configure(settings.ui.language, settings.ui.timezone)
    return settings


BESIDE = "beside"  # the daemon holds the state but does not run this job: it runs here, beside the daemon
LOOKS = 3  # a daemon that is stopping when asked is looked for again (it lets go of the state as it exits)


def _in_daemon(settings: Settings, job: str, dry_run: bool, force: bool, full: bool) -> StateLock | str | None:
    """While `bridge run` holds the state file, its own job runs (warm, never beside its scheduled run) and this
    process only prints the outcome: None. Else a held ``StateLock``: no daemon holds the state, this process runs
    the job and holds the state meanwhile. BESIDE: the daemon does not run this job (disabled there; or no such
    job)."""
    from bridge.control.client import DaemonRunFailed, DaemonStopping, RemoteRun, hold_or_find, run_in_daemon

    def waiting(why: str, pid: str) -> None:
        message = _("another `bridge sync` (pid {pid}) is running a job on this state file; waiting for it to "
                    "finish…") if why == "sync" else _("waiting for the daemon (pid {pid}): it is starting or "
                                                       "stopping…")
        console_err.print(message.format(pid=pid), markup=False)

    def ask() -> StateLock | RemoteRun | None:
        for _look in range(LOOKS - 1):
            found = hold_or_find(settings.state_path, waiting=waiting)
            if isinstance(found, StateLock):
                return found
            try:
                return run_in_daemon(found, job, dry_run=dry_run, force=force, full=full)
            except DaemonStopping:
                continue  # it lets go of the state as it exits: look again
        found = hold_or_find(settings.state_path, waiting=waiting)
        return found if isinstance(found, StateLock) else run_in_daemon(found, job, dry_run=dry_run, force=force,
                                                                         full=full)

    try:
        remote = ask()
    except DaemonStopping as exc:
        raise CliError(_("the daemon (pid {pid}) is stopping and did not run {job}: run the command again once it "
                         "has stopped or restarted").format(pid=exc.pid, job=job)) from None
    except DaemonRunFailed as exc:
        raise CliError(str(exc), exit_code=exc.exit_code) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if remote is None:
        return BESIDE
    if isinstance(remote, StateLock):
        return remote
    notes = [*remote.notes]
    if remote.delivery is not None:
        notes.append(_("delivered {done}, retry later {retried}, dead {dead}").format(**{
            key: remote.delivery[key] for key in ("done", "retried", "dead")}))
        if remote.delivery["queued"]:
            notes.append(_("{count} write(s) still queued: the daemon delivers them").format(
                count=remote.delivery["queued"]))
    notes.append(_("run by the running daemon (pid {pid}): `bridge status` and its log show the details").format(
        pid=remote.pid))
    _report(job, remote.summary, remote.plan, notes, remote.refused_files, dry_run)
    return None


def _report(job: str, summary: str, plan: list[str], notes: list[str], refused_files: int, dry_run: bool) -> None:
    # Plain lines through click's echo: rich's console would cost a daemon-run command a fifth of its start-up.
    lines = [f"{job}: {summary}"]
    if dry_run:
        lines.append(_("plan (first changes):") if plan else _("plan: nothing to change"))
        lines.extend(f"  {line}" for line in plan)
    lines.extend(_("note: {note}").format(note=note) for note in notes)
    typer.echo("\n".join(lines))
    if refused_files:
        raise CliError(_("{job}: {count} input file(s) refused and moved to error/ (see the notes above and the "
                         ".error.txt next to each file)").format(job=job, count=refused_files), exit_code=1)


async def _run(settings, job: str, dry_run: bool, force: bool, full: bool = False):  # type: ignore[no-untyped-def]
    from bridge.cli.in_process import in_process
    from bridge.sync import registered_jobs

    async with in_process(settings) as run:
        instance = registered_jobs()[job].factory(run.context)
        deliver = not dry_run and run.has_sinks
        async with contextlib.AsyncExitStack() as delivery:
            if deliver:  # the writes go out as soon as the job enqueues them, as in the daemon; the rest after
                stats = await delivery.enter_async_context(run.dispatcher.delivering())
            result = await _run_job(instance, dry_run, force, full)
        if deliver:
            result.notes.append(_("delivered {done}, retry later {retried}, dead {dead}").format(
                done=stats.done, retried=stats.retried, dead=stats.dead))
        return result


async def _run_job(instance, dry_run: bool, force: bool, full: bool):  # type: ignore[no-untyped-def]
    from bridge.sync import RunOptions
    from bridge.sync.base import NoProgress, follow_ups

    if sys.stdout.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            result = await instance.run(RunOptions(dry_run=dry_run, force=force, full=full, progress=RichProgress(bar)))
    else:
        result = await instance.run(RunOptions(dry_run=dry_run, force=force, full=full, progress=NoProgress()))
    return await follow_ups(instance, result, RunOptions(dry_run=dry_run, force=force))
