"""Canonical records as plain data: what the pipelines hand on and what the gateway stores.

Responsible for turning a mapper's tree of dicts into the exact Python form of a record
(``complete``: every field of the model present, in the model's order, defaults filled
in, an unknown key refused) and for writing that form as the record's JSON
(``record_json``: decimals as fixed-point strings, as ``Model.model_dump(mode="json")``
writes them). The Pydantic models in ``translators.records`` stay the definition of a
record (its JSON Schema, typed access through ``record_from_data``); this module reads the
plans it follows from them once, at import.

Why not validate every record with Pydantic: a model instance per party, line, reference
and id (about 32 a message) cost about a third of EDIFACT translation; the gateway then
dumped each one straight back to a dict to store it. Mappers are the only producers of
these trees, so what validation would check at run time is checked by the tests instead:
for every golden, corpus and Hypothesis-generated document, the data the pipelines yield
equals ``record_from_data(data).model_dump()`` key for key and in the same order.
It must not parse EDI, and it must not coerce values (a mapper that writes the wrong type
is a bug the tests are there to catch).
"""

from __future__ import annotations

import json
import typing
from decimal import Decimal
from typing import Any, Final

from translators.records import RECORD_ADAPTER, RECORD_MODELS, Record

__all__ = [
    "RecordData",
    "check_canonical",
    "complete",
    "plan_for",
    "record_from_data",
    "record_json",
]

RecordData = dict[str, Any]
"""A canonical record as JSON-shaped Python values (``Decimal`` for amounts)."""

# What a field holds, for ``complete``.
_VALUE: Final = 0  # a scalar, list[str] or dict[str, str]: taken as it is
_MODEL: Final = 1  # one nested record part (a dict)
_OPTIONAL_MODEL: Final = 2  # a nested part or None
_MODEL_LIST: Final = 3  # a list of nested parts

# How a missing field is filled.
_REQUIRED: Final = 0
_CONSTANT: Final = 1  # an immutable default (None, False, a literal)
_NEW_LIST: Final = 2
_NEW_DICT: Final = 3
_NEW_MODEL: Final = 4  # a nested part built from its own defaults


class _Missing:
    """Marks a field a tree did not give: filled from its default, or an error."""


_MISSING: Final = _Missing()


class Plan:
    """How to complete the data of one model.

    ``template`` holds every field in the model's order with its constant default, or
    ``_MISSING`` where the default is a new object or there is none; completing a tree
    is then a copy of the template updated with the tree (both done by the dict type in
    C), and a pass over only the ``special`` fields: those nested or without a constant
    default.
    """

    __slots__ = ("model_name", "names", "parts", "size", "special_defaults",
                 "special_kinds", "special_names", "special_parts", "template")

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.names: list[str] = []
        self.parts: list[Plan | None] = []
        self.template: dict[str, Any] = {}
        self.size = 0
        self.special_names: list[str] = []
        self.special_kinds: list[int] = []
        self.special_defaults: list[int] = []
        self.special_parts: list[Plan | None] = []


_PLANS: dict[Any, Plan] = {}


def _model_in(annotation: Any) -> tuple[int, Any]:
    """What kind of field ``annotation`` is, and the nested model class if any."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return _MODEL, annotation
    if origin is list and args and isinstance(args[0], type) and hasattr(args[0], "model_fields"):
        return _MODEL_LIST, args[0]
    if args and type(None) in args:
        models = [a for a in args if isinstance(a, type) and hasattr(a, "model_fields")]
        if len(models) == 1:
            return _OPTIONAL_MODEL, models[0]
    return _VALUE, None


def plan_for(model: Any) -> Plan:
    """The plan of a Pydantic record model (built on first use, then cached)."""
    found = _PLANS.get(model)
    if found is not None:
        return found
    plan = Plan(model.__name__)
    _PLANS[model] = plan
    for name, info in model.model_fields.items():
        kind, nested = _model_in(info.annotation)
        part = plan_for(nested) if nested is not None else None
        factory = info.default_factory
        constant: Any = _MISSING
        if info.is_required():
            how = _REQUIRED
        elif factory is list:
            how = _NEW_LIST
        elif factory is dict:
            how = _NEW_DICT
        elif factory is not None:
            if factory is not nested:
                raise TypeError(f"{model.__name__}.{name}: unsupported default factory")
            how = _NEW_MODEL
        else:
            how = _CONSTANT
            constant = info.default
            if isinstance(constant, (list, dict, set)):
                raise TypeError(f"{model.__name__}.{name}: mutable default")
        plan.names.append(name)
        plan.parts.append(part)
        plan.template[name] = constant
        if kind != _VALUE or how != _CONSTANT:
            plan.special_names.append(name)
            plan.special_kinds.append(kind)
            plan.special_defaults.append(how)
            plan.special_parts.append(part)
    plan.size = len(plan.template)
    return plan


def _complete(plan: Plan, tree: dict[str, Any]) -> dict[str, Any]:
    out = plan.template.copy()
    out.update(tree)
    if len(out) != plan.size:
        unknown = sorted(set(tree) - set(plan.template))
        raise ValueError(f"{plan.model_name}: unknown field(s) {', '.join(unknown)}")
    names = plan.special_names
    for i in range(len(names)):
        name = names[i]
        value = out[name]
        if value is _MISSING:
            how = plan.special_defaults[i]
            if how == _NEW_LIST:
                out[name] = []
            elif how == _NEW_DICT:
                out[name] = {}
            elif how == _NEW_MODEL:
                part = plan.special_parts[i]
                assert part is not None
                out[name] = _complete(part, {})
            else:
                raise ValueError(f"{plan.model_name}: required field {name!r} missing")
            continue
        kind = plan.special_kinds[i]
        if kind == _VALUE:
            continue
        part = plan.special_parts[i]
        assert part is not None
        if kind == _MODEL_LIST:
            items: list[Any] = value
            for j in range(len(items)):
                items[j] = _complete(part, items[j])
        elif value is not None or kind == _MODEL:
            out[name] = _complete(part, value)
    return out


def complete(model: Any, tree: dict[str, Any]) -> RecordData:
    """The record data of ``model`` (a class of ``translators.records``) from a mapper's
    tree: the same keys, in the same order, with the same defaults as
    ``model.model_validate(tree).model_dump()``; raises ``ValueError`` on a missing
    required field or an unknown one. Values are not converted."""
    return _complete(plan_for(model), tree)


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        # Fixed-point text keeps the places as sent ("10.50") and never emits "1E+3".
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not part of a canonical record")


def record_json(data: RecordData) -> str:
    """The record's JSON text, compact, as the gateway stores and delivers it."""
    return json.dumps(data, separators=(",", ":"), default=_json_default)


def record_from_data(data: RecordData) -> Record:
    """The typed (and validated) Pydantic record of record data."""
    return RECORD_ADAPTER.validate_python(data)


def _first_difference(found: Any, expected: Any, path: str) -> str | None:
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return f"{path}: {type(found).__name__} where an object belongs"
        if list(found) != list(expected):
            return f"{path}: keys {list(found)} where the model has {list(expected)}"
        for key, value in expected.items():
            where = _first_difference(found[key], value, f"{path}.{key}")
            if where is not None:
                return where
        return None
    if isinstance(expected, list):
        if not isinstance(found, list) or len(found) != len(expected):
            return f"{path}: {found!r} where the model has {expected!r}"
        for i, value in enumerate(expected):
            where = _first_difference(found[i], value, f"{path}[{i}]")
            if where is not None:
                return where
        return None
    if type(found) is not type(expected) or found != expected:
        return f"{path}: {found!r} ({type(found).__name__}) where the model has {expected!r}"
    return None


def check_canonical(data: RecordData) -> Record:
    """Validate record data and check that it is exactly what the model makes of it (same
    keys in the same order, same values of the same types); raise ``ValueError`` naming
    the first place it is not. The tests run every record the pipelines yield through
    this: it is the run-time validation that ``complete`` leaves out."""
    record = record_from_data(data)
    where = _first_difference(data, record.model_dump(), "record")
    if where is not None:
        raise ValueError(f"record data is not canonical: {where}")
    return record


for _model in RECORD_MODELS.values():
    plan_for(_model)
