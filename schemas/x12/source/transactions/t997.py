"""997 Functional Acknowledgment (X12.6 / X12.3), 004010 and 005010."""

SET_ID = "997"
NAME = "Functional Acknowledgment"
FUNCTIONAL_IDS = ("FA",)
VERSIONS = ("004010", "005010")

STRUCTURE = """
HEADER
020 AK1 M 1
LOOP AK2 O >1 Transaction Set Response
030 AK2 M 1
LOOP AK3 O >1 Data Segment Note
040 AK3 M 1
050 AK4 O 99
END
060 AK5 M 1
END
070 AK9 M 1
"""

CODES: dict[str, str] = {"AK201": ""}
USAGE: dict[str, str] = {}
