"""`warroom brands add|list|remove`: the brand registry (Dagster's dynamic partitions)."""

from __future__ import annotations

import argparse

from warroom_pipelines.commands.common import fail, instance
from warroom_pipelines.partitions import (
    BRANDS,
    DEMO_REGISTRY,
    InvalidBrandKey,
    demo_brand_keys,
    validate_brand_key,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    brands = subparsers.add_parser("brands", help="add, list or remove brands")
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
    try:
        keys = [validate_brand_key(b) for b in args.brands]
    except InvalidBrandKey as exc:
        return fail(str(exc))
    inst = instance()
    known = set(inst.get_dynamic_partitions(BRANDS))
    demo = demo_brand_keys(inst)
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
    inst = instance()
    demo = demo_brand_keys(inst)
    for key in sorted(inst.get_dynamic_partitions(BRANDS)):
        print(f"{key}\t{'demo' if key in demo else 'connected'}")
    return 0


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
