"""Build hook: with EDIGATE_MYPYC=1 the hot path of the translators is compiled with mypyc.

The code is the same typed Python either way (mypy strict); compiling it to a C extension
roughly doubles throughput (see bench/). Development installs stay pure Python so that an
edit takes effect without a rebuild; the Docker image and `make compiled` compile.
Everything else about the package lives in pyproject.toml.
"""

from __future__ import annotations

import os

from setuptools import setup

# Modules on the per-segment path. records.py (pydantic models) and the lazy package
# facades stay interpreted.
HOT_MODULES = [
    "translators/accounting.py",
    "translators/ascii.py",
    "translators/codes.py",
    "translators/edifact/charsets.py",
    "translators/edifact/contrl.py",
    "translators/edifact/date_formats.py",
    "translators/edifact/envelope.py",
    "translators/edifact/mappers/__init__.py",
    "translators/edifact/mappers/activity.py",
    "translators/edifact/mappers/code_lists.py",
    "translators/edifact/mappers/commercial.py",
    "translators/edifact/mappers/dates.py",
    "translators/edifact/mappers/despatch_advice.py",
    "translators/edifact/mappers/document.py",
    "translators/edifact/mappers/inventory.py",
    "translators/edifact/mappers/invoice.py",
    "translators/edifact/mappers/orders.py",
    "translators/edifact/mappers/party.py",
    "translators/edifact/mappers/products.py",
    "translators/edifact/mappers/schedule.py",
    "translators/edifact/mappers/tree.py",
    "translators/edifact/mappers/values.py",
    "translators/edifact/pipeline.py",
    "translators/edifact/reader.py",
    "translators/edifact/schema.py",
    "translators/edifact/segment.py",
    "translators/edifact/validator.py",
    "translators/edifact/writer.py",
    "translators/errors.py",
    "translators/gs1.py",
    "translators/money.py",
    "translators/numeric.py",
    "translators/parties.py",
    "translators/record_data.py",
    "translators/record_plans.py",
    "translators/schedules.py",
    "translators/shipment.py",
    "translators/structure.py",
    "translators/text.py",
    "translators/summary_rows.py",
    "translators/units.py",
    "translators/x12/ack.py",
    "translators/x12/envelope.py",
    "translators/x12/pipeline.py",
    "translators/x12/reader.py",
    "translators/x12/schema.py",
    "translators/x12/segment.py",
    "translators/x12/validator.py",
    "translators/x12/writer.py",
    "translators/x12/mappers/__init__.py",
    "translators/x12/mappers/activity.py",
    "translators/x12/mappers/commercial.py",
    "translators/x12/mappers/dates.py",
    "translators/x12/mappers/document.py",
    "translators/x12/mappers/elements.py",
    "translators/x12/mappers/functional_ack.py",
    "translators/x12/mappers/inventory.py",
    "translators/x12/mappers/invoice.py",
    "translators/x12/mappers/party_loop.py",
    "translators/x12/mappers/po.py",
    "translators/x12/mappers/products.py",
    "translators/x12/mappers/schedule.py",
    "translators/x12/mappers/ship_notice.py",
    # Outbound: generation reads back what it writes, so it runs the pipeline above
    # once per document; compiled, the rest of its work keeps pace (bench/outbound.py).
    "translators/edifact/generate/despatch.py",
    "translators/edifact/generate/documents.py",
    "translators/edifact/generate/interchange.py",
    "translators/edifact/generate/segments.py",
    "translators/edifact/generate/values.py",
    "translators/x12/generate/documents.py",
    "translators/x12/generate/interchange.py",
    "translators/x12/generate/inventory.py",
    "translators/x12/generate/options.py",
    "translators/x12/generate/segments.py",
    "translators/x12/generate/ship_notice.py",
    "translators/x12/generate/values.py",
    "translators/generation.py",
]

ext_modules = []
if os.environ.get("EDIGATE_MYPYC") == "1":
    from mypyc.build import mypycify

    here = os.path.dirname(os.path.abspath(__file__))
    config = os.path.join(here, "build", "mypyc.ini")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w", encoding="utf-8") as handle:
        # The project's [tool.mypy] `files` list would override the modules given here.
        handle.write("[mypy]\nstrict = True\nignore_missing_imports = True\n")
    ext_modules = mypycify(["--config-file", config, *HOT_MODULES], opt_level="3")

setup(ext_modules=ext_modules)
