"""/v1/demand: the forecasts, sales and stock partners report, per product over time.

Planning schedules (830/DELFOR, 862/DELJIT), product activity (852/SLSRPT) and inventory
reports (846/INVRPT) are stored as points per product, period and location when they are
processed (``gateway.orders.demand``). ``GET /v1/demand/{partner}`` lists the partner's
products with data; ``GET /v1/demand/{partner}/{product}`` gives a product's series
(``gtin:00012345678905``, ``buyer_item:B-100``, ...), the newest report winning for each
period. Demand is the supply-chain side's: ``scm`` and ``all`` consumer keys, operators
and viewers read it; ``crm`` keys do not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from gateway.api.api_keys import Caller
from gateway.api.deps import State, require
from gateway.api.inputs import ID_MAX
from gateway.api.problems import Problem
from gateway.orders.demand import demand_products, demand_series

__all__ = ["router"]

router = APIRouter(tags=["demand"])

ReaderCaller = Annotated[Caller, Depends(require(consumer=True, ops_role="viewer"))]
_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _may_read_demand(caller: Caller) -> None:
    if caller.kind == "consumer" and caller.scope == "crm":
        raise Problem(403, "forbidden", "Not allowed",
                      "demand data is the supply-chain side's: use an scm or all consumer key")


@router.get("/v1/demand/{partner}", summary="The partner's products with demand data")
def list_products(partner: Annotated[str, Path(max_length=ID_MAX)], state: State,
                  caller: ReaderCaller) -> dict[str, Any]:
    _may_read_demand(caller)
    with state.db.read() as session:
        return {"partner_id": partner, "products": demand_products(session, partner)}


@router.get("/v1/demand/{partner}/{product:path}",
            summary="A product's forecasts, activity and stock over time")
def get_series(
    partner: Annotated[str, Path(max_length=ID_MAX)],
    product: Annotated[str, Path(min_length=1, max_length=120)],
    state: State, caller: ReaderCaller,
    since: Annotated[str | None, Query(pattern=_DATE, description="first period start "
                                                                   "(YYYY-MM-DD)")] = None,
    until: Annotated[str | None, Query(pattern=_DATE, description="periods starting before "
                                                                   "(YYYY-MM-DD)")] = None,
) -> dict[str, Any]:
    _may_read_demand(caller)
    with state.db.read() as session:
        series = demand_series(session, partner, product, since=since, until=until)
    if not series and since is None and until is None:
        raise Problem(404, "not-found", "No demand data",
                      f"partner {partner} reported nothing for product {product!r}")
    return {"partner_id": partner, "product": product, "series": series}
