"""The generated X12 maps: up to date, loadable by pyx12, and right about real documents."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pyx12 import map_if, params, x12n_document

from schemas.x12 import MAP_DIR, SUPPORTED_SETS, build, map_file

DATA = Path(__file__).resolve().parents[1] / "data" / "x12"
VALID = sorted((DATA / "valid").glob("*.edi"))
INVALID = sorted((DATA / "invalid").glob("*.edi"))
MAPS = sorted(
    p.name for p in MAP_DIR.glob("*.xml") if p.name not in ("maps.xml", "dataele.xml", "codes.xml")
)


def _validate(path: Path) -> tuple[bool, list[str]]:
    """Run pyx12's full validator with our maps; return (valid, error log lines)."""
    records: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = _Collect(level=logging.ERROR)
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        ok = x12n_document.x12n_document(
            params.params(), str(path), None, None, None, map_path=str(MAP_DIR)
        )
    finally:
        logger.removeHandler(handler)
    return ok, records


def test_generated_maps_are_up_to_date() -> None:
    """The committed maps are exactly what the source generates (build --check passes)."""
    assert build.main(["--check"]) == 0, "run: python -m schemas.x12.build"


def test_generation_is_deterministic() -> None:
    """Two generations from the same source give byte-identical files."""
    assert build.generate() == build.generate()


@pytest.mark.parametrize("name", MAPS)
def test_pyx12_loads_every_map(name: str) -> None:
    """pyx12's map loader accepts every generated map and finds the ISA segment in it."""
    root = map_if.load_map_file(name, params.params(), str(MAP_DIR))
    assert root.getnodebypath("/ISA_LOOP/ISA") is not None


def test_map_index_points_at_existing_files() -> None:
    """Every file named in maps.xml exists in the map folder."""
    from pyx12.map_index import map_index

    index = map_index(str(MAP_DIR))
    assert index.maps
    for entry in index.maps:
        assert (MAP_DIR / str(entry["map_file"])).is_file(), entry


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_documents_pass_pyx12(path: Path) -> None:
    """Each hand-written valid document validates under pyx12 with zero errors."""
    ok, errors = _validate(path)
    assert ok, errors


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_broken_documents_fail_pyx12(path: Path) -> None:
    """Each deliberately broken document is reported, with the error its name announces."""
    ok, errors = _validate(path)
    assert not ok
    expected = path.stem.split(".")[-1].replace("_", " ")
    assert any(expected in e.lower() for e in errors), errors


def test_map_file_prefers_exact_then_nearest_version() -> None:
    """map_file picks the exact GS08 version, else 005/006/007 -> 005010 and others -> 004010."""
    assert map_file("997", "004010") == MAP_DIR / "997.4010.xml"
    assert map_file("997", "005010X231A1") == MAP_DIR / "997.5010.xml"
    assert map_file("999", "004010") == MAP_DIR / "999.5010.xml"
    assert map_file("999", "006020") == MAP_DIR / "999.5010.xml"
    assert map_file("123", "004010") is None
    assert {"997", "999"} <= SUPPORTED_SETS


def test_map_index_routes_retail_groups_to_nearest_version() -> None:
    """maps.xml sends (ISA12, GS08, GS01) to the nearest version's map, FA/005010 to FA.5010."""
    from pyx12.map_index import map_index

    index = map_index(str(MAP_DIR))
    assert index.get_filename("00401", "004010VICS", "PO") == "850.4010.xml"
    assert index.get_filename("00401", "004010", "OW") == "850.4010.xml"
    assert index.get_filename("00501", "005010", "SH") == "856.5010.xml"
    assert index.get_filename("00401", "006020", "IN") == "810.5010.xml"
    assert index.get_filename("00501", "005010", "FA") == "FA.5010.xml"
    assert index.get_filename("00401", "004010", "FA") == "997.4010.xml"
    assert index.get_filename("00401", "004010", "PD") == "852.4010.xml"
    for set_id in ("850", "810", "856", "855", "860", "846", "852"):
        assert map_file(set_id, "004010") == MAP_DIR / f"{set_id}.4010.xml"
        assert map_file(set_id, "005010VICS") == MAP_DIR / f"{set_id}.5010.xml"
