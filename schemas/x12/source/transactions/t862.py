"""862 Shipping Schedule (X12.37), 004010 and 005010.

Segment order, loops, requirements and repeats follow the standard's table; 005010 adds
nothing the structure here distinguishes.
"""

SET_ID = "862"
NAME = "Shipping Schedule"
FUNCTIONAL_IDS = ("SS",)
VERSIONS = ("004010", "005010")

STRUCTURE = """
HEADER
020 BSS M 1
030 DTM O 10
LOOP N1 O 200 Name
040 N1 M 1
050 N2 O 2
060 N3 O 2
070 N4 O 1
080 REF O 12
090 PER O 3
100 FOB O 1
END
DETAIL
LOOP LIN M 10000 Item Identification
010 LIN M 1
020 UIT M 1
030 PKG O 25
040 PO4 O 1
060 QTY O 1
070 REF O 12
080 PER O 3
090 SDP O 1
LOOP FST O 100 Forecast Schedule
100 FST M 1
110 DTM O 1
120 SDQ O 50
LOOP JIT O 96 Just-In-Time Schedule
130 JIT M 1
140 REF O 500
END
END
LOOP SHP O 10 Shipped/Received Information
150 SHP M 1
160 REF O 12
END
170 TD1 O 1
180 TD3 O 1
190 TD5 O 1
END
FOOTER
010 CTT O 1
"""

CODES: dict[str, str] = {}
USAGE: dict[str, str] = {}
