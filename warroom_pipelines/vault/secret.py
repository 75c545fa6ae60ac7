"""A secret value that cannot leak by being printed, logged or put in an exception."""

from __future__ import annotations


class Secret:
    """Holds a credential; repr/str are masked, the value is read only with `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        """A hint safe to show: the last 4 characters of long values, nothing of short ones."""
        return f"****{self._value[-4:]}" if len(self._value) >= 16 else "****"

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would carry the plain value into Dagster's storage: refuse it.
        raise TypeError("Secret values are not serialisable")
