"""The metric catalogue: what War Room knows about each metric, in one place.

A volume is summed (per hour, per level, per period); a ratio is always derived again from
summed volumes (numerator / denominator x scale, null where the denominator is 0), never
averaged. The unified table's derived columns, the SQL views, the Sentry's features,
directions and explanations, the alerts and the Command Center all read this catalogue, so a
metric's definition, its harmful direction, its label and its format cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["volume", "ratio"]
# How a value is written: an amount in the account's currency, a count, a share of 1 shown as
# a percentage, or a multiple (ROAS: value returned per unit of spend).
Format = Literal["money", "count", "percent", "multiple"]
Verdict = Literal["good", "bad", "neutral"]


@dataclass(frozen=True)
class Metric:
    """One metric. `harmful` is the direction in which a move costs the brand money (+1 up,
    -1 down): the direction the Sentry judges and the pages colour red."""

    name: str
    kind: Kind
    label: str
    format: Format
    harmful: Literal[-1, 1]
    numerator: str = ""  # ratios only: the volumes it is derived from
    denominator: str = ""
    scale: float = 1.0
    # A column of the unified table and its views; `aov` (value per order) is the Sentry's own.
    stored: bool = True
    # Its level is the advertiser's decision (a budget), so on the pages a change of it is
    # neither good nor bad news; runaway spend is the Sentry's incident, not a red tile.
    budgeted: bool = False

    @property
    def higher_is(self) -> Verdict:
        if self.budgeted:
            return "neutral"
        return "bad" if self.harmful > 0 else "good"


def _volume(
    name: str, label: str, format: Format, harmful: Literal[-1, 1], budgeted: bool = False
) -> Metric:
    return Metric(name, "volume", label, format, harmful, budgeted=budgeted)


def _ratio(
    name: str,
    label: str,
    format: Format,
    harmful: Literal[-1, 1],
    of: tuple[str, str],
    scale: float = 1.0,
    stored: bool = True,
) -> Metric:
    return Metric(name, "ratio", label, format, harmful, *of, scale=scale, stored=stored)


CATALOGUE: dict[str, Metric] = {
    m.name: m
    for m in (
        _volume("impressions", "Impressions", "count", -1),
        _volume("clicks", "Clicks", "count", -1),
        _volume("spend", "Spend", "money", +1, budgeted=True),
        _volume("conversions", "Conversions", "count", -1),
        _volume("conversion_value", "Conversion value", "money", -1),
        _ratio("ctr", "CTR", "percent", -1, ("clicks", "impressions")),
        _ratio("cpc", "CPC", "money", +1, ("spend", "clicks")),
        _ratio("cpm", "CPM", "money", +1, ("spend", "impressions"), scale=1000.0),
        _ratio("cpa", "CPA", "money", +1, ("spend", "conversions")),
        _ratio("cvr", "Conversion rate", "percent", -1, ("conversions", "clicks")),
        _ratio("roas", "ROAS", "multiple", -1, ("conversion_value", "spend")),
        _ratio("aov", "AOV", "money", -1, ("conversion_value", "conversions"), stored=False),
    )
}
# The summed measures of the unified table, in table order.
VOLUMES: tuple[str, ...] = tuple(n for n, m in CATALOGUE.items() if m.kind == "volume")
# The ratios the unified table and its views derive from those sums, in table order.
RATIOS: dict[str, Metric] = {n: m for n, m in CATALOGUE.items() if m.kind == "ratio" and m.stored}
