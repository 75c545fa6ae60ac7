"""What War Room knows about one ad platform, in one record.

Each platform module ends with its `PLATFORM`; the registry (`channels/registry.py`) collects
them, and the resource, the schedules, the Sentry's settle lags, the demo, the dashboard, the
doctor and the docs read the records instead of naming the platforms one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, Literal, TypeVar

from warroom_pipelines.channels.report import ChannelClient
from warroom_pipelines.vault.models import Integration

SettingKind = Literal["url", "api_version", "text"]
C = TypeVar("C", bound=Integration)


@dataclass(frozen=True)
class Setting:
    """One endpoint setting: its default, and the variable that replaces it when set."""

    name: str  # the key in AdPlatformsResource.settings[<platform>], e.g. "base_url"
    default: str
    env_var: str | None = None  # read when the definitions load; None: run config only
    kind: SettingKind = "text"  # how an environment value is checked


@dataclass(frozen=True)
class DemoFunnel:
    """How the demo source imitates the platform: (low, high) campaign-level base rates."""

    ctr: tuple[float, float] = (0.008, 0.02)
    cpc: tuple[float, float] = (0.45, 1.6)
    cvr: tuple[float, float] = (0.015, 0.045)
    aov: tuple[float, float] = (40.0, 120.0)
    daily_impressions: float = 60_000.0


@dataclass(frozen=True)
class Platform(Generic[C]):
    """One ad platform: how it is named, how long it revises and settles, how to read it.

    `connect(brand, credentials, settings)` builds the brand's client from its decrypted
    credentials (an instance of `credentials`) and the resolved settings (every `Setting` by
    name); `accounts(credentials)` names the accounts that client reads.
    """

    name: str  # the channel: asset key, vault integration, warehouse value
    label: str  # how people name it, on the pages and in health sentences
    restatement_days: int  # days before yesterday the daily restatement re-pulls
    settle_lag: timedelta  # how long after an hour ends its hourly report is complete
    credentials: type[C]
    settings: tuple[Setting, ...]
    connect: Callable[[str, C, Mapping[str, str]], ChannelClient]
    accounts: Callable[[C], Sequence[str]]
    demo: DemoFunnel = field(default_factory=DemoFunnel)

    def __post_init__(self) -> None:
        if self.credentials.name != self.name:
            raise ValueError(
                f"platform {self.name!r} reads credentials of integration "
                f"{self.credentials.name!r}; they must share the name"
            )
        if not any(s.name == "base_url" and s.env_var for s in self.settings):
            # `warroom doctor` probes it and names the variable that moves it.
            raise ValueError(f"platform {self.name!r} has no base_url setting with an env_var")
