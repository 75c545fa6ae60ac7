"""Write the Command Center: `index.html` (every brand) and `brands/<brand>.html`.

Files are written to a temporary name and renamed, so a screen reloading mid-write never shows
half a page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from warroom_pipelines.dashboard.model import BrandSummary, brand_view, overview
from warroom_pipelines.dashboard.pages import brand_file, brand_page, overview_page
from warroom_pipelines.dashboard.queries import CommandCenterReader, periods_at
from warroom_pipelines.warehouse import DuckDBWarehouse

BRANDS_DIR = "brands"


@dataclass(frozen=True)
class Published:
    """What was written, and the overview's numbers for a summary elsewhere (the Dagster UI)."""

    folder: Path
    overview: Path
    brand_pages: dict[str, Path]
    summaries: list[BrandSummary] = field(default_factory=list)
    end: pd.Timestamp | None = None


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def publish(
    warehouse: DuckDBWarehouse,
    folder: str | Path,
    *,
    now: pd.Timestamp | None = None,
    brands: Iterable[str] = (),
    only_brand: str | None = None,
    ingestion_errors: Mapping[str, Mapping[str, str]] | None = None,
) -> Published:
    """Render the overview and the brand pages (`only_brand`: that page and the overview).

    `brands` adds registered brands that have no rows yet (they show as not connected);
    `ingestion_errors` maps brand -> channel -> last error text (already free of secrets).
    """
    generated_at = pd.Timestamp.now(tz="UTC")
    moment = generated_at if now is None else pd.Timestamp(now)
    reader = CommandCenterReader(warehouse, periods_at(moment))
    everyone = sorted(set(reader.brands()) | set(brands))
    errors = ingestion_errors or {}
    out = Path(folder)
    pages: dict[str, Path] = {}
    for brand in everyone if only_brand is None else [only_brand]:
        with reader.session():
            view = brand_view(
                reader,
                brand,
                generated_at=generated_at,
                ingestion_errors=dict(errors.get(brand, {})),
            )
        path = out / BRANDS_DIR / brand_file(brand)
        _write(path, brand_page(view))
        pages[brand] = path
    with reader.session():
        summaries = overview(reader, everyone)
    index = out / "index.html"
    _write(
        index,
        overview_page(
            summaries, generated_at=generated_at, end=reader.periods.end, brands_dir=BRANDS_DIR
        ),
    )
    return Published(out, index, pages, summaries, reader.periods.end)
