"""X12 code lists (X12.3 code values) for the data elements the maps validate.

`CLOSED` lists are complete enough to enforce: the build writes them into the maps as
`valid_codes`, so a value outside them is an error (X12 data element error 7).
`COMMON` lists are open: only the retail values in common use were typed here, so the
maps accept any value; the lists are kept (in codes.xml) for mappers and documentation.
Rejecting a valid real-world document for a missing code is worse than letting it through.
The complete per-version lists of the key elements (92, 98, 128, 355, 374, 640, ...) live
in `standard_codes` and are closed for their version family; a partner whose documents
deviate is relaxed per element in its profile (``[validation] relax_code_lists``).
"""

# data element number -> space-separated codes
CLOSED: dict[str, str] = {
    # Envelope (X12.5 / X12.6)
    "I01": "00 01 02 03 04 05 06",
    "I03": "00 01",
    "I05": "01 02 03 04 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 "
    "30 31 32 33 34 35 36 37 38 AM NR SA SN ZZ",
    "I10": "U",
    "I11": "00200 00201 00204 00300 00301 00302 00303 00304 00305 00306 00307 00400 00401 "
    "00402 00403 00404 00405 00406 00500 00501 00502 00503 00504 00505 00600 00601",
    "I13": "0 1",
    "I14": "I P T",
    "I17": "A E R",
    "I18": "000 001 002 003 004 005 006 007 008 009 010 011 012 013 014 015 016 017 018 019 "
    "020 021 022 023 024 025 026 027 028 029 030 031",
    "455": "T X",
    # Acknowledgment type (BAK02, ACK?)
    "587": "AC AD AE AH AK AP AT NA RD RF RJ RN RO RV ZZ",
    # Line item status (ACK01)
    "668": "AA AC AR BP CA CB CC CP DR IA IB IC ID IE IF IH IP IQ IR IS IW R1 R2 R3 R4 SC SP SW",
    # Change or response type (POC02)
    "670": "AI CA CB CT DI MU NC OC PC PQ PR QD QI RA RC RE RM RQ RS RZ SC",
    "248": "A C N P Q R",
    "378": "1 2 3 4 5 6 7 8 9 A B",
    "735": "1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M N O P Q R S T U V W X Y Z "
    "AA AB AC AD AE AF AG AH AI AJ AK AL AM AN AO AP AQ AR AS AT EX LE PA PT SP",
    "736": "0 1",
    "1073": "N U W Y",
    "349": "F S X",
    "54": "BY CA DE SE",
    "479": "AA AB AD AF AG AH AI AK AL AN AO AP AR AS AT AU AV AW AY BC BE BF BL BS CA CB "
    "CC CD CE CF CH CI CJ CK CM CN CO CP CQ CR CS CT CU CV D3 D4 D5 DA DD DF DI DM DS DX "
    "EC ED EI EN EP ER ES EV EX FA FB FC FG FR FT GC GE GF GL GP GR GT HB HC HI HN HP HR "
    "HS HU HV IA IB IC ID IE IF IG IH IJ IM IN IO IR IS JB KM LA LB LI LN LR LS LT MA MC "
    "MD ME MF MG MH MI MJ MK MM MN MO MP MQ MR MS MT MV MW MX MY MZ NC NL NP NR NT OC OG "
    "OR OW PA PB PC PD PE PF PG PH PI PJ PK PL PN PO PQ PR PS PT PU PV PY QG QM QO RA RB "
    "RC RD RE RF RG RH RI RJ RK RL RM RN RO RP RQ RR RS RT RU RV RW RX RY SA SB SC SD SE "
    "SH SI SJ SL SM SN SO SP SQ SR SS ST SU SV SW TA TB TD TE TF TI TJ TM TN TO TP TR TS "
    "TT TU TX UA UB UC UD UI UP UW VA VB VC VD VE VH VI VS WA WB WG WI WL WR WT",
    # Acknowledgment codes (X12.6 997/999)
    "715": "A E M P R W X",
    "716": "1 2 3 4 5 6 10 11 12 13 14 15 16 17 18 19 23 24 25 26",
    "717": "A E M R W X",
    "718": "1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27",
    "720": "1 2 3 4 5 6 7 8",
    "723": "1 2 3 4 5 6 7 8 9 10 12 13",
    "618": "1 2 3 4 5 6 7 8 9 10 11 12 13 15 16 17 18 19 23 24 25 26 27 I5 I6",
    "620": "1 2 3 4 5 6 7 8 I4 I6 I7 I8 I9",
    "621": "1 2 3 4 5 6 7 8 9 10 12 13 I6 I9 I10 I11 I12 I13",
    "478": "C D",
    "1004": "1 2 3 4 5 6 7 8 9 A B C D E F G H I J K L M N O P Q R S T U V W X Y Z",
}

# Open lists: the retail values in common use (not enforced by the maps).
COMMON: dict[str, str] = {
    "146": "11 BP CA CC CD CE CF DE DF FO HP MX NC NR PA PB PC PD PE PO PP PS PU RC RF RS SP TP WC",
    "334": "01 02 AA AB AC AD AE AF AG CO CT DE DF FO FC",
    "336": "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 "
    "27 28 29 30 31 32 ZZ",
    "333": "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 ZZ",
    "331": "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29",
    "1300": "A260 A520 B680 B720 C310 D170 D240 D500 F050 F800 G821 H090 H550 H850 I530 "
    "I590 R060 ZZZZ",
    "522": "1 5 BAP EBA F7 GV N TT",
    "91": "A AE C D E H L LT M P R S T U X",
    "750": "08 09 91 GEN IN MAC TRN",
    "673": "01 02 17 33 38 63 LA LQ ON QA QP QR",
    "737": "PD TI WT",
    "738": "CT DP HT LN VOL WD WT",
    "103": "BAG BOX CAS CTN PLT PKG",
    "187": "A B G N",
    "363": "GEN INT MKG ORI PKG SPH",
}
