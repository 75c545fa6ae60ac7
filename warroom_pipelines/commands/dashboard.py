"""`warroom dashboard`: render the Command Center from the warehouse, print or serve it."""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from warroom_pipelines.commands.common import ensure_dagster_home, fail, unregistered

LOOPBACK = "127.0.0.1"


def register(dashboard: argparse.ArgumentParser) -> None:
    dashboard.add_argument("--brand", help="print this brand's page instead of the overview")
    dashboard.add_argument(
        "--serve", action="store_true", help=f"serve the pages on http://{LOOPBACK}:PORT/"
    )
    dashboard.add_argument("--port", type=int, default=8765, help="port for --serve (8765)")
    dashboard.set_defaults(handler=run_dashboard)


def make_server(folder: Path, port: int) -> ThreadingHTTPServer:
    """A static file server for the pages, bound to the loopback interface only."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    return ThreadingHTTPServer((LOOPBACK, port), handler)


def run_dashboard(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    from warroom_pipelines.dashboard import publish
    from warroom_pipelines.partitions import InvalidBrandKey, validate_brand_key
    from warroom_pipelines.profiles import command_center_dir, duckdb_path
    from warroom_pipelines.warehouse import DuckDBWarehouse, WarehouseError

    try:
        brand = validate_brand_key(args.brand) if args.brand else None
    except InvalidBrandKey as exc:
        return fail(str(exc))
    if brand and (problem := unregistered(brand)):
        return fail(problem)

    # Read-only: rendering never takes the writer's lock from a running refresh.
    warehouse = DuckDBWarehouse(duckdb_path(), read_only=True)
    folder = Path(command_center_dir())
    try:
        published = publish(warehouse, folder, only_brand=brand)
    except WarehouseError as exc:
        return fail(str(exc))
    page = Path(published.brand_pages[brand] if brand else published.overview)
    if not args.serve:
        print(page)
        return 0
    server = make_server(folder, args.port)
    port = server.server_address[1]
    relative = page.relative_to(folder).as_posix()
    print(f"Serving {folder} on http://{LOOPBACK}:{port}/{relative} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
