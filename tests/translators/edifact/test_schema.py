"""The EDIFACT message definitions: built files in sync with their source, loaded into the
structures the validator compiles, and chosen by UNH S009."""

from __future__ import annotations

from schemas.edifact import build
from translators.edifact.schema import GroupDef, SegmentRef, definition_for, load_directory


def test_built_directories_match_source() -> None:
    """``python -m schemas.edifact.build --check`` passes: no built file is stale."""
    assert build.stale_files(build.generate()) == []


def test_orders_d96a_structure() -> None:
    """ORDERS D.96A starts UNH, BGM M1, DTM M35 and its SG2 (NAD) holds SG3 (RFF)."""
    orders = definition_for("ORDERS", "D", "96A")
    assert orders is not None and orders.exact and orders.directory == "D96A"
    head = orders.root.children
    assert head[:3] == (SegmentRef("UNH", True, 1), SegmentRef("BGM", True, 1),
                        SegmentRef("DTM", True, 35))
    sg2 = next(c for c in head if isinstance(c, GroupDef) and c.group_id == "SG2")
    assert (sg2.trigger, sg2.mandatory, sg2.max_use) == ("NAD", False, 99)
    assert any(isinstance(c, GroupDef) and c.trigger == "RFF" for c in sg2.children)
    assert head[-1] == SegmentRef("UNT", True, 1)


def test_element_formats_and_components() -> None:
    """QTY C186 holds 6063 (M an..3) and 6060 (M n..15 in D.96A, an..35 in D.01B)."""
    d96a = load_directory("D96A").segments["QTY"].elements[0]
    assert d96a.id == "C186" and d96a.mandatory
    assert [(c.id, c.mandatory, c.format) for c in d96a.components] == [
        ("6063", True, "an..3"), ("6060", True, "n..15"), ("6411", False, "an..3")]
    d01b = load_directory("D01B").segments["QTY"].elements[0]
    assert d01b.components[1].format == "an..35"


def test_closed_code_lists_only_restrict() -> None:
    """UNS 0081 carries its closed list (D, S), D.96A's BGM 1001 its closed D.96A list;
    open lists like 2379 (DTM C507) restrict nothing."""
    directory = load_directory("D96A")
    assert directory.segments["UNS"].elements[0].codes == frozenset({"D", "S"})
    bgm = directory.segments["BGM"].elements[0]
    assert bgm.components[0].id == "1001" and bgm.components[0].codes is not None
    assert "220" in bgm.components[0].codes and "999" not in bgm.components[0].codes
    dtm = directory.segments["DTM"].elements[0]
    assert dtm.components[2].id == "2379" and dtm.components[2].codes is None
    assert directory.codes["1001"].codes["220"] == "Order"


def test_nearest_directory_for_other_releases() -> None:
    """Releases edigate has no directory of use the nearest one, marked inexact."""
    for release, expected in (("97B", "D96A"), ("93A", "D96A"), ("00A", "D01B"),
                              ("03B", "D01B")):
        found = definition_for("INVOIC", "D", release)
        assert found is not None and found.directory == expected and not found.exact
    assert definition_for("PRICAT", "D", "96A") is None
    assert definition_for("ORDERS", "S", "93A") is None


def test_contrl_by_syntax_version() -> None:
    """CONTRL 4:1 is the syntax version 4 definition; 2:2 and D:3 the version 3 one."""
    four = definition_for("CONTRL", "4", "1")
    three = definition_for("CONTRL", "D", "3")
    assert four is not None and four.directory == "4"
    assert three is not None and three.directory == "D96A"
    assert len(four.segments["UCI"].elements) == 9
    assert len(three.segments["UCI"].elements) == 7
