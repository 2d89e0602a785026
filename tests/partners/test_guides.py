"""Implementation guides beside partner profiles: named in ``[guides]``, loaded and
validated with the registry, each problem located by file and key; the repository's
example (Acme Retail's 856) loads."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from partners import PartnerConfigError, PartnerRegistry

REPO = Path(__file__).resolve().parents[2]

PROFILE = """
    id = "guided-partner"
    name = "Guided Partner"

    [x12]
    qualifier = "ZZ"
    id = "GUIDED"

    [guides]
    "856" = "guides/856.toml"
"""

GUIDE = """
    transaction = "856"
    inbound = "warning"

    [segments.TD5]
    usage = "required"

    [elements.TD101]
    codes = ["CTN25"]

    [[require]]
    segment = "REF"
    where = { REF01 = "IA" }
    message = "vendor number"
"""


def _partners(tmp_path: Path, guide: str = GUIDE, profile: str = PROFILE) -> Path:
    (tmp_path / "guides").mkdir(exist_ok=True)
    (tmp_path / "guided-partner.toml").write_text(textwrap.dedent(profile), encoding="utf-8")
    (tmp_path / "guides" / "856.toml").write_text(textwrap.dedent(guide), encoding="utf-8")
    return tmp_path


def _problems(directory: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(PartnerConfigError) as caught:
        PartnerRegistry.load(directory)
    return [(Path(p.source).name, p.key, p.message) for p in caught.value.problems]


def test_a_guide_loads_with_its_profile(tmp_path: Path) -> None:
    """The registry answers the partner's guide per document type, as written."""
    registry = PartnerRegistry.load(_partners(tmp_path))
    guide = registry.guide("guided-partner", "856")
    assert guide is not None and guide.inbound == "warning"
    assert guide.segments["TD5"].usage == "required"
    assert guide.elements["TD101"].codes == ("CTN25",)
    assert guide.require[0].where == {"REF01": "IA"}
    assert registry.guide("guided-partner", "850") is None
    assert set(registry.guides("guided-partner")) == {"856"}


def test_a_json_guide_loads(tmp_path: Path) -> None:
    """A guide may be JSON: the same keys."""
    _partners(tmp_path, profile=PROFILE.replace("guides/856.toml", "guides/856.json"))
    (tmp_path / "guides" / "856.json").write_text(json.dumps(
        {"transaction": "856", "segments": {"PID": {"usage": "not_used"}}}))
    guide = PartnerRegistry.load(tmp_path).guide("guided-partner", "856")
    assert guide is not None and guide.segments["PID"].usage == "not_used"


@pytest.mark.parametrize(("guide", "key", "words"), [
    ('transaction = "856"\n[segments.td5]\nusage = "required"', "segments.td5",
     "segment tag"),
    ('transaction = "856"\n[elements.TD1]\ncodes = ["X"]', "elements.TD1",
     "element reference"),
    ('transaction = "856"\n[elements.TD101]\nusage = "sometimes"', "elements.TD101.usage",
     "must be one of"),
    ('transaction = "856"\n[segments.REF]\nmax_use = 0', "segments.REF.max_use", ""),
    ('transaction = "856"\n[segments.REF]\nmax_uses = 2', "segments.REF.max_uses",
     "unknown key"),
    ('transaction = "850"', "transaction", "names this file for '856'"),
    ('transaction = "856"\n[[require]]\nwhere = { REF01 = "IA" }', "require[0].segment", ""),
    ('transaction = "856"\nsegments = [', "", "not valid TOML"),
])
def test_a_bad_guide_is_reported_at_its_file_and_key(tmp_path: Path, guide: str, key: str,
                                                     words: str) -> None:
    """Each mistake in a guide stops loading with one problem naming the guide file, the
    key path and what is wrong."""
    problems = _problems(_partners(tmp_path, guide=guide))
    assert [(p[0], p[1]) for p in problems] == [("856.toml", key)]
    assert words in problems[0][2]


@pytest.mark.parametrize(("path", "words"), [
    ("guides/missing.toml", "no such file"),
    ("../outside.toml", "outside the partners directory"),
    ("/etc/guide.toml", "relative path"),
    ("guides/856.txt", "relative path"),
])
def test_a_guide_path_that_does_not_lead_to_a_guide_is_reported(
        tmp_path: Path, path: str, words: str) -> None:
    """A missing file, a path leaving the partners directory, an absolute path or a file
    that is neither TOML nor JSON is a problem at the profile's guides key."""
    (tmp_path / "partners").mkdir()
    (tmp_path / "outside.toml").write_text('transaction = "856"')
    problems = _problems(_partners(tmp_path / "partners",
                                   profile=PROFILE.replace("guides/856.toml", path)))
    assert [(p[0], p[1]) for p in problems] == [("guided-partner.toml", "guides.856")]
    assert words in problems[0][2]


def test_the_repository_example_guide_loads() -> None:
    """partners/guides/acme-retail-856.toml, the example partners/README.md explains,
    loads with the demo profiles."""
    guide = PartnerRegistry.load(REPO / "partners").guide("acme-retail", "856")
    assert guide is not None
    assert {r.where.get("REF01") for r in guide.require} >= {"IA", "BM"}
