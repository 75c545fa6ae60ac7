"""The demo source as a resource: which brands it serves and how their data looks."""

from collections.abc import Collection
from datetime import date

import dagster as dg
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.channels.budgets import typed_budgets
from warroom_pipelines.channels.demo import DemoConfig, demo_budgets, demo_metrics


class DemoSourceResource(dg.ConfigurableResource):
    """Serves demo brands only: those registered as demo (`warroom brands add --demo`, the
    demo command's brands) and those listed in `brands`. `brands=None` serves every brand, for
    a deployment that is a demo and nothing else; the profiles never set it."""

    brands: list[str] | None = None
    campaigns_per_channel: int | None = None
    incident_rate: float = 0.25

    def serves(self, brand: str, registered_demo: Collection[str]) -> bool:
        """Whether `brand` is a demo brand; a connected brand never gets demo rows."""
        return self.brands is None or brand in self.brands or brand in registered_demo

    def config(self) -> DemoConfig:
        return DemoConfig(
            campaigns_per_channel=self.campaigns_per_channel, incident_rate=self.incident_rate
        )

    def metrics(self, brand: str, day: date, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Rows of the hours of `day` that have ended by `as_of` (default: now)."""
        return demo_metrics(brand, day, self.config(), as_of=as_of or clock.now_timestamp())

    def budgets(self, brand: str, day: date) -> pd.DataFrame:
        """The brand's campaign daily budgets of the local date `day`."""
        return typed_budgets(demo_budgets(brand, day, day, self.config()))
