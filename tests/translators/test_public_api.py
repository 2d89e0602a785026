"""The public facade of ``translators``: its exact ``__all__`` and that importing the reader stays
cheap (no pydantic)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import translators

PUBLIC = [
    "AckOptions",
    "CONTRLOptions",
    "Delimiters",
    "DocumentOutcome",
    "EDIFACTReader",
    "EDISyntaxError",
    "GroupOutcome",
    "InterchangeOutcome",
    "Issue",
    "MessageOutcome",
    "Record",
    "Segment",
    "Source",
    "TransactionOutcome",
    "TranslatorError",
    "X12Reader",
    "build_acknowledgment",
    "build_contrl",
    "translate_edifact",
    "translate_x12",
]


def test_all_is_pinned() -> None:
    """``__all__`` is exactly the reviewed list, in order: changing it is an API change."""
    assert translators.__all__ == PUBLIC


def test_every_public_name_resolves() -> None:
    """Every name in ``__all__`` resolves; classes and functions are ours and named as exported."""
    for name in translators.__all__:
        value = getattr(translators, name)
        assert value is not None, name
        if isinstance(value, type) or inspect.isfunction(value):
            assert value.__module__.startswith("translators."), name
            assert value.__name__ == name
    # ``Record`` is the discriminated union of the record models, not a class.
    assert "PurchaseOrder" in repr(translators.Record)


def test_unknown_name_is_an_attribute_error() -> None:
    """A name outside the facade raises AttributeError instead of importing something private."""
    try:
        translators.walk  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "walk" in str(exc)
    else:
        raise AssertionError("translators.walk should not resolve")


def test_dir_lists_the_public_names() -> None:
    """``dir(translators)`` shows the public names, so completion does not offer internals."""
    assert sorted(dir(translators)) == sorted(PUBLIC)


def test_reader_import_does_not_load_pydantic() -> None:
    """``import translators.x12.reader`` and the facade leave pydantic and the mappers unloaded."""
    code = textwrap.dedent(
        """
        import sys
        import translators
        import translators.x12.reader
        from translators import X12Reader, Delimiters
        list(X12Reader(b""))
        heavy = sorted(
            m for m in sys.modules
            if m.split(".")[0] == "pydantic"
            or m.startswith(("translators.records", "translators.x12.mappers"))
        )
        print(",".join(heavy))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "", done.stdout


def test_subprocess_check_can_see_pydantic() -> None:
    """The import probe above would notice pydantic: asking for ``Record`` does load it."""
    code = "import sys, translators; translators.Record; print('pydantic' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "True"
