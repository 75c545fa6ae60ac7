"""The ad platforms as a resource: where their APIs live, and a client per brand and channel.

Base URLs and API versions are configuration, so the same code talks to the real APIs in
production, to a sandbox or a proxy, and to local servers in tests. Each platform's record
(`channels/registry.py`) names its settings, their defaults and the environment variables
that replace them; the variables are read when the definitions load, so that schedules,
sensors and manual runs all use them, and run config can still override them for one run.
"""

import os
import re
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

from warroom_pipelines.channels import registry
from warroom_pipelines.channels.platform import Platform, Setting
from warroom_pipelines.channels.report import ChannelFetch
from warroom_pipelines.vault.manager import BrandVault

_API_VERSION = re.compile(r"v\d+(\.\d+)?")


class EndpointSettingError(ValueError):
    """An ad-platform setting is malformed or unknown; the message names it."""


class AdPlatformsResource(dg.ConfigurableResource):
    """Where each registered ad platform's API lives (its record's defaults otherwise)."""

    settings: dict[str, dict[str, str]] = Field(
        default={},
        description="Per platform, the settings that replace its defaults, e.g. "
        '{"meta_ads": {"base_url": "https://sandbox.example", "api_version": "v26.0"}}. '
        "Meta also takes hourly_conversions: daily_report_allocated (pixel conversions "
        "included) or hourly_actions; Google Ads takes token_url.",
    )

    def settings_of(self, platform: Platform[Any]) -> dict[str, str]:
        """Every setting of the platform: the configured value, else its default."""
        strays = sorted(set(self.settings) - set(registry.names()))
        if strays:
            raise EndpointSettingError(
                f"ad_platforms settings name {strays[0]!r}, which is no registered platform"
            )
        given = self.settings.get(platform.name, {})
        known = {s.name for s in platform.settings}
        unknown = sorted(set(given) - known)
        if unknown:
            raise EndpointSettingError(
                f"ad_platforms setting {platform.name}.{unknown[0]} is unknown; "
                f"{platform.name} takes {', '.join(sorted(known))}"
            )
        return {s.name: given.get(s.name, s.default) for s in platform.settings}

    def fetch(self, channel: str, vault: BrandVault, day: date) -> ChannelFetch | None:
        """The brand's campaign-hours of `day` on `channel`; None when it has no credentials."""
        platform = registry.platform(channel)
        if channel not in vault.integrations():
            return None
        credentials = vault.get(platform.credentials)
        client = platform.connect(vault.brand, credentials, self.settings_of(platform))
        return client.fetch_day(platform.accounts(credentials), day)


def endpoint_variables() -> list[tuple[Platform[Any], Setting]]:
    """Every setting an environment variable can set, with its platform."""
    return [(p, s) for p in registry.platforms() for s in p.settings if s.env_var]


def endpoint_problems(environ: Mapping[str, str]) -> list[str]:
    """Why each set endpoint variable is unusable (none: all are well-formed)."""
    problems = []
    for _, setting in endpoint_variables():
        name = str(setting.env_var)
        value = environ.get(name, "").strip()
        if not value:
            continue
        if setting.kind == "api_version":
            if not _API_VERSION.fullmatch(value):
                problems.append(f"{name}={value!r} is not an API version such as v23 or v1.3")
            continue
        if setting.kind == "url":
            url = urlsplit(value)
            if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
                problems.append(
                    f"{name}={value!r} is not an http(s) base URL, e.g. https://host/path"
                )
    return problems


def ad_platforms_from_env(environ: Mapping[str, str] | None = None) -> AdPlatformsResource:
    """The resource with the endpoints the environment sets (the platforms' own otherwise)."""
    env = os.environ if environ is None else environ
    problems = endpoint_problems(env)
    if problems:
        raise EndpointSettingError("; ".join(problems))
    settings: dict[str, dict[str, str]] = {}
    for platform, setting in endpoint_variables():
        value = env.get(str(setting.env_var), "").strip()
        if value:
            settings.setdefault(platform.name, {})[setting.name] = value.rstrip("/")
    return AdPlatformsResource(settings=settings)
