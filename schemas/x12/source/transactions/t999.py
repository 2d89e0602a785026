"""999 Implementation Acknowledgment (X12.6 / X12.3), 005010."""

SET_ID = "999"
NAME = "Implementation Acknowledgment"
FUNCTIONAL_IDS = ("FA",)
VERSIONS = ("005010",)

STRUCTURE = """
HEADER
020 AK1 M 1
LOOP AK2 O >1 Transaction Set Response
030 AK2 M 1
LOOP IK3 O >1 Implementation Data Segment Note
040 IK3 M 1
050 CTX O 10
LOOP IK4 O >1 Implementation Data Element Note
060 IK4 M 1
070 CTX O 10
END
END
080 IK5 M 1
END
090 AK9 M 1
"""

CODES: dict[str, str] = {"AK201": ""}
USAGE: dict[str, str] = {"AK103": "R"}
