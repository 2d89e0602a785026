"""Generated schema files: write them, or check that the committed ones are up to date.

Responsible for the command line every schema build shares (``--check`` lists stale files
and exits 1, as `make lint` runs it; without it the files are rewritten and leftovers
removed). It must not know what a build generates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["stale_files", "write_or_check"]


def stale_files(out: Mapping[str, str], directory: Path, pattern: str) -> list[str]:
    """Names in ``out`` whose file differs or is missing, and files no longer generated."""
    stale = [
        name for name, text in out.items()
        if not (directory / name).is_file() or (directory / name).read_text("utf-8") != text
    ]
    if directory.is_dir():
        stale += [p.name for p in directory.glob(pattern) if p.name not in out]
    return sorted(set(stale))


def write_or_check(out: Mapping[str, str], directory: Path, *, pattern: str, module: str,
                   description: str, argv: Sequence[str] | None = None) -> int:
    """The ``main`` of a schema build: ``--check`` or write ``out`` into ``directory``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 and list stale files instead of writing"
    )
    args = parser.parse_args(argv)
    shown = directory.relative_to(Path(__file__).resolve().parent.parent) \
        if directory.is_relative_to(Path(__file__).resolve().parent.parent) else directory
    stale = stale_files(out, directory, pattern)
    if args.check:
        for name in stale:
            print(f"stale: {shown}/{name}", file=sys.stderr)
        if stale:
            print(f"run: python -m {module}", file=sys.stderr)
        return 1 if stale else 0
    directory.mkdir(exist_ok=True)
    for name, text in out.items():
        (directory / name).write_text(text, encoding="utf-8")
    for name in stale:
        if name not in out:
            (directory / name).unlink()
    print(f"wrote {len(out)} files to {shown}")
    return 0
