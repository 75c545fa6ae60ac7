"""The demo source as a resource: which brands it serves and how their data looks."""

from datetime import date

import dagster as dg
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.channels.demo import DemoConfig, demo_metrics


class DemoSourceResource(dg.ConfigurableResource):
    """Serves every brand in the local profile; in production only the brands listed."""

    brands: list[str] | None = None
    campaigns_per_channel: int | None = None
    incident_rate: float = 0.25

    def serves(self, brand: str) -> bool:
        return self.brands is None or brand in self.brands

    def config(self) -> DemoConfig:
        return DemoConfig(
            campaigns_per_channel=self.campaigns_per_channel, incident_rate=self.incident_rate
        )

    def metrics(self, brand: str, day: date, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
        """Rows of the hours of `day` that have ended by `as_of` (default: now)."""
        return demo_metrics(brand, day, self.config(), as_of=as_of or clock.now_timestamp())
