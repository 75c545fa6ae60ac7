"""Channel connectors: one module per ad platform, a shared HTTP layer, the demo source."""

# Days the daily restatement schedule re-pulls per channel: platforms keep revising recent
# days (Meta freezes insights after 28 days; Google conversions arrive over the conversion
# window; TikTok's attribution windows need at least a week). See ../shared/adapi/SUMMARY.md.
RESTATEMENT_DAYS: dict[str, int] = {"meta_ads": 28, "google_ads": 14, "tiktok_ads": 7}
