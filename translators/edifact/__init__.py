"""UN/EDIFACT (ISO 9735): the streaming reader, character sets and the envelope walker.

The modules are imported individually (``translators.edifact.reader`` and so on) so that
reading stays cheap; the public names are exported from the ``translators`` facade.
"""
