"""`warroom brands add|list|remove`: the brand registry (Dagster's dynamic partitions)."""

from __future__ import annotations

import argparse
import sqlite3
from contextlib import closing
from pathlib import Path

from warroom_pipelines.brand_keys import (
    BRANDS,
    DEMO_REGISTRY,
    validate_brand_key,
)
from warroom_pipelines.commands.common import ensure_dagster_home, fail, instance


def register(brands: argparse.ArgumentParser) -> None:
    actions = brands.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register brands (lowercase slugs)")
    add.add_argument("brands", nargs="+")
    add.add_argument(
        "--demo",
        action="store_true",
        help="a demo brand: the demo source invents its data (default: a connected brand, "
        "read from the ad platforms it has keys for)",
    )
    add.set_defaults(handler=add_brands)
    listing = actions.add_parser("list", help="list registered brands")
    listing.set_defaults(handler=list_brands)
    remove = actions.add_parser("remove", help="stop scheduling brands (their data stays)")
    remove.add_argument("brands", nargs="+")
    remove.set_defaults(handler=remove_brands)


def add_brands(args: argparse.Namespace) -> int:
    keys = [validate_brand_key(b) for b in args.brands]  # an invalid key: one line (cli.main)
    inst = instance()
    known = set(inst.get_dynamic_partitions(BRANDS))
    demo = set(inst.get_dynamic_partitions(DEMO_REGISTRY))
    clash = [k for k in keys if k in known and (k in demo) != args.demo]
    if clash:
        kind = "connected" if args.demo else "demo"
        return fail(
            f"{', '.join(clash)}: already registered as a {kind} brand; a brand's kind "
            "does not change (remove it and add it under another key)"
        )
    new = [k for k in keys if k not in known]
    if args.demo:
        inst.add_dynamic_partitions(DEMO_REGISTRY, [k for k in new if k not in demo])
    inst.add_dynamic_partitions(BRANDS, new)
    kind = "demo" if args.demo else "connected"
    for key in keys:
        print(f"{key}: {f'added ({kind} brand)' if key in new else 'already registered'}")
    return 0


def list_brands(args: argparse.Namespace) -> int:
    demo = set(registered_brands(DEMO_REGISTRY))
    for key in sorted(registered_brands()):
        print(f"{key}\t{'demo' if key in demo else 'connected'}")
    return 0


def registered_brands(registry: str = BRANDS) -> list[str]:
    """The brand registry (or the demo brands, `DEMO_REGISTRY`), read without importing
    Dagster (seconds) when the instance keeps Dagster's default SQLite storage: the dynamic
    partitions table of its event log index, opened read-only. Any other storage (PostgreSQL)
    is asked through Dagster.
    tests/commands/test_brands.py holds this reading to Dagster's own answer."""
    home = ensure_dagster_home()
    index = home / "history" / "runs" / "index.db"
    if index.exists() and not _declares_storage(home / "dagster.yaml"):
        with closing(sqlite3.connect(f"{index.as_uri()}?mode=ro", uri=True)) as con:
            rows = con.execute(
                "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = ? "
                "ORDER BY id",
                (registry,),
            ).fetchall()
        return [partition for (partition,) in rows]
    return list(instance().get_dynamic_partitions(registry))


def _declares_storage(config: Path) -> bool:
    import yaml

    settings = yaml.safe_load(config.read_text()) if config.exists() else None
    if not isinstance(settings, dict):
        return False
    return any(key in settings for key in ("storage", "event_log_storage", "run_storage"))


def remove_brands(args: argparse.Namespace) -> int:
    inst = instance()
    known = set(inst.get_dynamic_partitions(BRANDS))
    for key in args.brands:
        if key in known:
            inst.delete_dynamic_partition(BRANDS, key)
            if inst.has_dynamic_partition(DEMO_REGISTRY, key):
                inst.delete_dynamic_partition(DEMO_REGISTRY, key)
            print(f"{key}: removed (its warehouse rows are kept)")
        else:
            print(f"{key}: not registered")
    return 0
