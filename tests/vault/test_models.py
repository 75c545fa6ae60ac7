"""Credential models: every integration parses, bad input names brand, integration and
field but never the value."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.vault.samples import SAMPLES, SECRET_MARKERS
from warroom_pipelines.vault.models import (
    INTEGRATIONS,
    EmailAlerts,
    GoogleAdsCredentials,
    IntegrationError,
    MetaAdsCredentials,
    parse_integration,
)
from warroom_pipelines.vault.secret import Secret


def test_every_integration_has_a_sample() -> None:
    assert set(INTEGRATIONS) == set(SAMPLES)


@pytest.mark.parametrize("integration", sorted(SAMPLES))
def test_parse_and_serialise(integration: str) -> None:
    credentials = parse_integration("acme", integration, SAMPLES[integration])
    assert credentials.name == integration
    again = parse_integration("acme", integration, credentials.to_json())
    assert again == credentials
    shown = repr(credentials) + str(credentials.masked())
    assert not any(marker in shown for marker in SECRET_MARKERS)
    assert credentials.secrets() and all(
        any(m in s for m in SECRET_MARKERS) for s in credentials.secrets()
    )


def test_ids_are_normalised() -> None:
    meta = parse_integration("acme", "meta_ads", SAMPLES["meta_ads"])
    assert isinstance(meta, MetaAdsCredentials)
    assert meta.ad_account_ids == ("act_1234", "act_5678")
    assert isinstance(meta.access_token, Secret)
    google = parse_integration("acme", "google_ads", SAMPLES["google_ads"])
    assert isinstance(google, GoogleAdsCredentials)
    assert google.customer_ids == ("1234567890",)
    assert google.login_customer_id == "1112223333"
    email = parse_integration(
        "acme", "email", {**SAMPLES["email"], "username": None, "password": None}
    )
    assert isinstance(email, EmailAlerts) and email.password is None and email.port == 587


def _with(integration: str, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLES[integration])
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


LEAKY = "EAAG-pasted-secret-9999"


@pytest.mark.parametrize(
    ("integration", "changes", "field"),
    [
        ("meta_ads", {"access_token": ...}, "access_token"),
        ("meta_ads", {"access_token": LEAKY + " with spaces"}, "access_token"),
        ("meta_ads", {"ad_account_ids": [LEAKY]}, "ad_account_ids"),
        ("meta_ads", {"ad_account_ids": []}, "ad_account_ids"),
        ("meta_ads", {"ad_account_ids": ["1", "act_1"]}, "ad_account_ids"),
        ("meta_ads", {"acess_token": LEAKY}, "acess_token"),
        ("google_ads", {"customer_ids": ["12345"]}, "customer_ids"),
        ("google_ads", {"login_customer_id": LEAKY}, "login_customer_id"),
        ("google_ads", {"client_id": LEAKY + " !"}, "client_id"),
        ("google_ads", {"refresh_token": 12345678}, "refresh_token"),
        ("tiktok_ads", {"advertiser_ids": [LEAKY]}, "advertiser_ids"),
        ("slack", {"webhook_url": "http://hooks.slack.com/" + LEAKY}, "webhook_url"),
        ("slack", {"min_severity": "urgent"}, "min_severity"),
        ("webhook", {"url": "ftp://x/" + LEAKY}, "url"),
        ("webhook", {"signing_secret": "short"}, "signing_secret"),
        ("email", {"recipients": [LEAKY]}, "recipients"),
        ("email", {"port": 70000}, "port"),
        ("email", {"starttls": False}, "starttls"),
        ("email", {"username": ...}, "username"),
        ("email", {"password": ...}, "password"),
        ("email", {"sender": LEAKY}, "sender"),
    ],
)
def test_invalid_fields_are_named_never_echoed(
    integration: str, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(IntegrationError) as err:
        parse_integration("acme", integration, _with(integration, **changes))
    assert (err.value.brand, err.value.integration, err.value.field) == ("acme", integration, field)
    message = str(err.value)
    assert f"field {field!r}" in message and "'acme'" in message
    assert "pasted-secret" not in message and not any(m in message for m in SECRET_MARKERS)


def test_local_http_is_allowed_for_loopback_only() -> None:
    for url in ("http://127.0.0.1:8000/hook", "http://localhost/hook", "http://[::1]/x"):
        parse_integration("acme", "webhook", _with("webhook", url=url))
    with pytest.raises(IntegrationError):
        parse_integration("acme", "webhook", _with("webhook", url="http://10.0.0.1/hook"))


def test_unknown_integration_and_non_object() -> None:
    with pytest.raises(IntegrationError, match="unknown integration"):
        parse_integration("acme", "myspace_ads", {})
    with pytest.raises(IntegrationError, match="JSON object"):
        parse_integration("acme", "meta_ads", ["not", "an", "object"])  # type: ignore[arg-type]
