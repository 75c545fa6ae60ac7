"""Valid credentials of every integration; each secret value is unique so tests can search."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "meta_ads": {"access_token": "EAAG-meta-secret-0001", "ad_account_ids": ["act_1234", "5678"]},
    "google_ads": {
        "developer_token": "devtoken-secret-0002",
        "client_id": "1234-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret-0003",
        "refresh_token": "1//refresh-secret-0004",
        "customer_ids": ["123-456-7890"],
        "login_customer_id": "1112223333",
    },
    "tiktok_ads": {"access_token": "tiktok-secret-0005", "advertiser_ids": ["700000001"]},
    "slack": {
        "webhook_url": "https://hooks.slack.com/services/T0/B0/slack-secret-0006",
        "min_severity": "critical",
    },
    "webhook": {
        "url": "https://alerts.example.com/hook?token=hook-secret-0007",
        "signing_secret": "signing-secret-0008",
    },
    "email": {
        "recipients": ["ops@example.com"],
        "sender": "warroom@example.com",
        "host": "smtp.example.com",
        "port": 587,
        "username": "warroom",
        "password": "smtp-secret-0009",
    },
}

SECRET_MARKERS = [f"secret-000{i}" for i in range(1, 10)]


def for_brand(brand: str, integration: str) -> dict[str, Any]:
    """The sample with every secret made brand-specific (so brands can be told apart)."""
    return {
        k: v.replace("secret", f"{brand}-secret") if isinstance(v, str) and "secret" in v else v
        for k, v in SAMPLES[integration].items()
    }
