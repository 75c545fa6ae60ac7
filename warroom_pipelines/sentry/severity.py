"""How bad an anomaly is, in order: the one list the Sentry writes, destinations filter on
(`min_severity`), the alerts compare (an update when it got worse) and the dashboard ranks."""

from __future__ import annotations

from collections.abc import Iterable

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
NO_SEVERITY = "none"  # nothing open: below every severity


def severity_rank(severity: str) -> int:
    """info < warning < critical; an unknown label is an error naming the label."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"unknown severity {severity!r}: expected one of {', '.join(SEVERITIES)}"
        ) from None


def ranks() -> dict[str, int]:
    """Severity -> rank, for a pandas `map` over a column of severities."""
    return {severity: rank for rank, severity in enumerate(SEVERITIES)}


def worst(severities: Iterable[object]) -> str:
    """The worst of some severities, NO_SEVERITY for none (labels it does not know rank
    below info)."""
    known = [str(s) for s in severities if str(s) in SEVERITIES]
    return max(known, key=severity_rank, default=NO_SEVERITY)
