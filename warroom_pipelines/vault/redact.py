"""The one scrubber: what every text that leaves the product passes through first.

Platforms sometimes quote a credential back in an error, and texts get cut for display, so a
cut made before masking leaves a secret's prefix behind. `redact` therefore masks every run
of `MIN_RUN` or more characters that also occurs in a known secret (so a secret the platform
itself truncated is masked too) and token-like parameters (`access_token=...`). Callers
cut, and apply their own display rules, only to what `redact` returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "****"
MIN_RUN = 8  # characters of a secret that may never appear together

_TOKEN_PARAM = re.compile(
    r"(?i)\b(access_token|appsecret_proof|refresh_token|client_secret|developer[-_]token)"
    r"(=|['\"]?\s*:\s*['\"]?)[^&\s\"',]+"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the secrets' runs and token-like parameters masked."""
    forms = {form for value in secrets if value for form in _encodings(value)}
    text = _mask_runs(text, {f for f in forms if len(f) >= MIN_RUN})
    for short in sorted((f for f in forms if len(f) < MIN_RUN), key=len, reverse=True):
        text = text.replace(short, MASK)
    return _TOKEN_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


def _encodings(value: str) -> set[str]:
    """The secret as sent in a query string or form as well as raw: platforms echo either."""
    return {value, quote(value, safe=""), quote_plus(value, safe="")}


def _mask_runs(text: str, secrets: set[str]) -> str:
    """Mask every stretch of `text` covered by a `MIN_RUN`-gram of a secret: any shared run
    of `MIN_RUN` or more characters is a union of such grams."""
    grams = {s[i : i + MIN_RUN] for s in secrets for i in range(len(s) - MIN_RUN + 1)}
    if not grams:
        return text
    masked = [False] * len(text)
    for i in range(len(text) - MIN_RUN + 1):
        if text[i : i + MIN_RUN] in grams:
            masked[i : i + MIN_RUN] = [True] * MIN_RUN
    out: list[str] = []
    for i, char in enumerate(text):
        if not masked[i]:
            out.append(char)
        elif i == 0 or not masked[i - 1]:
            out.append(MASK)
    return "".join(out)
