"""Growing the record tree a mapper builds: dicts holding lists and dicts.

Responsible for the two moves the mappers make on that tree segment after segment: append
an item to a list field, and set a key of a dict field unless it is already set. Written
with typed locals because a field read from a ``dict[str, Any]`` is ``Any``, and the
compiled build calls a method of an ``Any`` value by looking its name up, several times
the cost of the list or dict operation itself.
It must not know record models or segments.
"""

from __future__ import annotations

from typing import Any

__all__ = ["append_to", "set_once"]


def append_to(parent: dict[str, Any], field: str, item: Any) -> None:
    """Append ``item`` to list ``field`` of ``parent``, creating the list when absent."""
    items: list[Any] = parent.setdefault(field, [])
    items.append(item)


def set_once(parent: dict[str, Any], field: str, key: str, value: Any) -> None:
    """Set ``key`` of dict ``field`` of ``parent`` unless it is set, creating the dict when
    absent."""
    found: dict[str, Any] = parent.setdefault(field, {})
    found.setdefault(key, value)
