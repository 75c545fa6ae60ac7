"""What every platform client shares, so that a platform module holds only its wire format.

A client reads one brand's accounts with that brand's own keys: the base keeps the brand,
the platform's config, the secrets its HTTP layers scrub and how they reach the network
(tests swap the session, the sleep, the clock and the random source), and turns a day's
read into a `ChannelFetch` (`report.fetch_accounts`). A platform says how it spells an
account id and how it reads one account's local rows.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import ClassVar, Generic, Protocol, TypedDict, TypeVar, Unpack

import requests

from warroom_pipelines.channels.http import ChannelHttp, Reply, RetryPolicy, Verdict
from warroom_pipelines.channels.report import (
    Account,
    AccountStats,
    ChannelFetch,
    LocalRow,
    fetch_accounts,
)
from warroom_pipelines.vault.secret import Secret


class ApiConfig(Protocol):
    """The part of a platform's config the base reads."""

    @property
    def base_url(self) -> str: ...

    @property
    def api_version(self) -> str: ...

    @property
    def retry(self) -> RetryPolicy: ...


class Transport(TypedDict, total=False):
    """How a client's HTTP layers reach the network."""

    session: requests.Session | None
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    rng: random.Random | None


ConfigT = TypeVar("ConfigT", bound=ApiConfig)


class PlatformClient(ABC, Generic[ConfigT]):
    """Reads one brand's accounts on one platform (a `report.ChannelClient`)."""

    channel: ClassVar[str]
    source: ClassVar[str]  # the `source` of the rows it reads

    def __init__(
        self,
        *,
        brand: str,
        config: ConfigT,
        secrets: Sequence[Secret],
        **transport: Unpack[Transport],
    ) -> None:
        self.brand = brand
        self.config = config
        self._clock = transport.get("clock", time.monotonic)
        self._secrets = tuple(secrets)
        self._transport = transport
        self._https: list[ChannelHttp] = []

    def http(self, classifier: Callable[[Reply], Verdict]) -> ChannelHttp:
        """An HTTP layer that retries by the platform's `classifier` and scrubs its secrets."""
        http = ChannelHttp(
            brand=self.brand,
            channel=self.channel,
            classifier=classifier,
            policy=self.config.retry,
            secrets=self._secrets,
            **self._transport,
        )
        self._https.append(http)
        return http

    def scrub(self, secret: Secret) -> None:
        """Also scrub a value learned later (a freshly minted access token) everywhere."""
        for http in self._https:
            http.add_secret(secret)

    def url(self, path: str) -> str:
        """`path` under the configured base URL and API version."""
        return f"{self.config.base_url.rstrip('/')}/{self.config.api_version}/{path}"

    def fetch_day(
        self, account_ids: Sequence[str], day: date, as_of: datetime | None = None
    ) -> ChannelFetch:
        """Campaign-hours of the UTC day for each account that have ended by `as_of`
        (default: now)."""
        ids = [self.account_id(raw) for raw in account_ids]
        return fetch_accounts(self.channel, self.source, ids, day, self.read_account, as_of)

    def bare(self, account_id: str) -> Account:
        """The account before its currency and time zone are known."""
        return Account(self.brand, self.channel, account_id)

    @abstractmethod
    def account_id(self, raw: str) -> str:
        """The platform's spelling of an account id; a `ChannelError` when it is none."""

    @abstractmethod
    def read_account(
        self, account_id: str, day: date, stats: AccountStats
    ) -> tuple[Account, list[LocalRow]]:
        """One account with its currency and zone, and its local rows covering the UTC day."""


class TokenClient(PlatformClient[ConfigT]):
    """A platform that signs every call with the brand's one long-lived access token."""

    def __init__(
        self,
        *,
        brand: str,
        access_token: Secret,
        config: ConfigT,
        **transport: Unpack[Transport],
    ) -> None:
        super().__init__(brand=brand, config=config, secrets=(access_token,), **transport)
        self._token = access_token
        self._http = self.http(self.classifier())

    @abstractmethod
    def classifier(self) -> Callable[[Reply], Verdict]:
        """How the platform's replies read: OK, rate-limited, transient, refused."""
