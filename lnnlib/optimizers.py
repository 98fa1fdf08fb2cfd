"""Placeholder: filled by the helper that owns this module."""

__all__: list[str] = []
