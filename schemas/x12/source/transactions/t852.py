"""852 Product Activity Data (X12.3 / X12.22), 004010 and 005010.

One structure serves both versions: 005010 added SAC (position 025) to the LIN loop and
let QTY repeat there; 004010 documents never carry SAC, so the union accepts both.
Not described here: PAL (pallet information, position 060) and the G95 loop (performance
requirements, 120-130); a document using them fails validation as an unexpected segment
rather than being translated without them.
"""

SET_ID = "852"
NAME = "Product Activity Data"
FUNCTIONAL_IDS = ("PD",)
VERSIONS = ("004010", "005010")

STRUCTURE = """
HEADER
020 XQ M 1
030 XPO O >1
040 N9 O >1
050 PER O 3
LOOP N1 O 200 Name
060 N1 M 1
070 N2 O 1
080 N3 O 2
090 N4 O 1
100 FOB O 1
110 TD5 O 1
120 DTM O >1
130 N9 O >1
140 PER O 3
END
DETAIL
LOOP LIN O 999999 Item Identification
010 LIN M 1
020 CTP O 25
025 SAC O >1
030 PO4 O 1
040 N9 O >1
050 AMT O 10
070 QTY O >1
LOOP ZA M >1 Product Activity Reporting
080 ZA M 1
090 QTY O >1
100 CTP O 25
110 SDQ O >1
END
END
FOOTER
010 CTT O 1
"""

CODES: dict[str, str] = {}
USAGE: dict[str, str] = {}
