"""One module per X12 transaction set: its structure (tables, loops, segments) and the
per-transaction overrides of element usage and code lists.

STRUCTURE is a small line format read by `schemas.x12.build`:

- ``HEADER`` / ``DETAIL`` / ``FOOTER`` start a table (a pyx12 wrapper loop);
- ``<pos> <TAG> <req> <max_use>`` is a segment (req M, O or X; max_use a number or >1);
- ``LOOP <id> <req> <repeat> [name]`` ... ``END`` is a loop; its first segment starts it.

ST and SE are implied.  CODES maps a reference designator (``BEG01``, ``REF04-01``) to
space-separated codes ("" removes the list); USAGE maps it to R, S or N.
"""
