"""The ad platforms War Room reads: one record each (`channels/platform.py`), collected here.

Every module of this package that defines a `PLATFORM` record is a platform; nothing else
has to name it. The built-in platforms keep the order in which they were added
(`_FIRST`): the demo source draws its incidents by position, so the order is part of its
deterministic output. Newer platforms follow in module order. A platform defined outside the
package (a deployment's own module) joins with `register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta
from typing import Any

from warroom_pipelines.channels.platform import Platform

# The platforms of the first release, in the order the demo source's draws depend on.
_FIRST = ("meta_ads", "google_ads", "tiktok_ads")
_PLATFORMS: dict[str, Platform[Any]] = {}


class UnknownPlatform(ValueError):
    """A channel that no registered platform is called."""


def register(platform: Platform[Any]) -> Platform[Any]:
    """Add a platform (after those already registered); a name is registered once."""
    known = _PLATFORMS.get(platform.name)
    if known is not None and known is not platform:
        raise ValueError(f"another platform is already registered as {platform.name!r}")
    _PLATFORMS[platform.name] = platform
    return platform


def unregister(name: str) -> None:
    """Remove a platform that `register` added (the built-in ones stay)."""
    if name in _FIRST:
        raise ValueError(f"{name!r} is a built-in platform")
    _PLATFORMS.pop(name, None)


def platforms() -> tuple[Platform[Any], ...]:
    return tuple(_PLATFORMS.values())


def names() -> tuple[str, ...]:
    """Every platform's channel name, in registry order."""
    return tuple(_PLATFORMS)


def platform(name: str) -> Platform[Any]:
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise UnknownPlatform(
            f"unknown ad platform {name!r}; expected one of {', '.join(_PLATFORMS)}"
        ) from None


def label(channel: str) -> str:
    """How people name the channel (the channel itself when no platform is called so)."""
    known = _PLATFORMS.get(channel)
    return channel if known is None else known.label


def restatement_days() -> dict[str, int]:
    return {p.name: p.restatement_days for p in _PLATFORMS.values()}


def settle_lag(channel: str) -> timedelta | None:
    known = _PLATFORMS.get(channel)
    return None if known is None else known.settle_lag


def _discover() -> None:
    """Register every `PLATFORM` of this package's modules, the first release's first."""
    import warroom_pipelines.channels as package

    found: dict[str, Platform[Any]] = {}
    for module in pkgutil.iter_modules(package.__path__):
        record = getattr(
            importlib.import_module(f"{package.__name__}.{module.name}"), "PLATFORM", None
        )
        if isinstance(record, Platform):
            found[record.name] = record
    for name in (*[n for n in _FIRST if n in found], *found):
        register(found[name])


_discover()
