"""Units of measure: X12 element 355 codes mapped onto UN/ECE Recommendation 20 common codes.

Responsible for ``X12_TO_REC20`` and ``x12_unit_to_rec20`` so every record carries a unit
as sent plus one normalised code. Each pair below was checked against the X12 355 code
list (descriptions in the trailing comments) and the Rec 20 code list (revision with the
packaging units still listed: CS case, CT carton, BX box, PK pack). Beware the codes that
mean different things in the two lists: X12 CA is a case (Rec 20 CA is a can), X12 KG is a
kilogram (Rec 20 KG is a keg), X12 PL is a pallet (Rec 20 PL is a pail), X12 CS is a
cassette. EDIFACT 6411 is meant to use Rec 20 codes, but partners send others (EANCOM's
PCE): ``edifact_unit_to_rec20`` passes on only the codes of ``REC20_CODES``. ``MASS_UNITS``
says which normalised codes are weights.
It must not convert quantities between units.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "MASS_UNITS",
    "REC20_CODES",
    "X12_TO_REC20",
    "edifact_unit_to_rec20",
    "x12_unit_to_rec20",
]

X12_TO_REC20: Final[Mapping[str, str]] = MappingProxyType(
    {
        # count
        "EA": "EA",  # Each -> each
        "UN": "C62",  # Unit -> one
        "PC": "H87",  # Piece -> piece
        "DZ": "DZN",  # Dozen -> dozen
        "HD": "HD",  # Half Dozen -> half dozen
        "GS": "GRO",  # Gross -> gross
        "GG": "GGR",  # Great Gross -> great gross
        "HU": "CEN",  # Hundred -> hundred
        "TH": "MIL",  # Thousand -> thousand
        "PR": "PR",  # Pair -> pair
        "ST": "SET",  # Set -> set
        "KT": "KT",  # Kit -> kit
        "AS": "AS",  # Assortment -> assortment
        "OP": "OP",  # Two pack -> two pack
        "P3": "P3",  # Three pack
        "P4": "P4",  # Four-pack
        "P5": "P5",  # Five-pack
        "P6": "P6",  # Six pack
        "P8": "P8",  # Eight-pack
        "TP": "TP",  # Ten-pack -> ten pack
        "LO": "LO",  # Lot -> lot [unit of procurement]
        "SX": "SX",  # Shipment -> shipment
        "LS": "LS",  # Lump Sum -> lump sum
        # packaging
        "CA": "CS",  # Case -> case
        "CT": "CT",  # Carton -> carton
        "BX": "BX",  # Box -> box
        "PK": "PK",  # Package -> pack
        "PH": "PK",  # Pack (PAK) -> pack
        "PL": "D97",  # Pallet/Unit Load -> pallet/unit load
        "PF": "PF",  # Pallet (Lift) -> pallet (lift)
        "SV": "SV",  # Skid -> skid
        "BG": "BG",  # Bag -> bag
        "SJ": "SA",  # Sack -> sack
        "BO": "BO",  # Bottle -> bottle
        "CN": "CA",  # Can -> can
        "JR": "JR",  # Jar -> jar
        "TB": "TU",  # Tube -> tube
        "DR": "DR",  # Drum -> drum
        "PA": "PL",  # Pail -> pail
        "KE": "KG",  # Keg -> keg
        "BR": "BLL",  # Barrel -> barrel (US)
        "BC": "BJ",  # Bucket -> bucket
        "BD": "BE",  # Bundle -> bundle
        "BA": "BL",  # Bale -> bale
        "CP": "CR",  # Crate -> crate
        "CH": "CH",  # Container -> container
        "TY": "PU",  # Tray -> tray / tray pack
        "TE": "TE",  # Tote -> tote
        "RL": "RO",  # Roll -> roll
        "RE": "RL",  # Reel -> reel
        "SO": "SO",  # Spool -> spool
        "SP": "SP",  # Shelf Package -> shelf package
        "CQ": "CQ",  # Cartridge -> cartridge
        "EV": "EV",  # Envelope -> envelope
        "SH": "ST",  # Sheet -> sheet
        "BK": "D63",  # Book -> book
        "VI": "VI",  # Vial -> vial
        "AM": "AM",  # Ampoule -> ampoule
        "AV": "AV",  # Capsule -> capsule
        "U2": "U2",  # Tablet -> tablet
        # mass
        "LB": "LBR",  # Pound -> pound
        "KG": "KGM",  # Kilogram -> kilogram
        "GR": "GRM",  # Gram -> gram
        "ME": "MGM",  # Milligram -> milligram
        "OZ": "ONZ",  # Ounce - Av -> ounce (avoirdupois)
        "TO": "APZ",  # Troy Ounce -> troy ounce or apothecary ounce
        "CW": "CWA",  # Hundred Pounds (CWT) -> hundred pound (cwt)
        "01": "LBR",  # Actual Pounds -> pound (the weight unit of TD1/TD4/MEA)
        "TN": "STN",  # Net Ton (2,000 LB) -> ton (US) or short ton
        "MP": "TNE",  # Metric Ton -> tonne (metric ton)
        # volume
        "GA": "GLL",  # Gallon -> gallon (US)
        "GI": "GLI",  # Imperial Gallons -> gallon (UK)
        "QT": "QT",  # Quart -> quart (US)
        "PT": "PT",  # Pint -> pint (US)
        "PV": "PV",  # Half Pint -> half pint (US)
        "FO": "OZA",  # Fluid Ounce -> fluid ounce (US)
        "LT": "LTR",  # Liter -> litre
        "ML": "MLT",  # Milliliter -> millilitre
        "CC": "CMQ",  # Cubic Centimeter -> cubic centimetre
        "CI": "INQ",  # Cubic Inches -> cubic inch
        "CF": "FTQ",  # Cubic Feet -> cubic foot
        "CY": "YDQ",  # Cubic Yard -> cubic yard
        "CR": "MTQ",  # Cubic Meter -> cubic metre
        # length and area
        "IN": "INH",  # Inch -> inch
        "FT": "FOT",  # Foot -> foot
        "YD": "YRD",  # Yard -> yard
        "MR": "MTR",  # Meter -> metre
        "CM": "CMT",  # Centimeter -> centimetre
        "DK": "KMT",  # Kilometers -> kilometre
        "DH": "SMI",  # Miles -> mile (statute mile)
        "LF": "LF",  # Linear Foot -> linear foot
        "LM": "LM",  # Linear Meter -> linear metre
        "LY": "LY",  # Linear Yard -> linear yard
        "SI": "INK",  # Square Inch -> square inch
        "SF": "FTK",  # Square Foot -> square foot
        "SY": "YDK",  # Square Yard -> square yard
        "SM": "MTK",  # Square Meter -> square metre
        # time and energy
        "MJ": "MIN",  # Minutes -> minute
        "HR": "HUR",  # Hours -> hour
        "DA": "DAY",  # Days -> day
        "WK": "WEE",  # Week -> week
        "MO": "MON",  # Months -> month
        "YR": "ANN",  # Years -> year
        "KH": "KWH",  # Kilowatt Hour -> kilowatt hour
        "P1": "P1",  # Percent -> percent
    }
)


# The Rec 20 common codes a unit may normalise to: every code of the table above, and the
# other codes of Rec 20 that trade documents use. A code outside this set is not passed off
# as Rec 20 (EANCOM's PCE, a partner's own code): it normalises to None, and the record
# keeps it as sent in its ``unit`` field.
REC20_CODES: Final[frozenset[str]] = frozenset(X12_TO_REC20.values()) | frozenset(
    {
        # count
        "C62", "H87", "EA", "NAR", "NPR", "NMP", "NPT", "PR", "SET", "DZN",
        "GRO", "CEN", "MIL", "ZZ", "E48", "LS", "ACT",
        # mass
        "KGM", "GRM", "MGM", "MC", "DTN", "TNE", "LBR", "ONZ", "APZ", "STN", "LTN", "CWA",
        "CWI",
        # volume
        "LTR", "MLT", "CLT", "DLT", "HLT", "MAL", "MTQ", "DMQ", "CMQ", "MMQ", "INQ", "FTQ",
        "YDQ", "GLL", "GLI", "QT", "QTI", "PT", "PTI", "OZA", "OZI", "BLL", "BLD",
        # length and area
        "MTR", "DMT", "CMT", "MMT", "KMT", "INH", "FOT", "YRD", "SMI", "NMI", "MTK", "DMK",
        "CMK", "MMK", "KMK", "HAR", "ACR", "INK", "FTK", "YDK",
        # time and energy
        "SEC", "MIN", "HUR", "DAY", "WEE", "MON", "ANN", "QAN", "KWH", "WHR", "MWH", "GWH",
        "JOU", "KJO", "WTT", "KWT", "MAW", "P1",
    }
)

# Rec 20 units of mass: a measurement in one of them is a weight.
MASS_UNITS: Final[frozenset[str]] = frozenset(
    {"KGM", "GRM", "MGM", "MC", "DTN", "TNE", "LBR", "ONZ", "APZ", "STN", "LTN", "CWA", "CWI"}
)

# Plain dicts and sets: the compiled build looks a key up in them directly.
_X12_TO_REC20: Final[dict[str, str]] = dict(X12_TO_REC20)
_REC20_CODES: Final[frozenset[str]] = REC20_CODES


def x12_unit_to_rec20(code: str | None) -> str | None:
    """The Rec 20 common code for X12 355 ``code``; ``None`` when unknown or empty. Weight
    units (TD108, MEA04 LB, KG, 01 ...) go through the same table."""
    if not code:
        return None
    return _X12_TO_REC20.get(code.strip().upper())


def edifact_unit_to_rec20(code: str | None) -> str | None:
    """EDIFACT 6411 measurement units are meant to be Rec 20 codes: ``code`` when it is one
    (of ``REC20_CODES``), ``None`` for blanks and for codes that are not."""
    if not code:
        return None
    code = code.strip().upper()
    return code if code in _REC20_CODES else None
