"""Canonical records as plain data: what the pipelines hand on and what the gateway stores.

Responsible for turning a mapper's tree of dicts into the exact Python form of a record
(``complete``: every field of the model present, in the model's order, defaults filled
in, an unknown key refused) and for writing that form as the record's JSON
(``record_json``: decimals as fixed-point strings, as ``Model.model_dump(mode="json")``
writes them; the text of ``json.dumps``, written faster by orjson). The Pydantic models in
``translators.records`` stay the definition of a record (its JSON Schema, typed access
through ``record_from_data``); the completing
function of each model is generated from them into ``translators/record_plans.py``
(``python -m translators.record_data``; ``--check`` in ``make lint`` and a test keep it
current), so that translating never imports Pydantic.

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

import orjson

from translators.record_plans import COMPLETERS

if TYPE_CHECKING:
    from translators.records import Record

__all__ = [
    "RecordData",
    "check_canonical",
    "complete",
    "decimal_text",
    "new_record",
    "record_from_data",
    "record_json",
    "reference_json",
    "render_plans",
]

RecordData = dict[str, Any]
"""A canonical record as JSON-shaped Python values (``Decimal`` for amounts)."""

# What a field holds, for the generated completers.
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


def complete(model: str, tree: dict[str, Any]) -> RecordData:
    """The record data of ``model`` (a class name of ``translators.records``, such as
    ``"PurchaseOrder"``) from a mapper's tree: the same keys, in the same order, with the
    same defaults as ``PurchaseOrder.model_validate(tree).model_dump()``; raises
    ``ValueError`` on a missing required field or an unknown one. Values are not
    converted: the tests check them (``check_canonical``)."""
    return COMPLETERS[model](tree)


def new_record(source: RecordData, **fields: Any) -> dict[str, Any]:
    """The start of a mapper's tree of a record: its ``source`` and the collections every
    record kind has (parties, references, dates, notes), then ``fields``."""
    tree: dict[str, Any] = {"source": source, "parties": [], "references": [], "dates": {},
                            "notes": []}
    tree.update(fields)
    return tree


def decimal_text(value: Decimal) -> str:
    """A decimal's JSON text: fixed-point keeps the places as sent ("10.50") and never
    emits "1E+3". The models serialise ``Amount`` with this too."""
    text = str(value)
    # ``str`` writes the fixed-point text itself unless the exponent is positive or the
    # value is below 1E-6 in magnitude, the only cases with an "E"; it is the cheaper call.
    return text if "E" not in text else format(value, "f")


# Final: the compiled build keeps the class in a C variable instead of looking its name up
# in the module's dict for every decimal written.
_DECIMAL: Final = Decimal


def _json_default(value: object) -> str:
    if isinstance(value, _DECIMAL):
        return decimal_text(value)
    raise TypeError(f"{type(value).__name__} is not part of a canonical record")


# Dates, times and dataclasses go to ``_json_default`` (which refuses them, as json.dumps
# does) instead of being written by orjson in a form of its own.
_ORJSON_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def record_json(data: RecordData) -> str:
    """The record's JSON text, compact, as the gateway stores and delivers it: keys in the
    order the record has them, no spaces, decimals as ``decimal_text`` writes them, text
    as UTF-8 (only ``"``, ``\\`` and control characters escaped, as JSON requires).

    For record data (what ``check_canonical`` lets through: dicts, lists, str, int,
    bool, None and Decimal) the text is ``reference_json(data)`` byte for byte, which
    tests/translators/test_record_json.py holds over corpus, hand-written and generated
    records; orjson writes it, in C. Whatever orjson refuses (an integer beyond 64 bits,
    a lone surrogate, a type that is no part of a record) is left to the reference, which
    writes it or raises as json.dumps does. (A float is no part of a record either, and
    orjson writes some floats differently, "1e16" for "1e+16".)
    """
    try:
        return orjson.dumps(data, default=_json_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        return reference_json(data)


def reference_json(data: RecordData) -> str:
    """What ``record_json`` writes, by the standard library's ``json.dumps``: its
    definition, kept for the tests and for what orjson refuses."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default)


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


def _completer_lines(model: str, fields: list[tuple[str, int, int, str, Any]]) -> list[str]:
    """The completing function of one model: a copy of its template updated with the
    tree, then one step for each field that is nested or has no constant default."""
    template = f"_T_{model}"
    lines = [
        f"def _complete_{model}(tree: dict[str, Any]) -> dict[str, Any]:",
        f"    out = {template}.copy()",
        "    out.update(tree)",
        f"    if len(out) != {len(fields)}:",
        f"        raise _unknown({model!r}, tree, {template})",
    ]
    have_v = False
    have_items = False
    for name, kind, how, part, _constant in fields:
        if kind == _VALUE and how == _CONSTANT:
            continue
        key = repr(name)
        fill = {
            _REQUIRED: f"raise _required({model!r}, {key})",
            _NEW_LIST: f"out[{key}] = []",
            _NEW_DICT: f"out[{key}] = {{}}",
            _NEW_MODEL: f"out[{key}] = _complete_{part}({{}})",
        }.get(how)
        if kind == _VALUE:
            if fill is None or how == _NEW_MODEL:
                raise TypeError(f"{model}.{name}: unsupported default")
            lines += [f"    if out[{key}] is _MISSING:", f"        {fill}"]
            continue
        lines.append(f"    {'v' if have_v else 'v: Any'} = out[{key}]")
        have_v = True
        if kind == _MODEL_LIST:
            present = [f"{'items' if have_items else 'items: list[Any]'} = v",
                       "for j in range(len(items)):",
                       f"    items[j] = _complete_{part}(items[j])"]
            have_items = True
        else:
            present = [f"out[{key}] = _complete_{part}(v)"]
        if fill is None:  # a constant default: never missing
            if kind == _OPTIONAL_MODEL:
                lines += ["    if v is not None:", *(f"        {x}" for x in present)]
            else:
                lines += [f"    {x}" for x in present]
            continue
        lines += ["    if v is _MISSING:", f"        {fill}"]
        lines.append("    elif v is not None:" if kind == _OPTIONAL_MODEL else "    else:")
        lines += [f"        {x}" for x in present]
    lines.append("    return out")
    return lines


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
        "do not edit. For each record model, its template (every field in the model's order",
        "with its constant default, or ``_MISSING``) and the function that completes a",
        "mapper's tree of it (see ``translators.record_data.complete``). Straight-line code",
        "per model: compiled, it has no tables of field kinds to walk.",
        '"""',
        "",
        "from collections.abc import Callable",
        "from typing import Any, Final",
        "",
        "",
        "class _Missing:",
        '    """Marks a field a tree did not give: filled from its default, or an error."""',
        "",
        "",
        "_MISSING: Final = _Missing()",
        "",
        "",
        "def _unknown(model: str, tree: dict[str, Any], template: dict[str, Any]) -> ValueError:",
        "    unknown = sorted(set(tree) - set(template))",
        "    return ValueError(f\"{model}: unknown field(s) {', '.join(unknown)}\")",
        "",
        "",
        "def _required(model: str, name: str) -> ValueError:",
        '    return ValueError(f"{model}: required field {name!r} missing")',
    ]
    for model_name in sorted(table):
        lines += ["", "", f"_T_{model_name}: Final[dict[str, Any]] = {{"]
        lines += [f"    {name!r}: {'_MISSING' if how != _CONSTANT else repr(constant)},"
                  for name, _kind, how, _part, constant in table[model_name]]
        lines += ["}", "", ""]
        lines += _completer_lines(model_name, table[model_name])
    lines += ["", "", "Completer = Callable[[dict[str, Any]], dict[str, Any]]",
              "COMPLETERS: Final[dict[str, Completer]] = {"]
    lines += [f"    {m!r}: _complete_{m}," for m in sorted(table)]
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
