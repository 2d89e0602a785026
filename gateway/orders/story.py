"""An order's story: its documents, read together into lines, a status and findings.

Responsible for ``tell``: given every document of one order (purchase orders, changes,
responses, ship notices, invoices, inbound or outbound, as their canonical records) and
the partner's ``Rules``, the order as it stands: which documents stand and which a later
one superseded, per line the ordered, confirmed, shipped and invoiced quantities in the
order line's unit with prices and amounts, the status, the findings (three-way match
discrepancies and broken time rules, each naming the documents and values that
disagree) and when the order must be looked at again if nothing arrives (``due_at``).

The story is a pure function of its documents, the rules and the time: whatever order
the documents arrived or were reprocessed in, the same documents tell the same story.
That is what keeps the stored order correct under reprocessing and supersession
(``gateway.orders.book`` stores what this returns).
It must not read the database or the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Literal

from gateway.orders.lines import LineMatcher, convert, decimal_of

__all__ = ["ORDER_DOCUMENT_KINDS", "STATUSES", "Document", "Finding", "Rules", "Story",
           "StoryLine", "po_numbers", "tell"]

STATUSES: Final = ("open", "acknowledged", "partially_shipped", "shipped", "invoiced",
                   "closed", "cancelled")

_ORDER_KINDS: Final = frozenset({"purchase_order", "purchase_order_change", "order_response"})
ORDER_DOCUMENT_KINDS: Final = _ORDER_KINDS | {"ship_notice", "invoice"}
# Purposes (X12 353, EDIFACT 1225) by which a document withdraws itself or its order.
_WITHDRAWN: Final = frozenset({"cancel", "delete"})
# Copies that restate a document already counted.
_COPIES: Final = frozenset({"duplicate", "information_copy", "status"})
_CREDIT: Final = frozenset({"credit_note", "credit_memo"})
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Rules:
    """A partner's order rules (``[orders]`` in its profile): time limits in hours and the
    tolerances within which quantities, prices and totals count as matching."""

    expect_acknowledgment: bool = True
    ack_due_hours: int = 24
    asn_due_hours: int = 24
    asn_before_delivery: bool = True
    quantity_tolerance_percent: Decimal = _ZERO
    price_tolerance_percent: Decimal = _ZERO
    amount_tolerance: Decimal = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Document:
    """One document of an order: ``key`` names it (``record:<id>`` for a record edigate
    translated, ``sent:<id>`` for a document it generated), ``at`` is when edigate
    received or generated it, ``data`` its canonical record."""

    key: str
    message_id: str
    kind: str
    direction: Literal["inbound", "outbound"]
    at: datetime
    data: Mapping[str, Any]


@dataclass(slots=True)
class StoryLine:
    """One order line: quantities in the order line's ``unit``; ``confirmed`` is ``None``
    until a response speaks of the line; a rejected or deleted line confirms nothing."""

    key: str
    line_number: str | None
    item_ids: dict[str, Any]
    description: str | None
    unit: str | None
    ordered: Decimal = _ZERO
    confirmed: Decimal | None = None
    shipped: Decimal = _ZERO
    invoiced: Decimal = _ZERO
    ordered_price: Decimal | None = None
    invoiced_price: Decimal | None = None
    invoiced_amount: Decimal = _ZERO
    pack_size: Decimal | None = None
    status: str = "open"  # open, confirmed, rejected, cancelled, not_ordered

    @property
    def expected(self) -> Decimal:
        """What should ship: the confirmed quantity once there is one, else the ordered."""
        return self.confirmed if self.confirmed is not None else self.ordered

    @property
    def ordered_amount(self) -> Decimal:
        return self.ordered * self.ordered_price if self.ordered_price is not None else _ZERO


@dataclass(frozen=True, slots=True)
class Finding:
    """Something about the order that needs a person: ``category`` is ``discrepancy``
    (documents disagree) or ``timing`` (a time rule broken); ``values`` are the values
    that disagree, as text; ``documents`` the keys of the documents involved."""

    code: str
    category: Literal["discrepancy", "timing"]
    message: str
    line_key: str | None = None
    documents: tuple[str, ...] = ()
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """What makes two findings the same one (a finding told again is not new)."""
        return "|".join((self.code, self.line_key or "", *self.documents))


@dataclass(slots=True)
class Story:
    status: str
    role: Literal["sell", "buy"] | None
    order_date: str | None
    currency: str | None
    lines: list[StoryLine]
    findings: list[Finding]
    superseded: frozenset[str]
    ordered_at: datetime | None
    acknowledged_at: datetime | None
    shipped_at: datetime | None
    invoiced_at: datetime | None
    due_at: datetime | None
    # What the partner scorecards add up: lines to ship and those shipped in full, ship
    # notices and those late, invoices and those a discrepancy names.
    lines_live: int = 0
    lines_filled: int = 0
    asn_count: int = 0
    asn_late: int = 0
    invoice_count: int = 0
    invoice_flagged: int = 0

    @property
    def ack_seconds(self) -> int | None:
        """How long the order response took after the purchase order, in seconds."""
        if self.ordered_at is None or self.acknowledged_at is None:
            return None
        return max(0, int((self.acknowledged_at - self.ordered_at).total_seconds()))

    @property
    def ordered_amount(self) -> Decimal:
        return sum((line.ordered_amount for line in self.lines), _ZERO)

    @property
    def invoiced_amount(self) -> Decimal:
        return sum((line.invoiced_amount for line in self.lines), _ZERO)

    @property
    def has_discrepancy(self) -> bool:
        return any(f.category == "discrepancy" for f in self.findings)

    @property
    def late(self) -> bool:
        return any(f.category == "timing" for f in self.findings)


def tell(documents: Iterable[Document], rules: Rules, now: datetime) -> Story:
    """The order told by ``documents`` (see the module's text)."""
    return _Teller(sorted(documents, key=lambda d: (d.at, d.key)), rules, now).story()


def _purpose(doc: Document) -> str | None:
    purpose = doc.data.get("purpose")
    return purpose if isinstance(purpose, str) else None


def _latest_standing(docs: Sequence[Document], group: Any) -> tuple[list[Document], set[str]]:
    """Of documents in arrival order, the latest of each ``group(doc)`` that is not a copy
    and not withdrawn, and the keys of every other one (superseded or withdrawn)."""
    latest: dict[Any, Document] = {}
    out: set[str] = set()
    for doc in docs:
        if _purpose(doc) in _COPIES:
            out.add(doc.key)
            continue
        name = group(doc)
        previous = latest.pop(name, None)
        if previous is not None:
            out.add(previous.key)
        if _purpose(doc) in _WITHDRAWN:
            out.add(doc.key)
        else:
            latest[name] = doc
    return list(latest.values()), out


def _moment(text: Any) -> datetime | None:
    """A record date (``2026-11-25`` or ``2026-11-25T14:30:00``) as an aware UTC time; a
    date alone is its end (a delivery date is kept if the document comes that day)."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:
        moment += timedelta(days=1) - timedelta(microseconds=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _percent_over(value: Decimal, reference: Decimal, tolerance: Decimal) -> bool:
    return value > reference + abs(reference) * tolerance / 100


def _differs(value: Decimal, reference: Decimal, tolerance: Decimal) -> bool:
    return abs(value - reference) > abs(reference) * tolerance / 100


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _unit(line: Mapping[str, Any], unit_key: str = "unit") -> str | None:
    code = line.get(f"{unit_key}_rec20") or line.get(unit_key)
    return code if isinstance(code, str) and code else None


def _unit_price(line: Mapping[str, Any]) -> Decimal | None:
    """The price of one unit of the line's unit: the normalised per-unit net price when
    the mapper gave one (a price per hundred divided out), else the price as sent."""
    net = line.get("net_price")
    if isinstance(net, Mapping):
        per_unit = decimal_of(net.get("per_unit_price"))
        if per_unit is not None:
            return per_unit
    return decimal_of(line.get("unit_price"))


class _Teller:
    """One telling of a story: the documents in arrival order, read stage by stage."""

    def __init__(self, documents: list[Document], rules: Rules, now: datetime) -> None:
        self.rules = rules
        self.now = now
        self.docs = documents
        self.lines: dict[str, StoryLine] = {}
        self.matcher = LineMatcher([])
        self.findings: list[Finding] = []
        self.superseded: set[str] = set()
        self.cancelled = False
        self.ordered = False  # whether a purchase order stands
        self.due: list[datetime] = []

    def of(self, *kinds: str) -> list[Document]:
        return [d for d in self.docs if d.kind in kinds]

    def finding(self, code: str, category: Literal["discrepancy", "timing"], message: str,
                line: StoryLine | None = None, documents: Sequence[Document] = (),
                **values: Decimal | str | None) -> None:
        self.findings.append(Finding(
            code, category, message, line.key if line else None,
            tuple(d.key for d in documents),
            {k: v if isinstance(v, str) else _text(v) for k, v in values.items()
             if v is not None}))

    # -- the stages -------------------------------------------------------------------
    def story(self) -> Story:
        order = self._order()
        self._changes(order)
        response = self._response(order)
        shipments = self._shipments()
        invoices = self._invoices()
        self._match(order, shipments, invoices)
        self._timing(order, response, shipments, invoices)
        priced = order or response or (invoices[0] if invoices else None)
        live = [ln for ln in self.lines.values()
                if ln.status not in ("rejected", "cancelled", "not_ordered")]
        q = self.rules.quantity_tolerance_percent
        named = {(f.category, key) for f in self.findings for key in f.documents}
        return Story(
            status=self._status(order, response, shipments, invoices),
            role=self._role(order),
            order_date=order.data.get("order_date") if order else None,
            currency=priced.data.get("currency") if priced else None,
            lines=list(self.lines.values()),
            findings=self.findings,
            superseded=frozenset(self.superseded),
            ordered_at=order.at if order else None,
            acknowledged_at=response.at if response else None,
            shipped_at=shipments[0].at if shipments else None,
            invoiced_at=invoices[0].at if invoices else None,
            due_at=min(self.due) if self.due else None,
            lines_live=len(live),
            lines_filled=sum(1 for ln in live
                             if ln.shipped >= ln.expected - abs(ln.expected) * q / 100),
            asn_count=len(shipments),
            asn_late=sum(1 for d in shipments if ("timing", d.key) in named),
            invoice_count=len(invoices),
            invoice_flagged=sum(1 for d in invoices if ("discrepancy", d.key) in named),
        )

    def _role(self, order: Document | None) -> Literal["sell", "buy"] | None:
        """``sell`` when the partner orders from us (its PO came in, or we answer it),
        ``buy`` when we order from the partner."""
        if order is not None:
            return "sell" if order.direction == "inbound" else "buy"
        if not self.docs:
            return None
        first = self.docs[0]
        buyer_side = first.kind in ("purchase_order", "purchase_order_change")
        return "sell" if (first.direction == "inbound") == buyer_side else "buy"

    def _order(self) -> Document | None:
        orders = self.of("purchase_order")
        standing, out = _latest_standing(orders, lambda _doc: "po")
        self.superseded |= out
        if any(_purpose(d) == "cancel" for d in orders if d.key in out) and not standing:
            self.cancelled = True
        order = standing[-1] if standing else None
        if order is None:
            if self.docs and not self.cancelled:
                self.finding("no_purchase_order", "discrepancy",
                             "documents name this PO number but no purchase order has been "
                             "seen", documents=self.docs[:1])
            return None
        self.ordered = True
        for n, raw in enumerate(order.data.get("lines") or (), start=1):
            self._add_line(raw, f"#{n}")
        return order

    def _add_line(self, raw: Mapping[str, Any], fallback: str) -> StoryLine:
        number = raw.get("line_number") if isinstance(raw.get("line_number"), str) else None
        key = f"line {number}" if number and f"line {number}" not in self.lines else fallback
        line = StoryLine(
            key=key, line_number=number, item_ids=dict(raw.get("item_ids") or {}),
            description=raw.get("description"), unit=_unit(raw),
            ordered=decimal_of(raw.get("quantity")) or _ZERO,
            ordered_price=_unit_price(raw), pack_size=decimal_of(raw.get("pack")))
        self.lines[key] = line
        self.matcher.add(key, number, line.item_ids)
        return line

    def _quantity(self, raw: Mapping[str, Any], line: StoryLine, doc: Document,
                  quantity_key: str = "quantity", unit_key: str = "unit") -> Decimal | None:
        """A document line's quantity in the order line's unit; a finding when it cannot
        be converted."""
        quantity = decimal_of(raw.get(quantity_key))
        if quantity is None:
            return None
        unit = _unit(raw, unit_key)
        pack = line.pack_size or decimal_of(raw.get("pack"))
        converted = convert(quantity, unit, line.unit, pack)
        if converted is None:
            self.finding("unit_mismatch", "discrepancy",
                         f"{quantity} {unit} cannot be converted to the order's unit "
                         f"{line.unit}", line, [doc], quantity=quantity, unit=unit,
                         order_unit=line.unit)
        return converted

    def _changes(self, order: Document | None) -> None:
        for change in self.of("purchase_order_change"):
            if order is not None and change.at < order.at:
                self.superseded.add(change.key)  # a later full order restates it
                continue
            if _purpose(change) in _COPIES:
                self.superseded.add(change.key)
                continue
            if _purpose(change) == "cancel":
                self.cancelled = True
                continue
            for n, raw in enumerate(change.data.get("lines") or (), start=1):
                key = self.matcher.match(raw.get("line_number"), raw.get("item_ids"))
                status = raw.get("status")
                if key is None:
                    if status != "deleted":
                        self._add_line(raw, f"{change.key}#{n}")
                    continue
                line = self.lines[key]
                if status == "deleted":
                    line.ordered, line.status = _ZERO, "cancelled"
                    continue
                quantity = self._quantity(raw, line, change)
                if quantity is not None:
                    line.ordered = quantity
                price = _unit_price(raw)
                if price is not None:
                    line.ordered_price = price

    def _response(self, order: Document | None) -> Document | None:
        standing, out = _latest_standing(self.of("order_response"), lambda _doc: "response")
        self.superseded |= out
        response = standing[-1] if standing else None
        if response is None:
            return None
        if response.data.get("response") == "rejected":
            self.cancelled = True
            self.finding("order_rejected", "discrepancy", "the order response rejects the "
                         "order", documents=[response],
                         response_code=response.data.get("response_code"))
            for line in self.lines.values():
                line.confirmed, line.status = _ZERO, "rejected"
            return response
        spoken: set[str] = set()
        for raw in response.data.get("lines") or ():
            key = self.matcher.match(raw.get("line_number"), raw.get("item_ids"))
            if key is None:
                if self.ordered:  # without an order, ``no_purchase_order`` says it all
                    self.finding("unmatched_line", "discrepancy",
                                 "the order response names a line the order does not have",
                                 documents=[response], line_number=raw.get("line_number"))
                continue
            line = self.lines[key]
            spoken.add(key)
            acks = [a for a in raw.get("acknowledgments") or () if isinstance(a, Mapping)]
            if acks:
                confirmed = _ZERO
                for ack in acks:
                    if ack.get("status") in ("rejected", "deleted"):
                        continue
                    confirmed += self._quantity(ack, line, response) or _ZERO
                rejected = all(a.get("status") in ("rejected", "deleted") for a in acks)
            else:
                rejected = raw.get("status") in ("rejected", "deleted")
                quantity = self._quantity(raw, line, response)
                confirmed = _ZERO if rejected else (
                    quantity if quantity is not None else line.ordered)
            line.confirmed = confirmed
            if line.status != "cancelled":
                line.status = "rejected" if rejected else "confirmed"
        for key, line in self.lines.items():
            # A response that leaves a line out accepts it as ordered.
            if key not in spoken and line.status == "open":
                line.confirmed, line.status = line.ordered, "confirmed"
        return response

    def _shipments(self) -> list[Document]:
        standing, out = _latest_standing(
            self.of("ship_notice"), lambda d: d.data.get("shipment_id") or d.key)
        self.superseded |= out
        return standing

    def _invoices(self) -> list[Document]:
        standing, out = _latest_standing(
            self.of("invoice"), lambda d: d.data.get("invoice_number") or d.key)
        self.superseded |= out
        return standing

    # -- the three-way match ----------------------------------------------------------
    def _line_for(self, raw: Mapping[str, Any], doc: Document, what: str) -> StoryLine:
        key = self.matcher.match(raw.get("line_number"), raw.get("item_ids"))
        if key is not None:
            return self.lines[key]
        line = self._add_line({**raw, "quantity": None, "unit_price": None,
                               "net_price": None}, f"{doc.key}#{len(self.lines) + 1}")
        line.status = "not_ordered"
        if self.ordered:  # without an order every line is unmatched: one finding says so
            self.finding("unmatched_line", "discrepancy",
                         f"the {what} names an item the order does not have", line, [doc],
                         line_number=raw.get("line_number"))
        return line

    def _match(self, order: Document | None, shipments: Sequence[Document],
               invoices: Sequence[Document]) -> None:
        po_number = (order.data.get("po_number") if order else None)
        shipped_by: dict[str, list[Document]] = {}
        for doc in shipments:
            for item in _shipped_items(doc.data, po_number):
                line = self._line_for(item, doc, "ship notice")
                if line.unit is None:
                    line.unit = _unit(item)
                quantity = self._quantity(item, line, doc, "quantity_shipped")
                line.shipped += quantity or _ZERO
                shipped_by.setdefault(line.key, []).append(doc)
        invoiced_by: dict[str, list[Document]] = {}
        for doc in invoices:
            sign = -1 if doc.data.get("invoice_type") in _CREDIT else 1
            for raw in doc.data.get("lines") or ():
                line = self._line_for(raw, doc, "invoice")
                if line.unit is None:
                    line.unit = _unit(raw)
                quantity = self._quantity(raw, line, doc) or _ZERO
                price = _unit_price(raw)
                amount = decimal_of(raw.get("amount"))
                if amount is None and price is not None:
                    amount = quantity * price
                line.invoiced += sign * quantity
                line.invoiced_amount += sign * (amount or _ZERO)
                if price is not None and sign > 0:
                    line.invoiced_price = price
                invoiced_by.setdefault(line.key, []).append(doc)
            self._invoice_totals(doc)
        q, p = self.rules.quantity_tolerance_percent, self.rules.price_tolerance_percent
        for line in self.lines.values():
            ships, bills = shipped_by.get(line.key, []), invoiced_by.get(line.key, [])
            if line.status in ("rejected", "cancelled") and line.shipped > 0:
                self.finding("shipped_not_confirmed", "discrepancy",
                             f"shipped {_text(line.shipped)} of a line the order response "
                             "rejected or the buyer deleted", line, ships,
                             shipped=line.shipped)
            elif ships and line.status != "not_ordered" and _percent_over(
                    line.shipped, line.expected, q):
                self.finding("over_shipped", "discrepancy",
                             f"shipped {_text(line.shipped)} where "
                             f"{_text(line.expected)} was "
                             f"{'confirmed' if line.confirmed is not None else 'ordered'}",
                             line, ships, expected=line.expected, shipped=line.shipped)
            if bills and ships and _differs(line.invoiced, line.shipped, q):
                self.finding("invoice_quantity_mismatch", "discrepancy",
                             f"invoiced {_text(line.invoiced)} where "
                             f"{_text(line.shipped)} shipped", line, [*bills, *ships],
                             invoiced=line.invoiced, shipped=line.shipped)
            elif bills and line.status != "not_ordered" and _percent_over(
                    line.invoiced, line.expected, q):
                self.finding("over_invoiced", "discrepancy",
                             f"invoiced {_text(line.invoiced)} where "
                             f"{_text(line.expected)} was ordered", line, bills,
                             invoiced=line.invoiced, expected=line.expected)
            if (bills and line.invoiced_price is not None and line.ordered_price is not None
                    and _differs(line.invoiced_price, line.ordered_price, p)):
                self.finding("price_mismatch", "discrepancy",
                             f"invoiced at {_text(line.invoiced_price)} a unit where the "
                             f"order says {_text(line.ordered_price)}", line,
                             [d for d in (order,) if d] + bills,
                             invoiced_price=line.invoiced_price,
                             ordered_price=line.ordered_price)

    def _invoice_totals(self, doc: Document) -> None:
        """The invoice's own totals against its lines, allowances, charges and taxes."""
        totals = doc.data.get("totals") or {}
        lines_sum = _ZERO
        for raw in doc.data.get("lines") or ():
            amount = decimal_of(raw.get("amount"))
            if amount is None:
                quantity, price = decimal_of(raw.get("quantity")), _unit_price(raw)
                if quantity is None or price is None:
                    return  # a line without an amount: nothing to add up
                amount = quantity * price
            lines_sum += amount
        tolerance = self.rules.amount_tolerance
        stated = decimal_of(totals.get("line_items_amount"))
        if stated is not None:
            if abs(stated - lines_sum) > tolerance:
                self.finding("invoice_total_mismatch", "discrepancy",
                             f"the invoice states line items of {_text(stated)} but its "
                             f"lines add up to {_text(lines_sum)}", documents=[doc],
                             stated=stated, computed=lines_sum)
            return
        stated = decimal_of(totals.get("amount"))
        if stated is None:
            return
        charges = _ZERO
        for ac in doc.data.get("allowances_charges") or ():
            amount = decimal_of(ac.get("amount"))
            if amount is not None and ac.get("indicator") == "charge":
                charges += amount
            elif amount is not None and ac.get("indicator") == "allowance":
                charges -= amount
        tax = decimal_of(totals.get("tax_amount"))
        if tax is None:
            tax = sum((decimal_of(t.get("amount")) or _ZERO
                       for t in doc.data.get("taxes") or ()), _ZERO)
        computed = lines_sum + charges + tax
        if abs(stated - computed) > tolerance:
            self.finding("invoice_total_mismatch", "discrepancy",
                         f"the invoice total {_text(stated)} is not its lines, charges, "
                         f"allowances and taxes ({_text(computed)})", documents=[doc],
                         stated=stated, computed=computed)

    # -- time rules -------------------------------------------------------------------
    def _timing(self, order: Document | None, response: Document | None,
                shipments: Sequence[Document], invoices: Sequence[Document]) -> None:
        rules = self.rules
        if order is None or self.cancelled:
            return
        if rules.expect_acknowledgment:
            due = order.at + timedelta(hours=rules.ack_due_hours)
            if response is not None and response.at > due:
                self.finding("acknowledgment_late", "timing",
                             "the order response came after it was due", documents=[
                                 order, response], due=due.isoformat(),
                             received=response.at.isoformat())
            elif response is None and self.now > due:
                self.finding("acknowledgment_late", "timing",
                             "no order response by its due time", documents=[order],
                             due=due.isoformat())
            elif response is None:
                self.due.append(due)
        delivery = _moment((order.data.get("dates") or {}).get("requested_delivery"))
        for doc in shipments:
            shipped = _moment(doc.data.get("ship_date") or
                              (doc.data.get("dates") or {}).get("shipped"))
            if shipped is not None:
                due = shipped + timedelta(hours=rules.asn_due_hours)
                if doc.at > due:
                    self.finding("asn_late", "timing", "the ship notice came more than "
                                 f"{rules.asn_due_hours} h after the shipment",
                                 documents=[doc], due=due.isoformat(),
                                 received=doc.at.isoformat())
            if rules.asn_before_delivery and delivery is not None and doc.at > delivery:
                self.finding("asn_after_delivery", "timing", "the ship notice came after "
                             "the requested delivery date", documents=[order, doc],
                             due=delivery.isoformat(), received=doc.at.isoformat())
        if not shipments and rules.asn_before_delivery and delivery is not None:
            if self.now > delivery:
                self.finding("asn_missing", "timing", "no ship notice by the requested "
                             "delivery date", documents=[order], due=delivery.isoformat())
            else:
                self.due.append(delivery)
        first_asn = shipments[0].at if shipments else None
        for doc in invoices:
            if first_asn is None or doc.at < first_asn:
                self.finding("invoice_before_asn", "timing",
                             "the invoice came before any ship notice", documents=[doc],
                             received=doc.at.isoformat())

    def _status(self, order: Document | None, response: Document | None,
                shipments: Sequence[Document], invoices: Sequence[Document]) -> str:
        live = [line for line in self.lines.values()
                if line.status not in ("rejected", "cancelled", "not_ordered")]
        if self.cancelled or (order is not None and self.lines and not live):
            return "cancelled"
        q = self.rules.quantity_tolerance_percent
        all_shipped = bool(live) and all(
            line.shipped >= line.expected - abs(line.expected) * q / 100 for line in live)
        if invoices:
            all_invoiced = all(
                line.invoiced >= line.shipped - abs(line.shipped) * q / 100 for line in live)
            discrepancy = any(f.category == "discrepancy" for f in self.findings)
            return "closed" if all_shipped and all_invoiced and not discrepancy else "invoiced"
        if shipments:
            return "shipped" if all_shipped else "partially_shipped"
        return "acknowledged" if response is not None else "open"


def _shipped_items(data: Mapping[str, Any], po_number: str | None) -> list[Mapping[str, Any]]:
    """The items of a ship notice that belong to order ``po_number``: those under its
    order level (with their packs), and those elsewhere that name it. With no PO number
    known (no order seen yet) every item of the notice is the order's."""
    items: list[Mapping[str, Any]] = []

    def pack_items(packs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [item for pack in packs for item in pack.get("items") or ()]

    for order in data.get("orders") or ():
        if po_number is None or order.get("po_number") in (po_number, None):
            items += list(order.get("items") or ()) + pack_items(order.get("packs") or ())
        else:
            items += [i for i in list(order.get("items") or ()) +
                      pack_items(order.get("packs") or ()) if i.get("po_number") == po_number]
    loose = list(data.get("items") or ()) + pack_items(data.get("packs") or ())
    items += [i for i in loose if po_number is None or i.get("po_number") in (po_number, None)]
    return items


def po_numbers(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The PO numbers a record names: one for orders, changes, responses and invoices,
    every order's for a ship notice (which may carry several orders)."""
    if kind in _ORDER_KINDS or kind == "invoice":
        number = data.get("po_number")
        return [number] if isinstance(number, str) and number else []
    if kind != "ship_notice":
        return []
    found: list[str] = []
    for order in data.get("orders") or ():
        number = order.get("po_number")
        if isinstance(number, str) and number and number not in found:
            found.append(number)
    for item in [*(data.get("items") or ()),
                 *(i for p in data.get("packs") or () for i in p.get("items") or ()),
                 *(i for o in data.get("orders") or () for i in o.get("items") or ())]:
        number = item.get("po_number")
        if isinstance(number, str) and number and number not in found:
            found.append(number)
    return found
