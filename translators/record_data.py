"""Canonical records as plain data: what the pipelines hand on and what the gateway stores.

Responsible for turning a mapper's tree of dicts into the exact Python form of a record
(``complete``: every field of the model present, in the model's order, defaults filled
in, an unknown key refused) and for writing that form as the record's JSON
(``record_json``: decimals as fixed-point strings, as ``Model.model_dump(mode="json")``
writes them). The Pydantic models in ``translators.records`` stay the definition of a
record (its JSON Schema, typed access through ``record_from_data``); the plans this module
follows are generated from them into ``translators/record_plans.py`` (``python -m
translators.record_data``; ``--check`` in ``make lint`` and a test keep it current), so
that translating never imports Pydantic.

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
import sys
import typing
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from translators.record_plans import PLANS

if TYPE_CHECKING:
    from translators.records import Record

__all__ = [
    "RecordData",
    "check_canonical",
    "complete",
    "decimal_text",
    "record_from_data",
    "record_json",
    "render_plans",
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

    __slots__ = ("model_name", "size", "special_defaults", "special_kinds", "special_names",
                 "special_parts", "template")

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name
        self.template: dict[str, Any] = {}
        self.size = 0
        self.special_names: list[str] = []
        self.special_kinds: list[int] = []
        self.special_defaults: list[int] = []
        self.special_parts: list[Plan | None] = []


def _build_plans(table: dict[str, list[tuple[str, int, int, str, Any]]]) -> dict[str, Plan]:
    plans = {name: Plan(name) for name in table}
    for name, fields in table.items():
        plan = plans[name]
        for field, kind, how, part_name, constant in fields:
            part = plans[part_name] if part_name else None
            plan.template[field] = constant if how == _CONSTANT else _MISSING
            if kind != _VALUE or how != _CONSTANT:
                plan.special_names.append(field)
                plan.special_kinds.append(kind)
                plan.special_defaults.append(how)
                plan.special_parts.append(part)
        plan.size = len(plan.template)
    return plans


_PLANS: Final = _build_plans(PLANS)


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


def complete(model: str, tree: dict[str, Any]) -> RecordData:
    """The record data of ``model`` (a class name of ``translators.records``, such as
    ``"PurchaseOrder"``) from a mapper's tree: the same keys, in the same order, with the
    same defaults as ``PurchaseOrder.model_validate(tree).model_dump()``; raises
    ``ValueError`` on a missing required field or an unknown one. Values are not
    converted: the tests check them (``check_canonical``)."""
    return _complete(_PLANS[model], tree)


def decimal_text(value: Decimal) -> str:
    """A decimal's JSON text: fixed-point keeps the places as sent ("10.50") and never
    emits "1E+3". The models serialise ``Amount`` with this too."""
    return format(value, "f")


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    raise TypeError(f"{type(value).__name__} is not part of a canonical record")


def record_json(data: RecordData) -> str:
    """The record's JSON text, compact, as the gateway stores and delivers it."""
    return json.dumps(data, separators=(",", ":"), default=_json_default)


def record_from_data(data: RecordData) -> Record:
    """The typed (and validated) Pydantic record of record data."""
    from translators.records import RECORD_ADAPTER

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


# --- the generated plans -----------------------------------------------------------------

_PLANS_FILE = Path(__file__).resolve().parent / "record_plans.py"


def _field_of(annotation: Any) -> tuple[int, Any]:
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


def render_plans() -> str:
    """The text of ``translators/record_plans.py``, from the Pydantic models."""
    from translators.records import RECORD_MODELS

    table: dict[str, list[tuple[str, int, int, str, Any]]] = {}

    def visit(model: Any) -> None:
        if model.__name__ in table:
            return
        fields: list[tuple[str, int, int, str, Any]] = []
        table[model.__name__] = fields
        for name, info in model.model_fields.items():
            kind, nested = _field_of(info.annotation)
            factory = info.default_factory
            constant: Any = None
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
                if not isinstance(constant, (str, int, bool, type(None))):
                    raise TypeError(f"{model.__name__}.{name}: default {constant!r} is not "
                                    "an immutable literal")
            fields.append((name, kind, how, nested.__name__ if nested is not None else "",
                           constant))
            if nested is not None:
                visit(nested)

    for model in RECORD_MODELS.values():
        visit(model)
    lines = [
        '"""Generated by ``python -m translators.record_data`` from ``translators/records.py``:',
        "do not edit. For each record model, its fields in order as (name, kind, default,",
        "nested model, constant default); the codes are those of ``translators.record_data``.",
        '"""',
        "",
        "from typing import Any",
        "",
        "PLANS: dict[str, list[tuple[str, int, int, str, Any]]] = {",
    ]
    for model_name in sorted(table):
        lines.append(f"    {model_name!r}: [")
        lines.extend(f"        {field!r}," for field in table[model_name])
        lines.append("    ],")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m translators.record_data [--check]``: write the plans, or exit 1 when
    the committed ones differ from what the models give."""
    args = sys.argv[1:] if argv is None else argv
    text = render_plans()
    current = _PLANS_FILE.read_text("utf-8") if _PLANS_FILE.is_file() else ""
    if "--check" in args:
        if current != text:
            print(f"stale: {_PLANS_FILE.name}; run: python -m translators.record_data",
                  file=sys.stderr)
            return 1
        return 0
    _PLANS_FILE.write_text(text, "utf-8")
    print(f"wrote {_PLANS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
