"""Errors raised by services and understood by every caller (views, API, CLI, importer)."""

from django.core.exceptions import ValidationError


class ConcurrentEditError(Exception):
    """The record changed since the caller read it; the caller must reload before saving."""

    def __init__(self, *, by: str, at, current_version: int):
        self.by = by
        self.at = at
        self.current_version = current_version
        super().__init__(f"changed by {by} at {at}")


class Errors:
    """Collects every bad field of one input, then raises them together as one ValidationError
    ({field: [messages]}), so a form or an API answer names all of them at once."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


__all__ = ["ConcurrentEditError", "Errors", "ValidationError"]
