"""What outbound generation shares across the standards (issue 18).

Responsible for ``GenerationError`` (records that cannot be written as a valid
interchange that reads back as given), ``record_tree`` (a record, model or plain data,
as the dict the body builders read), ``counted`` (the control numbers after the first
one given) and ``lost_fields`` (the read-back comparison: where a record's value does not
come back from translating what was written).
It must not know either standard's syntax: ``translators.x12.generate`` and
``translators.edifact.generate`` do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from pydantic import BaseModel

from translators.errors import Issue, TranslatorError
from translators.record_data import RecordData, record_from_data
from translators.records import RECORD_ADAPTER

__all__ = [
    "ENVELOPE_FIELDS",
    "Generated",
    "GenerationError",
    "UnwritableValue",
    "counted",
    "date_code",
    "lost_fields",
    "record_tree",
]

# Record keys that are the envelope's, not the document's: the generators take them from
# their envelope options and the read-back check does not compare them. ``unmapped``
# lists what an inbound mapper could not place: nothing to write.
ENVELOPE_FIELDS: Final = frozenset({"source", "unmapped", "schema_version"})


class GenerationError(TranslatorError):
    """The records could not be written as a valid interchange that reads back as given.

    ``issues`` are edigate's validation issues of what was written (located in the
    generated EDI); ``fields`` the record fields (``records[0].lines[2].quantity``) that
    have no form in the standard or did not read back as given.
    """

    def __init__(self, message: str, issues: Sequence[Issue] = (), fields: Sequence[str] = ()):
        detail = [message]
        detail += [f"{i.location}: {i.message}" for i in issues[:10]]
        detail += [f"field {f}" for f in fields[:10]]
        super().__init__("; ".join(detail))
        self.issues = list(issues)
        self.fields = list(fields)


class Generated(NamedTuple):
    """An interchange that checked, and each record as read back from it (in the order the
    records were given): the ``source`` of each is where its envelope put it."""

    data: bytes
    records: list[RecordData]


class UnwritableValue(ValueError):
    """A record value that has no form in the standard; ``field`` is its path in the
    record."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_REPEAT: Final = re.compile(r"(.+)_([2-9]|[1-9]\d+)")


def date_code(name: str, qualifiers: Mapping[str, str], field: str, what: str) -> str:
    """The qualifier (X12 374, EDIFACT 2005) of a canonical date name, by ``qualifiers``
    (name -> code, the inverse of the mappers' table): ``dtm_<code>`` keeps its code, a
    repeated name ``<name>_2`` is its name's. ``UnwritableValue`` naming ``field`` and
    ``what`` (the standard's element) when there is none."""
    repeated = _REPEAT.fullmatch(name)
    for candidate in (name, repeated.group(1) if repeated else ""):
        code = qualifiers.get(candidate)
        if code is not None:
            return code
        if candidate.startswith("dtm_") and candidate[4:].isalnum():
            return candidate[4:]
    raise UnwritableValue(field, f"date name {name!r} has no {what} qualifier")


def counted(first: str, n: int) -> str:
    """The ``n``-th control number after ``first``, zero-padded to its width."""
    if not first.isdigit():
        raise ValueError(f"control number {first!r} is not digits")
    return str(int(first) + n).zfill(len(first))


def record_tree(record: BaseModel | RecordData) -> dict[str, Any]:
    """The record as the body builders read it: validated, every field present. (The
    union's serializer writes the same data as ``model_dump``, at less cost.)"""
    model = record if isinstance(record, BaseModel) else record_from_data(record)
    tree: dict[str, Any] = RECORD_ADAPTER.dump_python(model)  # type: ignore[arg-type]
    return tree


def lost_fields(given: Any, found: Any, path: str = "") -> list[str]:
    """The paths under ``path`` where ``given`` has a value that ``found`` lacks or differs
    from. Values the reader derives and ``given`` leaves empty are not compared, nor the
    envelope fields of the record itself."""
    if given is None or given is False or given == "" or given == [] or given == {}:
        return []
    if path and given == found:  # the usual case, decided at C speed
        return []
    if isinstance(given, dict):
        if not isinstance(found, dict):
            return [path]
        out: list[str] = []
        for key, value in given.items():
            if path == "" and key in ENVELOPE_FIELDS:
                continue
            out += lost_fields(value, found.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(given, list):
        if not isinstance(found, list) or len(found) != len(given):
            return [path]
        return [p for i, v in enumerate(given) for p in lost_fields(v, found[i], f"{path}[{i}]")]
    return [] if given == found else [path]
