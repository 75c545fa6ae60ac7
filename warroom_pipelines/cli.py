"""The `warroom` command: the demo, the brand registry and the analyst's SQL prompt.

Each area's subcommands live in `warroom_pipelines.commands.<area>`.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

COMMAND_MODULES = (
    "demo",
    "brands",
    "sql",
    "keys",
    "doctor",
    "dashboard",
    "alerts",
    "backtest",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom", description="War Room: paid-media performance for many brands."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"warroom_pipelines.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
