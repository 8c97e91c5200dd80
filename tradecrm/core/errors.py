"""Errors raised by services and understood by every caller (views, API, CLI, importer)."""

from django.core.exceptions import ValidationError


class ConcurrentEditError(Exception):
    """The record changed since the caller read it; the caller must reload before saving."""

    def __init__(self, *, by: str, at, current_version: int):
        self.by = by
        self.at = at
        self.current_version = current_version
        super().__init__(f"changed by {by} at {at}")


__all__ = ["ConcurrentEditError", "ValidationError"]
