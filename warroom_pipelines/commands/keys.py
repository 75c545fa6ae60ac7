"""`warroom keys set|list|delete|rotate-master`: each brand's own credentials.

Credentials are read from a JSON file or standard input, never from arguments, which leak
into shell history and process lists. Listing shows secrets masked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

import dagster as dg

from warroom_pipelines.brand_keys import validate_brand_key
from warroom_pipelines.commands.common import ensure_dagster_home, fail, unregistered
from warroom_pipelines.vault.manager import IntegrationManager
from warroom_pipelines.vault.models import INTEGRATIONS


def register(keys: argparse.ArgumentParser) -> None:
    actions = keys.add_subparsers(dest="action", required=True)

    put = actions.add_parser(
        "set", help="store a brand's credentials from a JSON file or standard input"
    )
    put.add_argument("--brand", required=True)
    put.add_argument("--integration", required=True, choices=INTEGRATIONS)
    put.add_argument("--from-file", help="JSON file of credentials (default: standard input)")
    put.set_defaults(handler=_with_manager(set_keys))

    listing = actions.add_parser("list", help="list stored credentials, secrets masked")
    listing.add_argument("--brand")
    listing.set_defaults(handler=_with_manager(list_keys))

    delete = actions.add_parser("delete", help="delete one integration of a brand")
    delete.add_argument("--brand", required=True)
    delete.add_argument("--integration", required=True)
    delete.set_defaults(handler=_with_manager(delete_keys))

    rotate = actions.add_parser(
        "rotate-master",
        help="re-wrap every brand's data key with the current PERFORMANCE_ENCRYPTION_KEY",
    )
    rotate.set_defaults(handler=_with_manager(rotate_master))


def _with_manager(
    action: Callable[[IntegrationManager, argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Open the profile's vault (as the Dagster resource would); its errors reach the
    terminal as one line with exit status 2 through cli.main."""

    def handler(args: argparse.Namespace) -> int:
        from warroom_pipelines.profiles import profile_name
        from warroom_pipelines.resources.vault import vault_resource

        resource = vault_resource(profile_name(), ensure_dagster_home())
        with dg.build_resources({"vault": resource}) as resources:
            return action(resources.vault.manager(), args)

    return handler


def set_keys(manager: IntegrationManager, args: argparse.Namespace) -> int:
    if problem := unregistered(validate_brand_key(args.brand)):
        return fail(problem)
    source = args.from_file or "standard input"
    try:
        if args.from_file:
            with open(args.from_file, encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            if sys.stdin.isatty():
                print("Paste the credentials JSON, then Ctrl-D:", file=sys.stderr)
            data = json.load(sys.stdin)
    except OSError as exc:
        return fail(f"cannot read {source}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        # The position only: the document itself holds secrets.
        return fail(f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno})")
    except UnicodeDecodeError as exc:
        return fail(f"{source} is not UTF-8 text (byte {exc.start})")
    except RecursionError:
        return fail(f"{source} nests too deeply to be credentials")
    credentials = manager.set(args.brand, args.integration, data)
    masked = ", ".join(f"{k}={v}" for k, v in credentials.masked().items())
    print(f"{args.brand}/{args.integration}: stored encrypted ({masked})")
    return 0


def list_keys(manager: IntegrationManager, args: argparse.Namespace) -> int:
    summaries = manager.list(args.brand)
    if not summaries:
        print("(no credentials stored)")
    for item in summaries:
        masked = ", ".join(f"{k}={v}" for k, v in item.fields.items())
        if item.problem:
            masked = f"UNREADABLE ({item.problem}): re-enter it with `warroom keys set`"
        print(f"{item.brand}/{item.integration} [master key {item.master_key_id}]: {masked}")
    return 1 if any(item.problem for item in summaries) else 0


def delete_keys(manager: IntegrationManager, args: argparse.Namespace) -> int:
    deleted = manager.delete(args.brand, args.integration)
    print(f"{args.brand}/{args.integration}: {'deleted' if deleted else 'not stored'}")
    return 0


def rotate_master(manager: IntegrationManager, args: argparse.Namespace) -> int:
    result = manager.rotate_master()
    current = manager.keyring.current.key_id
    for brand in result.rewrapped:
        print(f"{brand}: re-wrapped with master key {current}")
    print(
        f"{len(result.rewrapped)} brand(s) re-wrapped, {len(result.already_current)} already on "
        f"master key {current}. Every brand now uses it: older keys may be removed from "
        "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS."
    )
    return 0
