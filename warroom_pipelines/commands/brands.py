"""`warroom brands add|list|remove`: the brand registry (Dagster's dynamic partitions)."""

from __future__ import annotations

import argparse

from warroom_pipelines.commands.common import fail, instance
from warroom_pipelines.partitions import BRANDS, InvalidBrandKey, validate_brand_key


def register(subparsers: argparse._SubParsersAction) -> None:
    brands = subparsers.add_parser("brands", help="add, list or remove brands")
    actions = brands.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register brands (lowercase slugs)")
    add.add_argument("brands", nargs="+")
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
    new = [k for k in keys if k not in known]
    inst.add_dynamic_partitions(BRANDS, new)
    for key in keys:
        print(f"{key}: {'added' if key in new else 'already registered'}")
    return 0


def list_brands(args: argparse.Namespace) -> int:
    for key in sorted(instance().get_dynamic_partitions(BRANDS)):
        print(key)
    return 0


def remove_brands(args: argparse.Namespace) -> int:
    inst = instance()
    known = set(inst.get_dynamic_partitions(BRANDS))
    for key in args.brands:
        if key in known:
            inst.delete_dynamic_partition(BRANDS, key)
            print(f"{key}: removed (its warehouse rows are kept)")
        else:
            print(f"{key}: not registered")
    return 0
