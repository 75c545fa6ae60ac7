"""Features of each series-hour, computed from the past only.

For every metric and hour: the observed value, the value expected from the same hour of day
over the trailing window (shifted by the day of week where the window holds at least two of
each weekday), and a deviation in robust sigmas over two horizons: the hour itself and the
last three hours pooled (the recent change that makes a slow leak visible within two hours).

Ratio metrics are judged with their volume, never as raw ratios: CTR and conversion rate as
binomial-like counts (clicks out of impressions), CPC and CPA as the clicks or conversions
the spend should have bought, ROAS as the value the spend should have returned and as the
value per order (order value is far steadier per order than the number of orders per hour,
so a broken price feed shows within an hour). Each raw score is then centred and scaled by
its own series' median and MAD over the trailing window, which absorbs over-dispersion.

A metric cannot alert below the minimum volume (`VolumeFloor`): a CTR from 40 impressions is
noise, so it gets no deviation at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from warroom_pipelines.sentry.series import Panel

POOLS: tuple[int, ...] = (1, 3)  # hours pooled: the hour itself, and the last three
METRICS: tuple[str, ...] = (
    "ctr", "cpc", "cpa", "cvr", "roas", "spend", "impressions", "conversions", "aov",
)  # fmt: skip
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class VolumeFloor:
    """Expected volume per scored window below which a metric does not alert."""

    impressions: float = 2000.0
    clicks: float = 40.0
    conversions: float = 5.0
    spend: float = 25.0


@dataclass(frozen=True)
class Features:
    """Arrays [series, day, hour of day]; day 0 pads the pooling, 1..W train, W+1 is scored.

    `z[metric]` has a trailing axis over POOLS; NaN where the metric is not eligible.
    """

    z: dict[str, np.ndarray]
    observed: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    sigma: dict[str, np.ndarray]  # one robust sigma in the metric's unit (1-hour pool)
    spend: np.ndarray
    expected_spend: np.ndarray

    def matrix(self, day: int) -> np.ndarray:
        """[series * 24, metrics * pools] deviations of one day, 0 where not eligible."""
        stacked = np.stack([self.z[m][:, day] for m in METRICS], axis=-2)  # [S, 24, M, P]
        flat = stacked.reshape(stacked.shape[0] * 24, -1)
        return np.nan_to_num(flat, nan=0.0)

    def training_matrix(self) -> np.ndarray:
        """Rows of the training days where at least one metric is eligible."""
        days = self.z[METRICS[0]].shape[1]
        rows = np.concatenate([self.matrix(d) for d in range(1, days - 1)])
        return rows[np.any(rows != 0.0, axis=1)]


def _trailing(x: np.ndarray, pool: int) -> np.ndarray:
    """Sum of the last `pool` hours along the flattened time axis (fewer at the start)."""
    if pool == 1:
        return x
    c = np.cumsum(x, axis=1)
    out = c.copy()
    out[:, pool:] = c[:, pool:] - c[:, :-pool]
    return out


def _robust(z: np.ndarray, train: slice, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale each series by the median and MAD of its training-day values; a
    series with less than a day of eligible training hours gets no deviation."""
    past = pd.DataFrame(z[:, train].reshape(len(z), -1))
    center = past.median(axis=1, skipna=True)
    mad = past.sub(center, axis=0).abs().median(axis=1, skipna=True)
    enough = past.notna().sum(axis=1).to_numpy() >= 24
    scale = np.maximum(MAD_TO_SIGMA * mad.fillna(floor).to_numpy(), floor)
    out = (z - center.fillna(0.0).to_numpy()[:, None, None]) / scale[:, None, None]
    out[~enough] = np.nan
    return out, scale


def _hour_of_day_ratio(num: np.ndarray, den: np.ndarray, train: slice) -> np.ndarray:
    """Ratio per series and hour of day over the training days, shrunk toward the series'
    overall ratio so that quiet night hours do not get a baseline from a handful of events."""
    n, d = num[:, train].sum(axis=1), den[:, train].sum(axis=1)  # [S, 24]
    total_n, total_d = n.sum(axis=1), d.sum(axis=1)
    overall = np.divide(total_n, total_d, out=np.full(len(n), np.nan), where=total_d > 0)
    prior = 0.2 * total_d / 24.0
    with np.errstate(all="ignore"):
        return (n + prior[:, None] * overall[:, None]) / (d + prior[:, None])


def build_features(
    panel: Panel, window_days: int, weekdays: np.ndarray, floor: VolumeFloor, band: float
) -> Features:
    """Features of a panel spanning (1 + window_days + 1) whole UTC days.

    `weekdays[d]` is the weekday of panel day d; `band` is the half-width, in robust sigmas,
    of the expected range reported beside each value.
    """
    s, days = panel.size, window_days + 2
    train = slice(1, window_days + 1)
    m = {k: v.reshape(s, days, 24) for k, v in panel.measures.items()}
    imp, clk, spend = m["impressions"], m["clicks"], m["spend"]
    conv, value = m["conversions"], m["conversion_value"]
    live = panel.reported.reshape(s, days, 24) & (imp > 0) if panel.level == "campaign" else (
        np.ones((s, days, 24), dtype=bool)
    )

    # Volumes: log level per hour of day (median over the window) plus a weekday shift.
    log_spend, log_imp = np.log1p(spend), np.log1p(imp)
    shift = _weekday_shift(log_spend, train, weekdays)
    exp_log = {
        "spend": np.median(log_spend[:, train], axis=1)[:, None, :] + shift[:, :, None],
        "impressions": np.median(log_imp[:, train], axis=1)[:, None, :] + shift[:, :, None],
    }
    expected_spend = np.expm1(exp_log["spend"])
    expected_conv = np.mean(conv[:, train], axis=1)[:, None, :] * np.exp(shift)[:, :, None]

    flat = lambda a: np.broadcast_to(a, (s, days, 24)).reshape(s, -1)  # noqa: E731
    shape = lambda a: a.reshape(s, days, 24)  # noqa: E731

    ratios = {
        "ctr": _hour_of_day_ratio(clk, imp, train),
        "cvr": _hour_of_day_ratio(conv, clk, train),
        "roas": _hour_of_day_ratio(value, spend, train),
        "cpc": _hour_of_day_ratio(spend, clk, train),
        "cpa": _hour_of_day_ratio(spend, conv, train),
        "aov": _hour_of_day_ratio(value, conv, train),
    }
    tot_v, tot_c = value[:, train].sum(axis=(1, 2)), conv[:, train].sum(axis=(1, 2))
    aov_all = np.divide(tot_v, tot_c, out=np.full(s, np.nan), where=tot_c > 0)

    z: dict[str, np.ndarray] = {}
    observed: dict[str, np.ndarray] = {}
    expected: dict[str, np.ndarray] = {}
    sigma: dict[str, np.ndarray] = {}
    exp_spend_flat = flat(expected_spend)

    def numerator_kind(name: str, a: np.ndarray, b: np.ndarray, unit: np.ndarray,
                       min_count: float, extra_ok: np.ndarray | None = None) -> None:
        """m = a / b with `a` a count (in `unit`s): z = (a - b m0) / sqrt(unit b m0)."""
        m0 = np.broadcast_to(ratios[name][:, None, :], (s, days, 24))
        a_f, e_f = flat(a), flat(b * m0)
        per_pool = []
        for pool in POOLS:
            sa, se = _trailing(a_f, pool), _trailing(e_f, pool)
            var = unit[:, None] * se
            ok = (se / unit[:, None] >= min_count) & (var > 0)
            if extra_ok is not None:
                ok &= _trailing(flat(extra_ok.astype(float)), pool) >= pool
            raw = np.where(ok, (sa - se) / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)
            per_pool.append(shape(raw))
        _finish(name, per_pool, m0, a, b, lambda zs, sc: np.sqrt(
            np.maximum(unit[:, None, None] * b * m0, 0)) * sc / np.where(b > 0, b, np.nan))

    def denominator_kind(name: str, a: np.ndarray, b: np.ndarray, var_from_a: bool,
                         min_count: float) -> None:
        """m = a / b with `b` a count: z = (a / m0 - b) / sqrt(expected count)."""
        m0 = np.broadcast_to(ratios[name][:, None, :], (s, days, 24))
        with np.errstate(all="ignore"):
            bought = np.where(m0 > 0, a / m0, np.nan)
        per_pool = []
        for pool in POOLS:
            sb, sx = _trailing(flat(b), pool), _trailing(np.nan_to_num(flat(bought)), pool)
            var = sx if var_from_a else sb
            ok = (var >= min_count) & (_trailing(flat(np.isnan(bought).astype(float)), pool) == 0)
            raw = np.where(ok, (sx - sb) / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)
            per_pool.append(shape(raw))
        count = bought if var_from_a else b
        _finish(name, per_pool, m0, a, b, lambda zs, sc: m0 * sc * np.sqrt(
            np.maximum(np.nan_to_num(count), 0)) / np.where(b > 0, b, np.nan))

    def _finish(name: str, per_pool: list[np.ndarray], m0: np.ndarray, a: np.ndarray,
                b: np.ndarray, sigma_of) -> None:  # type: ignore[no-untyped-def]
        scaled = []
        scale_1h = None
        for raw in per_pool:
            raw = np.where(live, raw, np.nan)
            out, scale = _robust(raw, train, 1.0)
            scale_1h = scale if scale_1h is None else scale_1h
            scaled.append(out)
        z[name] = np.stack(scaled, axis=-1)
        with np.errstate(all="ignore"):
            observed[name] = np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)
        expected[name] = np.array(m0)
        sigma[name] = sigma_of(None, scale_1h[:, None, None])

    ones = np.ones(s)
    spend_ok = np.asarray(expected_spend >= floor.spend)
    numerator_kind("ctr", clk, imp, ones, floor.clicks)
    numerator_kind("cvr", conv, clk, ones, floor.conversions)
    aov_unit = np.where(np.isfinite(aov_all) & (aov_all > 0), aov_all, np.inf)
    numerator_kind("roas", value, spend, aov_unit, floor.conversions, spend_ok)
    denominator_kind("cpc", spend, clk, var_from_a=False, min_count=floor.clicks)
    denominator_kind("cpa", spend, conv, var_from_a=True, min_count=floor.conversions)
    denominator_kind("aov", value, conv, var_from_a=False, min_count=floor.conversions)

    # Volumes: log residual for spend and impressions, variance-stabilised counts for orders.
    for name, x, minimum in (("spend", spend, floor.spend), ("impressions", imp, floor.impressions)):
        e = np.expm1(exp_log[name])
        per_pool = []
        for pool in POOLS:
            sx, se = _trailing(flat(x), pool), _trailing(flat(e), pool)
            raw = np.where(se >= minimum * pool, np.log1p(sx) - np.log1p(se), np.nan)
            per_pool.append(shape(raw))
        scaled, scales = zip(*(_robust(np.where(live, r, np.nan), train, 0.05) for r in per_pool))
        z[name] = np.stack(scaled, axis=-1)
        observed[name], expected[name] = np.array(x), e
        sigma[name] = e * (np.exp(scales[0][:, None, None]) - 1.0)
    per_pool = []
    for pool in POOLS:
        sx, se = _trailing(flat(conv), pool), _trailing(flat(expected_conv), pool)
        raw = np.where(se >= floor.conversions, 2.0 * (np.sqrt(sx) - np.sqrt(se)), np.nan)
        per_pool.append(shape(raw))
    scaled, scales = zip(*(_robust(np.where(live, r, np.nan), train, 1.0) for r in per_pool))
    z["conversions"] = np.stack(scaled, axis=-1)
    observed["conversions"], expected["conversions"] = np.array(conv), expected_conv
    sigma["conversions"] = scales[0][:, None, None] * np.sqrt(np.maximum(expected_conv, 0))
    del exp_spend_flat
    return Features(z, observed, expected, sigma, spend, expected_spend)


def _weekday_shift(log_x: np.ndarray, train: slice, weekdays: np.ndarray) -> np.ndarray:
    """[series, day] log shift of each day's weekday from the window's typical day; zero
    unless the window holds at least two days of every weekday."""
    s, days, _ = log_x.shape
    base = np.median(log_x[:, train], axis=1)  # [S, 24]
    daily = np.median(log_x - base[:, None, :], axis=2)  # [S, days]
    shift = np.zeros((s, days))
    train_days = np.arange(days)[train]
    if np.min(np.bincount(weekdays[train_days], minlength=7)) < 2:
        return shift
    for weekday in range(7):
        same = train_days[weekdays[train_days] == weekday]
        effect = np.median(daily[:, same], axis=1)
        shift[:, weekdays == weekday] = effect[:, None]
    return shift
