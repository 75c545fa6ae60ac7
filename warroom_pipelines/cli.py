"""The `warroom` command: the demo, the brand registry and the analyst's SQL prompt.

Each area's subcommands live in `warroom_pipelines.commands.<area>`, and only the chosen
area's module is imported: Dagster, pandas and PyOD cost seconds to import, and
`warroom --help` or `warroom brands list` should answer at once (bench/cli_latency.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

# Command -> its one-line help; `register(parser)` of commands/<command>.py adds the rest.
COMMANDS: dict[str, str] = {
    "demo": "materialize demo brands for the last days",
    "brands": "add, list or remove brands",
    "sql": "run a read-only SQL query on the local DuckDB warehouse",
    "keys": "store, list, delete or rotate brand credentials",
    "doctor": "check a profile's configuration and connectivity (prints no secrets)",
    "dashboard": "render the dashboard pages and print their path (or serve them)",
    "alerts": "alert delivery log and re-sends",
    "backtest": "score anomaly detection against the demo source's labelled incidents",
}
_shown: set[str] = set()
_python_show_warning = warnings.showwarning


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the line (the first word that is not an option)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the arguments of `command` only (None: just the list of commands)."""
    parser = argparse.ArgumentParser(
        prog="warroom", description="War Room: paid-media performance for many brands."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, text in COMMANDS.items():
        sub = subparsers.add_parser(name, help=text, description=text)
        if name == command:
            importlib.import_module(f"warroom_pipelines.commands.{name}").register(sub)
    return parser


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line a user can read, without the `file:line` of Python's format,
    and once per command: Dagster resets the warning registry around each run. Deprecations
    are for War Room's developers: Python shows them its way (and the tests record them);
    Python's default filters keep libraries' deprecations from users."""
    if issubclass(category, DeprecationWarning):
        _python_show_warning(message, category, filename, lineno, file, line)
        return
    text = str(message)
    if text not in _shown:
        _shown.add(text)
        print(f"warroom: note: {text}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(arguments)
    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        args = build_parser(command).parse_args(arguments)
        try:
            return int(args.handler(args))
        except Exception as exc:
            if not _typed_error(exc):
                raise  # a defect: its traceback is what a developer needs
            print(f"warroom: {exc}", file=sys.stderr)
            return 2


def _typed_error(exc: Exception) -> bool:
    """War Room's own errors (bad brand key, vault, schema, warehouse, profile) are written for
    the person at the terminal and never carry a secret: one line, not a traceback."""
    return type(exc).__module__.startswith("warroom_pipelines.")


if __name__ == "__main__":
    raise SystemExit(main())
