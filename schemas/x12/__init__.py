"""X12 transaction maps in pyx12's XML format, generated from schemas/x12/source.

Public API: `MAP_DIR` (the folder to hand to pyx12 as ``map_path``), `map_file` and
`SUPPORTED_SETS`.  Data and lookup only: nothing here validates documents, and this
package never imports the translators or the gateway.
"""

from pathlib import Path

__all__ = ["MAP_DIR", "SUPPORTED_SETS", "map_file"]

MAP_DIR: Path = Path(__file__).resolve().parent / "maps"

_SHORT = {"004010": "4010", "005010": "5010"}


def _supported_sets() -> frozenset[str]:
    return frozenset(
        p.name.split(".")[0] for p in MAP_DIR.glob("*.*.xml") if p.name.split(".")[0].isdigit()
    )


SUPPORTED_SETS: frozenset[str] = _supported_sets()


def _family(version: str) -> str:
    head = version[:6]
    if head in _SHORT:
        return head
    return "005010" if head[:3] in ("005", "006", "007") else "004010"


def map_file(transaction_set: str, version: str) -> Path | None:
    """The map for a transaction set (ST01) under a GS08 version, or None if there is none.

    The exact version (``version[:6]``) is used when a map exists for it, else the nearest
    supported one (005/006/007 -> 005010, anything else -> 004010).  Acknowledgments
    (997, 999) fall back to the other version when only that one exists.
    """
    family = _family(version)
    candidates = [family]
    if transaction_set in ("997", "999"):
        candidates += [v for v in _SHORT if v != family]
    for candidate in candidates:
        path = MAP_DIR / f"{transaction_set}.{_SHORT[candidate]}.xml"
        if path.is_file():
            return path
    return None
