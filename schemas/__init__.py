"""edigate schemas: X12 maps, EDIFACT message definitions, code lists, record schemas."""
