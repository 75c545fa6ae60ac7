"""`warroom dashboard`: render the Command Center from the warehouse, print or serve it."""

from __future__ import annotations

import argparse
import errno
import functools
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

from warroom_pipelines.commands.common import ensure_dagster_home, fail, unregistered

LOOPBACK = "127.0.0.1"


def register(dashboard: argparse.ArgumentParser) -> None:
    dashboard.add_argument("--brand", help="print this brand's page instead of the overview")
    dashboard.add_argument(
        "--serve", action="store_true", help=f"serve the pages on http://{LOOPBACK}:PORT/"
    )
    dashboard.add_argument("--port", type=int, default=8765, help="port for --serve (8765)")
    dashboard.set_defaults(handler=run_dashboard)


class PagesHandler(SimpleHTTPRequestHandler):
    """Serves the Command Center's .html pages and nothing else: a folder gives its
    index.html or 404 (never a listing), any other file 404, and only to a browser that
    asked for this loopback server by name. A page on another site that rebinds its DNS name
    to 127.0.0.1 sends its own name as `Host:` and is refused, so it cannot read the pages."""

    def send_head(self) -> BinaryIO | None:
        port = self.server.server_port  # type: ignore[attr-defined]  # an HTTPServer's
        if self.headers.get("Host", "").lower() not in (f"{LOOPBACK}:{port}", f"localhost:{port}"):
            self.send_error(
                HTTPStatus.MISDIRECTED_REQUEST, "this server answers only to its loopback address"
            )
            return None
        path = Path(self.translate_path(self.path))
        page = path / "index.html" if path.is_dir() else path
        folder = Path(self.directory).resolve()
        if (
            page.suffix != ".html"
            or page.name.startswith(".")
            or not page.is_file()
            or not page.resolve().is_relative_to(folder)
        ):
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()


def make_server(folder: Path, port: int) -> ThreadingHTTPServer:
    """A server of the pages, bound to the loopback interface only."""
    handler = functools.partial(PagesHandler, directory=str(folder))
    return ThreadingHTTPServer((LOOPBACK, port), handler)


def run_dashboard(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    from warroom_pipelines.dashboard import publish
    from warroom_pipelines.home import command_center_dir, duckdb_path
    from warroom_pipelines.partitions import validate_brand_key
    from warroom_pipelines.warehouse import DuckDBWarehouse

    # War Room's own errors (invalid key, unreadable warehouse) reach the terminal as one
    # line through cli.main.
    brand = validate_brand_key(args.brand) if args.brand else None
    if brand and (problem := unregistered(brand)):
        return fail(problem)
    if args.serve and not 1 <= args.port <= 65535:
        return fail(f"--port must be between 1 and 65535, got {args.port}")

    # Read-only: rendering never takes the writer's lock from a running refresh.
    warehouse = DuckDBWarehouse(duckdb_path(), read_only=True)
    folder = Path(command_center_dir())
    published = publish(warehouse, folder, only_brand=brand)
    page = Path(published.brand_pages[brand] if brand else published.overview)
    if not args.serve:
        print(page)
        return 0
    try:
        server = make_server(folder, args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return fail(f"port {args.port} on {LOOPBACK} is in use: choose another with --port")
        return fail(f"cannot serve on {LOOPBACK}:{args.port}: {exc.strerror or exc}")
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
