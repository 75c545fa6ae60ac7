"""Features of each series-hour, computed from the past only.

For every metric and hour: the observed value, the value expected from the same hour of day
over the trailing window, and a deviation in robust sigmas over three horizons: the hour
itself, the last three hours pooled (the recent change, which makes a slow leak visible
within two hours) and the last twelve (a moderate shift that lasts adds up: CTR x 0.7 on 150
clicks an hour is 3.7 sigma in an hour and over 10 in twelve). The long horizon counts only
while the last three hours still deviate the same way (and no faster), so an incident ends
when it ends.

Ratio metrics are judged with their volume, never as raw ratios: CTR and conversion rate as
counts out of their denominator (clicks out of impressions: binomial, close to Poisson),
CPC and CPA as the clicks or conversions the spend should have bought, ROAS as the value the
spend should have returned and as the value per order, both on a log scale (a broken price
feed divides order values; orders are lumpy, so the scale comes from the window). A level's expected
count is the sum of its campaigns' (each campaign's volume times its own baseline), so a
paused or new campaign changes what a channel's CTR should be, and is not taken for a CTR
drop. Volumes (spend, impressions) are judged on a log scale against the median of the same
hour of day, shifted by the weekday where the window holds at least two of each weekday;
orders on a square-root scale (variance-stabilised counts).

Each raw score is centred and scaled by its own series' median and MAD over the window,
which absorbs over-dispersion; past incident hours and level-shift days (a sale day) are
left out of that scale, so one promotion does not blind the next four weeks. Volumes are
expected only where the campaigns' budgets leave room (`pacing`): a campaign that has spent
its daily budget is expected to deliver nothing more that day. Campaigns in their first
LEARNING_DAYS (a launch ramp) are left out of every level's ratios, and judged on their own
only after it. A metric cannot alert below the minimum volume
(`VolumeFloor`): a CTR from 40 impressions is noise, so it gets no deviation at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warroom_pipelines.metrics import CATALOGUE
from warroom_pipelines.sentry.series import Panel

POOLS: tuple[int, ...] = (1, 3, 12)  # hours pooled: the hour, the last three, the last twelve
SUSTAIN_SIGMA = 2.0  # the long pool counts while the 3-hour pool deviates this much its way
INCIDENT_SIGMA = 4.5  # window hours this far out are past incidents: left out of the scale
SHIFT_SIGMA = 2.0  # a day whose median hour deviates this much is a level shift (left out)
LEARNING_DAYS = 7
MIN_ROOM = 0.2  # hours where budgets leave less room than this teach nothing of the usual level
METRICS: tuple[str, ...] = (
    "ctr", "cpc", "cpa", "cvr", "roas", "spend", "impressions", "conversions", "aov",
)  # fmt: skip
MAD_TO_SIGMA = 1.4826
RELATIVE: frozenset[str] = frozenset({"roas", "aov", "spend", "impressions"})


@dataclass(frozen=True)
class VolumeFloor:
    """Expected volume per scored window below which a metric does not alert."""

    impressions: float = 300.0
    clicks: float = 40.0
    conversions: float = 5.0
    spend: float = 25.0


@dataclass(frozen=True)
class Ratio:
    """How a catalogue ratio, metric = a / b, is judged with its volume. `count` says which
    side is the count the test is about: "a" (clicks of CTR) is compared with b x baseline;
    "b" (clicks of CPC) with a / baseline."""

    metric: str
    count: str
    floor: str  # VolumeFloor field the expected count must reach
    log: bool = False  # judge on a log scale: order values are lumpy and drops multiplicative

    @property
    def a(self) -> str:
        return CATALOGUE[self.metric].numerator

    @property
    def b(self) -> str:
        return CATALOGUE[self.metric].denominator


RATIOS: dict[str, Ratio] = {
    r.metric: r
    for r in (
        Ratio("ctr", "a", "clicks"),
        Ratio("cvr", "a", "conversions"),
        Ratio("roas", "a", "conversions", log=True),
        Ratio("cpc", "b", "clicks"),
        Ratio("cpa", "b", "conversions"),
        Ratio("aov", "a", "conversions", log=True),
    )
}


@dataclass(frozen=True)
class Features:
    """Arrays [series, day, hour of day]; day 0 pads the pooling, 1..W train, W+1 is scored.

    `z[metric]` has a trailing axis over POOLS; NaN where the metric is not eligible.
    """

    z: dict[str, np.ndarray]
    observed: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    # One robust sigma (1-hour pool; 3 hours for ROAS): in the metric's unit, or on the log
    # scale for the RELATIVE metrics, whose range is expected x exp(+-k sigma).
    sigma: dict[str, np.ndarray]
    spend: np.ndarray
    expected_spend: np.ndarray

    def matrix(self, day: int) -> np.ndarray:
        """[series * 24, metrics * pools] deviations of one day, 0 where not eligible."""
        stacked = np.stack([self.z[m][:, day] for m in METRICS], axis=-2)  # [S, 24, M, P]
        return np.nan_to_num(stacked.reshape(stacked.shape[0] * 24, -1), nan=0.0)

    def training_matrix(self) -> np.ndarray:
        """Rows of the training days where at least one metric is eligible."""
        days = self.z[METRICS[0]].shape[1]
        rows = np.concatenate([self.matrix(d) for d in range(1, days - 1)])
        return rows[np.any(rows != 0.0, axis=1)]


def _trailing(x: np.ndarray, pool: int) -> np.ndarray:
    """Sum of the last `pool` hours along the time axis (fewer at the very start)."""
    if pool == 1:
        return x
    c = np.cumsum(x, axis=-1)
    out = c.copy()
    out[..., pool:] = c[..., pool:] - c[..., :-pool]
    return out


def _row_median(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of each row ignoring NaN (NaN for an all-NaN row) and the count of values;
    one sort instead of numpy's per-row nanmedian loop."""
    ordered = np.sort(x, axis=1)  # NaN sorts last
    count = np.sum(~np.isnan(x), axis=1)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[:, None], axis=1)[:, 0]
    return np.where(count > 0, (low + high) / 2.0, np.nan), count


def _centre_scale(past: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of `past` [series, values] (NaN: left out): median, MAD scale, value count."""
    center, count = _row_median(past)
    mad, _ = _row_median(np.abs(past - center[:, None]))
    return center, np.maximum(MAD_TO_SIGMA * np.nan_to_num(mad, nan=floor), floor), count


def _robust(z: np.ndarray, train: slice, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale each series by the median and MAD of its normal training hours, then
    widen heavy-tailed series until their 95th percentile of |z| sits where a normal
    distribution's would (1.96). Normal hours are those of days without a level shift (the
    day's median hour within SHIFT_SIGMA) that are not past incidents (within INCIDENT_SIGMA):
    a sale day or last week's outage must not widen the scale the next one is judged on.
    A series with less than a day of eligible training hours gets no deviation."""
    s = len(z)
    past = z[:, train]
    center, scale, count = _centre_scale(past.reshape(s, -1), floor)
    first = (past - center[:, None, None]) / scale[:, None, None]
    daily, _ = _row_median(first.reshape(-1, first.shape[-1]))
    normal = (np.abs(np.nan_to_num(daily)).reshape(s, -1, 1) < SHIFT_SIGMA) & (
        np.abs(first) < INCIDENT_SIGMA
    )
    kept = np.where(normal, past, np.nan).reshape(s, -1)
    center2, scale2, count2 = _centre_scale(kept, floor)
    enough = count2 >= 24
    center, scale = np.where(enough, center2, center), np.where(enough, scale2, scale)
    kept = np.where(enough[:, None], kept, past.reshape(s, -1))
    n = np.where(enough, count2, count)
    ordered = np.sort(np.abs(kept - center[:, None]) / scale[:, None], axis=1)
    q95 = np.take_along_axis(ordered, (0.95 * np.maximum(n - 1, 0)).astype(int)[:, None], 1)
    scale = scale * np.maximum(np.nan_to_num(q95[:, 0], nan=1.96) / 1.96, 1.0)
    out = (z - np.nan_to_num(center)[:, None, None]) / scale[:, None, None]
    out[count < 24] = np.nan
    return out, scale


def _hour_of_day_ratio(num: np.ndarray, den: np.ndarray, train: slice) -> np.ndarray:
    """[series, 24] ratio per hour of day over the training days, shrunk toward the series'
    overall ratio so that quiet night hours do not get a baseline from a handful of events."""
    n, d = num[:, train].sum(axis=1), den[:, train].sum(axis=1)
    total_n, total_d = n.sum(axis=1), d.sum(axis=1)
    overall = np.divide(total_n, total_d, out=np.full(len(n), np.nan), where=total_d > 0)
    prior = 0.2 * total_d / 24.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return (n + prior[:, None] * overall[:, None]) / (d + prior[:, None])


def campaign_baselines(
    campaigns: dict[str, np.ndarray], channel_of: np.ndarray, train: slice
) -> dict[str, np.ndarray]:
    """[campaign, 24] baseline of every ratio; a campaign without history of its own (new, or
    never converting) takes its channel's."""
    out = {}
    for name, ratio in RATIOS.items():
        num, den = campaigns[ratio.a], campaigns[ratio.b]
        own = _hour_of_day_ratio(num, den, train)
        channel = _hour_of_day_ratio(sum_into(channel_of, num), sum_into(channel_of, den), train)
        fallback = channel_of.T @ np.nan_to_num(channel)
        out[name] = np.where(np.isfinite(own) & (own > 0), own, fallback)
    return out


@dataclass(frozen=True)
class Scope:
    """What of a level's panel may be judged, arrays [series, day, 24] unless said."""

    live: np.ndarray  # bool: the hour has rows to judge (no rows is no data, not zeros)
    gapped: np.ndarray  # bool: its channel's rows are missing (a pool over it is not judged)
    room: np.ndarray  # share of the series' usual volume its campaigns' budgets leave room for
    established: np.ndarray  # bool [campaign]: past its learning days; only these enter ratios


def build_features(
    panel: Panel,
    matrix: np.ndarray,
    campaigns: dict[str, np.ndarray],
    baselines: dict[str, np.ndarray],
    window_days: int,
    weekdays: np.ndarray,
    floor: VolumeFloor,
    scope: Scope,
) -> Features:
    """Features of one level's panel spanning (1 + window_days + 1) whole UTC days.

    `matrix` [series, campaign] sums campaigns into the panel's series; `campaigns` are the
    campaign measures [campaign, day, 24] and `baselines` their ratio baselines [campaign, 24];
    `weekdays[d]` is the weekday of panel day d.
    """
    s, days = panel.size, window_days + 2
    train = slice(1, window_days + 1)
    m = {k: v.reshape(s, days, 24) for k, v in panel.measures.items()}
    room = scope.room
    # Per pool: the hours it may be judged on (live, and no gap among its pooled hours).
    judged = [scope.live & (_pooled(scope.gapped.astype(float), p) == 0) for p in POOLS]
    grown = scope.established.astype(float)[:, None, None]

    z: dict[str, np.ndarray] = {}
    observed: dict[str, np.ndarray] = {}
    expected: dict[str, np.ndarray] = {}
    sigma: dict[str, np.ndarray] = {}

    tot_v = m["conversion_value"][:, train].sum(axis=(1, 2))
    tot_c = m["conversions"][:, train].sum(axis=(1, 2))
    aov_unit = np.divide(tot_v, tot_c, out=np.full(s, np.inf), where=tot_c > 0)

    for name, ratio in RATIOS.items():
        base = baselines[name][:, None, :]  # [C, 1, 24]
        a_c, b_c = campaigns[ratio.a] * grown, campaigns[ratio.b] * grown
        a, b = sum_into(matrix, a_c), sum_into(matrix, b_c)
        known = np.isfinite(base) & (base > 0)
        if ratio.count == "a":  # observed a against b x baseline
            exp_c = np.where(known, b_c * np.where(known, base, 0.0), 0.0)
            unknown_c = (~known & (b_c > 0)).astype(float)
            obs, exp = a, sum_into(matrix, exp_c)
        else:  # observed b against a / baseline
            exp_c = np.where(known, a_c / np.where(known, base, 1.0), 0.0)
            unknown_c = (~known & (a_c > 0)).astype(float)
            obs, exp = b, sum_into(matrix, exp_c)
        unknown = sum_into(matrix, unknown_c)
        unit = aov_unit[:, None, None] if ratio.log else 1.0
        minimum = getattr(floor, ratio.floor)
        per_pool = []
        for pool in POOLS:
            so, se = _pooled(obs, pool), _pooled(exp, pool)
            if ratio.log:  # already relative: no variance to divide by
                var, diff = np.ones_like(se), np.log1p(so) - np.log1p(se)
            elif ratio.count == "a":
                var, diff = unit * se, so - se
            else:  # the spend's worth of clicks (orders) against those delivered; CPA's
                # variance is the expected orders, as a tracking break delivers none
                var, diff = (se if name == "cpa" else so), se - so
            ok = (se / unit >= minimum) & (var > 0) & (_pooled(unknown, pool) == 0)
            if ratio.log:  # one hour of lumpy order values is not evidence: 3 hours are
                ok &= (_pooled(b, pool) > 0) & (pool > 1)
            per_pool.append(np.where(ok, diff / np.sqrt(np.where(ok, var, 1.0)), np.nan))
        # Low floor: a ratio can be steadier than Poisson, which the MAD reveals.
        scaled = [
            _robust(np.where(ok, p, np.nan), train, 0.02 if ratio.log else 0.3)
            for ok, p in zip(judged, per_pool, strict=True)
        ]
        z[name] = _sustained(np.stack([x for x, _ in scaled], axis=-1))
        scale = scaled[-1 if ratio.log else 0][1][:, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            observed[name] = np.where(b > 0, a / b, np.nan)
            if ratio.log:
                expected[name] = np.where(b > 0, exp / b, np.nan)
                sigma[name] = np.broadcast_to(scale, expected[name].shape)
            elif ratio.count == "a":
                expected[name] = np.where(b > 0, exp / b, np.nan)
                sigma[name] = scale * np.sqrt(np.maximum(unit * exp, 0.0)) / b
            else:
                expected[name] = np.where(exp > 0, a / exp, np.nan)
                var1 = exp if name == "cpa" else b
                sigma[name] = expected[name] * scale * np.sqrt(np.maximum(var1, 0.0)) / exp

    # Volumes: the series' own hour-of-day level where budgets leave room (a paused campaign
    # does lower a channel), learnt from hours with room, as if uncapped.
    open_hour = room >= MIN_ROOM
    log_spend = np.log1p(m["spend"])
    shift = _weekday_shift(log_spend, train, weekdays)[:, :, None]
    for name in ("spend", "impressions"):
        x = m[name]
        uncapped = np.where(open_hour, np.log1p(x / np.maximum(room, MIN_ROOM)), np.nan)
        usual = np.expm1(_day_median(uncapped[:, train])[:, None, :] + shift)
        e = usual * room
        minimum = getattr(floor, name)
        per_pool = []
        for pool in POOLS:
            sx, su, se = _pooled(x, pool), _pooled(usual, pool), _pooled(e, pool)
            ok = su >= minimum * pool
            per_pool.append(np.where(ok, _capped_log(sx, su, se), np.nan))
        e = np.where(x >= e, usual, e)  # what a spike is measured against, or a drop
        scaled = [
            _robust(np.where(ok, p, np.nan), train, 0.05)
            for ok, p in zip(judged, per_pool, strict=True)
        ]
        z[name] = _sustained(np.stack([x for x, _ in scaled], axis=-1))
        observed[name], expected[name] = x, e
        sigma[name] = np.broadcast_to(scaled[0][1][:, None, None], e.shape)
    expected_spend = expected["spend"]

    conv = m["conversions"]
    uncapped = np.where(open_hour, conv / np.maximum(room, MIN_ROOM), np.nan)
    known = np.isfinite(uncapped[:, train])
    total = np.where(known, uncapped[:, train], 0.0).sum(axis=1)
    mean = np.divide(total, known.sum(axis=1), out=np.zeros_like(total), where=known.any(axis=1))
    e = mean[:, None, :] * np.exp(shift) * room
    per_pool = []
    for pool in POOLS:
        sx, se = _pooled(conv, pool), _pooled(e, pool)
        ok = se >= floor.conversions
        per_pool.append(np.where(ok, 2.0 * (np.sqrt(sx) - np.sqrt(np.where(ok, se, 0.0))), np.nan))
    scaled = [
        _robust(np.where(ok, p, np.nan), train, 1.0) for ok, p in zip(judged, per_pool, strict=True)
    ]
    z["conversions"] = _sustained(np.stack([x for x, _ in scaled], axis=-1))
    observed["conversions"], expected["conversions"] = conv, e
    sigma["conversions"] = scaled[0][1][:, None, None] * np.sqrt(np.maximum(e, 0.0))
    return Features(z, observed, expected, sigma, m["spend"], expected_spend)


def _capped_log(x: np.ndarray, usual: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Log deviation of a volume that budgets may cap: a drop is measured against what the
    budgets allow, a rise against the usual level (a capped campaign delivering as usual is
    neither); in between it is as expected."""
    with np.errstate(invalid="ignore"):
        drop = np.log1p(x) - np.log1p(allowed)
        rise = np.log1p(x) - np.log1p(usual)
    return np.minimum(drop, np.maximum(rise, 0.0))


def _sustained(z: np.ndarray) -> np.ndarray:
    """[..., pools] -> the same, each long pool counted only while the 3-hour pool deviates
    the same way by SUSTAIN_SIGMA, and for no more than the 3-hour pool's rate sustained
    over its hours (sqrt(pool / 3) times it): twelve hours add up the evidence of an incident
    still on, but the hours of one that ended do not keep it open."""
    short = z[..., 1]
    on = np.abs(np.nan_to_num(short)) >= SUSTAIN_SIGMA
    for p, pool in enumerate(POOLS[2:], start=2):
        same = on & (np.sign(z[..., p]) == np.sign(short))
        cap = np.sqrt(pool / POOLS[1]) * np.abs(short)
        z[..., p] = np.where(same, np.sign(short) * np.minimum(np.abs(z[..., p]), cap), np.nan)
    return z


def _day_median(x: np.ndarray) -> np.ndarray:
    """[series, day, 24] -> [series, 24] median over days, ignoring NaN."""
    s, days, hours = x.shape
    median, _ = _row_median(x.transpose(0, 2, 1).reshape(s * hours, days))
    return median.reshape(s, hours)


def sum_into(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Campaign arrays [campaign, day, 24] summed into a level's series [series, day, 24].

    A matrix product (BLAS) rather than einsum: at 1,000 campaigns einsum's loop over the
    series x campaign matrix took 57 % of scoring (bench/RESULTS.md, issue 9)."""
    campaigns = x.shape[0]
    return (matrix @ x.reshape(campaigns, -1)).reshape(matrix.shape[0], *x.shape[1:])


def _pooled(x: np.ndarray, pool: int) -> np.ndarray:
    """[S, days, 24] -> sums of the last `pool` hours, across midnight."""
    s, days, _ = x.shape
    return _trailing(x.reshape(s, days * 24), pool).reshape(s, days, 24)


def _weekday_shift(log_x: np.ndarray, train: slice, weekdays: np.ndarray) -> np.ndarray:
    """[series, day] log shift of each day's weekday from the window's typical day; zero
    unless the window holds at least two days of every weekday."""
    s, days, _ = log_x.shape
    shift = np.zeros((s, days))
    train_days = np.arange(days)[train]
    if np.min(np.bincount(weekdays[train_days], minlength=7)) < 2:
        return shift
    base = np.median(log_x[:, train], axis=1)  # [S, 24]
    daily = np.median(log_x - base[:, None, :], axis=2)  # [S, days]
    for weekday in range(7):
        same = train_days[weekdays[train_days] == weekday]
        shift[:, weekdays == weekday] = np.median(daily[:, same], axis=1)[:, None]
    return shift
