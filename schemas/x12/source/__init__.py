"""Authoring source of the X12 maps: data elements, code lists, segments, transactions.

Plain data only; `schemas.x12.build` turns it into pyx12-format XML. Nothing here reads
files or imports the translators or the gateway.
"""
