"""UN/EDIFACT message definitions (directories D.96A and D.01B, syntax version 4 CONTRL),
built from schemas/edifact/source into schemas/edifact/directories.

Public API: `DIRECTORY_DIR`, `DIRECTORIES` and `directory_file`. Data and lookup only:
nothing here validates documents, and this package never imports the translators or the
gateway. See README.md beside this file for where each part of the data came from.
"""

from pathlib import Path

__all__ = ["DIRECTORIES", "DIRECTORY_DIR", "directory_file"]

DIRECTORY_DIR: Path = Path(__file__).resolve().parent / "directories"

DIRECTORIES: tuple[str, ...] = ("D96A", "D01B")


def directory_file(name: str) -> Path:
    """The built file of a directory: ``"D96A"``, ``"D01B"`` or ``"4"`` (syntax 4 CONTRL)."""
    return DIRECTORY_DIR / ("syntax4.json" if name == "4" else f"{name.lower()}.json")
