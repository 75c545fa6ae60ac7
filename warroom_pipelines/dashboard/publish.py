"""Write the Command Center: `index.html` (every brand) and `brands/<brand>.html`.

Pages go to a `PageSink`: a folder locally (`FolderPages`), a GCS bucket in production
(`bucket.BucketPages`). Either way a page is stored whole or not at all, so a screen reloading
mid-write never shows half a page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.dashboard.campaign_rows import campaign_tables
from warroom_pipelines.dashboard.model import BrandSummary, brand_view, overview
from warroom_pipelines.dashboard.pages import brand_file, brand_page, overview_page
from warroom_pipelines.dashboard.queries import CommandCenterReader, periods_at
from warroom_pipelines.warehouse import Warehouse

BRANDS_DIR = "brands"
OVERVIEW = "index.html"


class PageSink(Protocol):
    """Where pages are stored."""

    @property
    def location(self) -> str:
        """The folder, or gs://bucket."""
        ...

    def write(self, name: str, html: str) -> str:
        """Store the page `name` (e.g. `brands/acme.html`) whole; returns where it now is."""
        ...


@dataclass(frozen=True)
class FolderPages:
    """Pages as files: each written to a temporary name, then renamed over the old one."""

    folder: Path

    @property
    def location(self) -> str:
        return str(self.folder)

    def write(self, name: str, html: str) -> str:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
        return str(path)


@dataclass(frozen=True)
class Published:
    """What was written (where each page is), and the overview's numbers for a summary
    elsewhere (the Dagster UI)."""

    location: str
    overview: str
    brand_pages: dict[str, str]
    summaries: list[BrandSummary] = field(default_factory=list)
    end: pd.Timestamp | None = None


def publish(
    warehouse: Warehouse,
    pages: PageSink | str | Path,
    *,
    now: pd.Timestamp | None = None,
    brands: Iterable[str] = (),
    only_brand: str | None = None,
) -> Published:
    """Render the overview and the brand pages (`only_brand`: that page and the overview).

    `pages`: a sink, or a folder for `FolderPages`. `brands` adds registered brands that have
    no rows yet (they show as not connected). Failed and stale sources come from the channel
    health the pipeline stored, so every renderer shows them.
    """
    sink = FolderPages(Path(pages)) if isinstance(pages, (str, Path)) else pages
    generated_at = clock.now_timestamp()
    moment = generated_at if now is None else pd.Timestamp(now)
    reader = CommandCenterReader(warehouse, periods_at(moment))
    everyone = sorted(set(reader.brands()) | set(brands))
    written: dict[str, str] = {}
    for brand in everyone if only_brand is None else [only_brand]:
        with reader.session():
            view = brand_view(reader, brand, generated_at=generated_at)
            campaigns = campaign_tables(reader, view)
        page = brand_page(view, campaigns)
        written[brand] = sink.write(f"{BRANDS_DIR}/{brand_file(brand)}", page)
    with reader.session():
        summaries = overview(reader, everyone)
    index = sink.write(
        OVERVIEW,
        overview_page(
            summaries, generated_at=generated_at, end=reader.periods.end, brands_dir=BRANDS_DIR
        ),
    )
    return Published(sink.location, index, written, summaries, reader.periods.end)
