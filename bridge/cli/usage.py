"""Usage errors (an unknown option, a missing argument, a value that is not a number …) in the operator's language.

typer 0.29 vendors click as ``typer._click``, whose messages have no gettext. The root group runs the command line
with ``standalone_mode=False`` (``LazyGroup.main`` in bridge/cli/__init__.py) and hands the exceptions here. The
output keeps click's shape — the usage line, "Try '… --help' for help.", a blank line, "Error: …" — and exit code 2
(bad input, docs/operations.md "Exit codes"). The sentences come from the exception's fields (the option, the
parameter, pydantic's error type) where it has them, else from click's fixed English sentence, matched here.

The language is the one of the environment (LANG, BRIDGE_UI__LANGUAGE); a settings file named by ``--config``/``-c``
or ``$BRIDGE_CONFIG`` with ``ui.language`` set wins, as it does for every other message of the command.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from typer._click import exceptions as click_exceptions
from typer._click.utils import echo
from typer.exceptions import Abort

from bridge import i18n
from bridge.i18n import N_, Text, _, verbatim

ERROR = N_("Error: {message}")
TRY_HELP = N_("Try '{command} {option}' for help.")
ABORTED = N_("Aborted!")

# click's fixed sentences (the English it raises) → the catalogue's, with the same named groups as placeholders.
_SENTENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern, re.DOTALL), message) for
                                                             pattern, message in (
    (r"Got unexpected extra argument\(s\) \((?P<args>.*)\)", N_("Got unexpected extra argument(s): {args}")),
    (r"Got unexpected extra arguments? \((?P<args>.*)\)", N_("Got unexpected extra argument(s): {args}")),
    (r"Missing command\.", N_("Missing command.")),
    (r"No such command (?P<name>'.*?')\.(?: Did you mean (?P<matches>.*)\?)?",
     N_("No such command {name}.")),
    (r"No such option: (?P<option>\S+)", N_("No such option: {option}")),
    (r"Option (?P<option>'.*?') does not take a value\.", N_("Option {option} does not take a value.")),
    (r"Option (?P<option>'.*?') requires an argument\.", N_("Option {option} needs a value.")),
    (r"Option (?P<option>'.*?') requires (?P<count>\d+) arguments\.", N_("Option {option} needs {count} values.")),
    (r"Argument (?P<name>'.*?') takes (?P<count>\d+) values\.", N_("Argument {name} takes {count} values.")),
    (r"(?P<kind>file|dir|path) (?P<path>'.*') does not exist\.", N_("{kind} {path} does not exist.")),
    (r"(?P<kind>file|dir|path) (?P<path>'.*') is a file\.", N_("{path} is a file; a folder is expected.")),
    (r"(?P<kind>file|dir|path) (?P<path>'.*') is a directory\.", N_("{path} is a folder; a file is expected.")),
    (r"(?P<kind>file|dir|path) (?P<path>'.*') is not readable\.", N_("{path} cannot be read (permissions).")),
    (r"(?P<kind>file|dir|path) (?P<path>'.*') is not writable\.", N_("{path} cannot be written (permissions).")),
    (r"Value must be an iterable\.", N_("expected a list of values")),
    (r"Value (?P<value>.*) is not a valid (?P<type>\w+)\.", N_("{value} is not a valid {type}.")),
    (r"(?:Value error, )?(?P<value>.*) is not one of (?P<choices>.*)\.", N_("{value} is not allowed here; use one of: "
                                                                           "{choices}")),
))
_KINDS = {"file": N_("file"), "dir": N_("folder"), "path": N_("path")}
DID_YOU_MEAN = N_("Did you mean {matches}?")
POSSIBLE_OPTIONS = N_("(Possible options: {options})")
MISSING = {
    "argument": N_("Missing argument {name}."),
    "option": N_("Missing option {name}."),
}
MISSING_PARAMETER = N_("Missing parameter {name}.")
CHOOSE_FROM = N_("Choose from: {choices}")
INVALID_VALUE = N_("Invalid value for {name}: {reason}")
INVALID = N_("Invalid value: {reason}")
COULD_NOT_OPEN = N_("Could not open file {name}: {reason}")


def sentence(english: str) -> Text:
    """One of click's fixed English sentences in the current language (as it is when it is not one of them)."""
    for pattern, message in _SENTENCES:
        found = pattern.fullmatch(english)
        if found is None:
            continue
        values = {k: v for k, v in found.groupdict().items() if v is not None}
        if "kind" in values:
            values["kind"] = _(_KINDS[values["kind"]])
        text = _(message).format(**{k: v for k, v in values.items() if k != "matches"})
        if values.get("matches"):
            text = Text(f"{text} {_(DID_YOU_MEAN).format(matches=values['matches'])}")
        return text
    return verbatim(english)


def _reason(exc: click_exceptions.BadParameter) -> Text:
    """Why a value was refused: pydantic's error (typer converts values with pydantic) as our sentence, else click's."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            from bridge.i18n.validation import describe

            error = found[0]
            if error.get("type") == "value_error":
                return sentence(str(error.get("msg", "")).removeprefix("Value error, "))
            return verbatim(describe(error))
    return sentence(exc.message)


def _hint(exc: click_exceptions.BadParameter) -> str | None:
    hint: Sequence[str] | str | None = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint()
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(repr(x) for x in hint)
    return hint


def message(exc: click_exceptions.ClickException) -> Text:
    """The sentence after "Error: " for ``exc``, in the current language."""
    if isinstance(exc, click_exceptions.MissingParameter):
        name = _hint(exc) or ""
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        text = _(MISSING.get(kind, MISSING_PARAMETER)).format(name=name)
        extra = exc.param.get_missing_message(ctx=exc.ctx) if exc.param is not None else ""
        if extra and str(extra).startswith("Choose from:"):
            choices = ", ".join(part.strip(" ,\t") for part in str(extra).removeprefix("Choose from:").split("\n")
                                if part.strip(" ,\t"))
            text = Text(f"{text} {_(CHOOSE_FROM).format(choices=choices)}")
        return text
    if isinstance(exc, click_exceptions.BadParameter):
        hint = _hint(exc)
        reason = _reason(exc)
        return _(INVALID_VALUE).format(name=hint, reason=reason) if hint else _(INVALID).format(reason=reason)
    if isinstance(exc, click_exceptions.NoSuchOption):
        text = _("No such option: {option}").format(option=exc.option_name)
        if exc.possibilities:
            text = Text(f"{text} {_(POSSIBLE_OPTIONS).format(options=', '.join(sorted(exc.possibilities)))}")
        return text
    if isinstance(exc, click_exceptions.FileError):
        return _(COULD_NOT_OPEN).format(name=repr(exc.ui_filename), reason=sentence(exc.message))
    return sentence(exc.message)


def show(exc: click_exceptions.ClickException, file: IO[str] | None = None,
         argv: Sequence[str] | None = None) -> None:
    """Print ``exc`` as click does, in the operator's language."""
    _settings_language(sys.argv[1:] if argv is None else argv)
    out = sys.stderr if file is None else file
    if isinstance(exc, click_exceptions.NoArgsIsHelpError):  # a group without a command: its help, on stderr
        echo(exc.ctx.get_help(), file=out, color=exc.ctx.color)
        return
    color = None
    if isinstance(exc, click_exceptions.UsageError) and exc.ctx is not None:
        ctx = exc.ctx
        color = ctx.color
        hint = ""
        if ctx.command.get_help_option(ctx) is not None:
            hint = _(TRY_HELP).format(command=ctx.command_path, option=ctx.help_option_names[0]) + "\n"
        echo(f"{ctx.get_usage()}\n{hint}", file=out, color=color)
    echo(_(ERROR).format(message=message(exc)), file=out, color=color)


def aborted(file: IO[str] | None = None) -> None:
    echo(_(ABORTED), file=sys.stderr if file is None else file)


def _settings_language(argv: Sequence[str]) -> None:
    """``ui.language`` of the settings file the command line names (best effort: a usage error must still print)."""
    if os.environ.get("BRIDGE_UI__LANGUAGE"):
        return  # configure_from_env() already applied it
    path = _config_argument(argv) or os.environ.get("BRIDGE_CONFIG")
    if not path:
        return
    try:
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
        language = ((data or {}).get("ui") or {}).get("language")
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the command, not by a usage error
        return
    if isinstance(language, str) and language.lower() in i18n.LANGUAGES:
        i18n.set_language(language.lower())


def _config_argument(argv: Sequence[str]) -> str | None:
    for index, argument in enumerate(argv):
        if argument in ("--config", "-c") and index + 1 < len(argv):
            return argv[index + 1]
        if argument.startswith("--config="):
            return argument.removeprefix("--config=")
    return None


def run(main: Callable[..., Any], args: Sequence[str] | None, **extra: Any) -> Any:
    """``main(args, standalone_mode=False, **extra)`` with click's error handling done here: exits like click."""
    try:
        rv = main(args, standalone_mode=False, **extra)
    except click_exceptions.ClickException as exc:
        show(exc, argv=sys.argv[1:] if args is None else args)
        sys.exit(exc.exit_code)
    except Abort:
        aborted()
        sys.exit(1)
    # non-standalone: an Exit comes back as its code; LazyGroup.invoke returns None, so an int is always a code
    sys.exit(rv if isinstance(rv, int) else 0)
