"""830 Planning Schedule with Release Capability (X12.14), 004010 and 005010.

Segment order, loops, requirements and repeats follow the standard's table. Not in the
structure yet (no definition in ``segments.py``): XPO (header), PRS and DD (detail) and the
NM1 of the SLN loop; a document that sends them is answered with an error for the
segment rather than translated without them.
"""

SET_ID = "830"
NAME = "Planning Schedule with Release Capability"
FUNCTIONAL_IDS = ("PS",)
VERSIONS = ("004010", "005010")

STRUCTURE = """
HEADER
020 BFR M 1
030 CUR O 1
040 REF O 12
050 PER O 3
060 TAX O 3
070 FOB O 1
080 CTP O 25
090 SAC O 25
100 CSH O 1
110 ITD O 2
120 DTM O 10
130 PID O 200
140 MEA O 40
150 PWK O 25
160 PKG O 25
170 TD1 O 2
180 TD5 O 12
190 TD3 O 12
200 TD4 O 5
210 MAN O 10
LOOP N1 O 200 Name
230 N1 M 1
240 N2 O 2
250 N3 O 2
260 N4 O 1
270 REF O 12
280 PER O 3
290 FOB O 1
END
LOOP LM O >1 Code Source Information
300 LM M 1
LOOP LQ M 100 Industry Code
310 LQ M 1
END
END
DETAIL
LOOP LIN M 10000 Item Identification
010 LIN M 1
020 UIT O 1
030 DTM O 10
040 CUR O 1
050 PO3 O 25
060 CTP O 25
070 PID O 1000
080 MEA O 40
090 PWK O 25
100 PKG O 25
110 PO4 O 1
130 REF O 12
140 PER O 3
150 SAC O 25
160 ITD O 2
170 TAX O 3
180 FOB O 1
190 LDT O 12
200 QTY O >1
210 ATH O 20
220 TD1 O 1
230 TD5 O 12
240 TD3 O 12
250 TD4 O 5
260 MAN O 10
LOOP SLN O 100 Subline Item Detail
280 SLN M 1
290 PID O 1000
END
LOOP N1 O 200 Name
320 N1 M 1
330 N2 O 2
340 N3 O 2
350 N4 O 1
360 REF O 12
370 PER O 3
380 FOB O 1
END
LOOP LM O >1 Code Source Information
390 LM M 1
LOOP LQ M 100 Industry Code
400 LQ M 1
END
END
LOOP FST O >1 Forecast Schedule
410 FST M 1
420 QTY O >1
430 SDQ O 50
LOOP LM O >1 Code Source Information
440 LM M 1
LOOP LQ M 100 Industry Code
450 LQ M 1
END
END
END
LOOP SDP O 260 Ship/Delivery Pattern
460 SDP M 1
470 FST M 260
END
LOOP SHP O 25 Shipped/Received Information
480 SHP M 1
490 REF O 5
END
END
FOOTER
010 CTT O 1
"""

CODES: dict[str, str] = {}
USAGE: dict[str, str] = {}
