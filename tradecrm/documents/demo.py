"""Demo exchange rates, letterhead and trade documents: what a demo install needs to show quotations
and proforma invoices with real numbers, frozen rates and bank details.

* `demo_exchange_rates`: daily reference rates (weekdays) of the currencies demo customers pay in,
  against USD, imported through `core.fx` like a central-bank CSV. The rates are a smooth function
  of the date, so a rerun writes the same values and issued documents keep agreeing with the table.
* `demo_seller`: our company's letterhead with a USD and a EUR bank account (print services).
* `demo_documents`: the quotations and proforma invoices of the demo deals (see `sales.demo`),
  through the services: drafts, issued, accepted, rejected, expired, a revision, PIs with the bank
  account chosen. The services stamp "issued now"; the stamp is then set to the document's date.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import ROUND_HALF_UP, Decimal

from tradecrm.core import fx
from tradecrm.sales.demo import PORTS, unit_price

from . import services
from .models import BankAccount, PaymentTerms, ProformaInvoice, Quotation, SellerProfile

# --- exchange rates -----------------------------------------------------------------------------

# 1 USD in the currency: level around which it moves, decimals, relative swing
RATE_LEVELS = {
    "CNY": ("7.1800", 4, 0.006), "EUR": ("0.8900", 4, 0.018), "GBP": ("0.7650", 4, 0.015),
    "JPY": ("149.50", 2, 0.022), "HKD": ("7.8100", 4, 0.002), "CAD": ("1.3750", 4, 0.010),
    "AUD": ("1.5300", 4, 0.014), "SGD": ("1.3300", 4, 0.008), "PLN": ("3.8200", 4, 0.020),
    "AED": ("3.6725", 4, 0.0), "SAR": ("3.7500", 4, 0.0), "EGP": ("49.2000", 4, 0.012),
    "MXN": ("18.9000", 4, 0.020), "BRL": ("5.4500", 4, 0.022),
}  # fmt: skip
RATE_SOURCE = "Demo reference rates"


def demo_rate(code: str, day: dt.date) -> Decimal:
    """1 USD in `code` on `day`: two slow waves and a small daily wobble around the level (pegged
    currencies stay put). The same date always gives the same rate."""
    level, places, swing = RATE_LEVELS[code]
    n = day.toordinal()
    phase = sum(map(ord, code))
    move = swing * (0.6 * math.sin(n / 23 + phase) + 0.3 * math.sin(n / 7.3 + 2 * phase)
                    + 0.1 * math.sin(n * 1.7 + phase))  # fmt: skip
    rate = Decimal(level) * Decimal(str(round(1 + move, 8)))
    return rate.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def demo_exchange_rates(*, today: dt.date, days: int = 66) -> int:
    """The rates of the `days` days up to `today` (weekdays, like central banks publish them),
    imported in one transaction; returns how many rates the table got or changed."""
    lines = ["date,base,quote,rate,source"]
    for back in range(days, -1, -1):
        day = today - dt.timedelta(days=back)
        if day.weekday() >= 5:
            continue
        lines += [
            f"{day.isoformat()},USD,{code},{demo_rate(code, day)},{RATE_SOURCE}" for code in RATE_LEVELS
        ]
    result = fx.rates_import_csv(actor=None, file="\n".join(lines).encode(), filename="demo-rates.csv")
    if not result.ok:  # pragma: no cover - the table above is valid
        raise RuntimeError(f"demo rates refused: {result.errors[:3]}")
    return result.created + result.updated


# --- letterhead and bank accounts ---------------------------------------------------------------

SELLER = {
    "name_en": "Ningbo Haida Import & Export Co., Ltd.",
    "name_zh": "宁波海达进出口有限公司",
    "address_en": "Room 1808, Building A, 288 Tiantong South Road, Yinzhou District, Ningbo, Zhejiang 315100, China",
    "address_zh": "中国浙江省宁波市鄞州区天童南路288号A座1808室 邮编315100",
    "phone": "+86 574 8788 6600",
    "email": "sales@haida-export.example.com",
    "website": "www.haida-export.example.com",
    "tax_id": "91330212MA2H8K7X3Q",
}
ACCOUNTS = {
    "USD": {
        "label": "BOC Ningbo USD", "currency": "USD", "beneficiary": SELLER["name_en"],
        "beneficiary_address": SELLER["address_en"], "bank_name": "Bank of China, Ningbo Branch",
        "bank_address": "139 Yaohang Street, Ningbo, Zhejiang, China", "swift": "BKCHCNBJ92A",
        "account_number": "3596 5812 0047", "intermediary_bank": "Bank of China New York Branch, SWIFT BKCHUS33",
        "is_default": True,
    },
    "EUR": {
        "label": "ICBC Ningbo EUR", "currency": "EUR", "beneficiary": SELLER["name_en"],
        "beneficiary_address": SELLER["address_en"], "bank_name": "Industrial and Commercial Bank of China, Ningbo Branch",
        "bank_address": "698 Zhongshan East Road, Ningbo, Zhejiang, China", "swift": "ICBKCNBJNBO",
        "account_number": "3901 1100 2914 8806 552", "intermediary_bank": "ICBC Frankfurt Branch, SWIFT ICBKDEFF",
        "is_default": True,
    },
}  # fmt: skip


def demo_seller() -> tuple[SellerProfile, dict[str, BankAccount]]:
    """The demo letterhead (created once; the first seller profile is the default) and its USD and
    EUR accounts, through the print services when they are installed."""
    seller = SellerProfile.objects.filter(name_en=SELLER["name_en"]).first()
    try:
        from . import print_services
    except ImportError:  # pragma: no cover - the printing side is optional for the demo
        print_services = None
    if seller is None:
        if print_services is not None:
            seller = print_services.seller_create(actor=None, data=dict(SELLER))
        else:  # pragma: no cover
            default = not SellerProfile.objects.filter(is_default=True).exists()
            seller = SellerProfile.objects.create(**SELLER, is_default=default)
    accounts = {}
    for currency, data in ACCOUNTS.items():
        account = (
            BankAccount.objects.filter(seller=seller, currency=currency, active=True).order_by("id").first()
        )
        if account is None:
            if print_services is not None:
                account = print_services.bank_account_create(actor=None, seller=seller, data=dict(data))
            else:  # pragma: no cover
                account = BankAccount.objects.create(seller=seller, **data)
        accounts[currency] = account
    return seller, accounts


# --- quotations and proforma invoices -----------------------------------------------------------

MARKS = "{buyer}\nPO NO.:\nC/NO.: 1-UP\nMADE IN CHINA"
PACKING = "Export cartons, 5-ply, on request palletised; carton marks on two sides."
REMARKS = ("Prices include standard export packing.", "Custom logo printing: +0.05 USD per unit, MOQ 3,000.",
           "Pre-shipment inspection by the buyer's agent welcome.", "")  # fmt: skip


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def _terms(rng: random.Random, deal) -> dict:
    country = deal.customer.company.country
    if country in ("AE", "SA", "EG") and rng.random() < 0.5:
        return {"payment_terms": PaymentTerms.LC_SIGHT}
    if deal.docs not in ("order", "pi_issued", "pi_draft") and rng.random() < 0.1:
        return {"payment_terms": PaymentTerms.OA, "payment_days": 60}
    terms = PaymentTerms.TT_DEPOSIT if rng.random() < 0.7 else PaymentTerms.TT_BL
    return {"payment_terms": terms, "deposit_percent": rng.choice(("30", "30", "30", "50", "20"))}


def _delivery(rng: random.Random, deal) -> dict:
    port = rng.choice(PORTS.get(deal.customer.company.country, ("Hamburg",)))
    loading = rng.choice(("Ningbo", "Ningbo", "Shanghai", "Shenzhen"))
    incoterm = rng.choice(("FOB", "FOB", "FOB", "CIF", "CFR"))
    return {"incoterm": incoterm, "port_of_loading": loading, "port_of_destination": port}


def _validity(on: dt.date, today: dt.date) -> dt.date:
    """30 days, longer for an older quotation the buyer is still deciding on (issuing and accepting
    need a validity date that has not passed)."""
    for days in (30, 45, 60, 90):
        if on + dt.timedelta(days=days) > today:
            return on + dt.timedelta(days=days)
    return today + dt.timedelta(days=30)


def _issue_quotation(actor, quotation: Quotation, approver, on: dt.date) -> Quotation:
    from tradecrm.automation.approvals import quotation_needs_approval

    if services.approval_required() or quotation_needs_approval(quotation):
        quotation = services.quotation_submit(actor=actor, quotation=quotation, version=quotation.version)
        quotation = services.quotation_approve(actor=approver, quotation=quotation, version=quotation.version)
    quotation = services.quotation_issue(actor=actor, quotation=quotation, version=quotation.version)
    Quotation.objects.filter(pk=quotation.pk).update(issued_at=_at(on, 3))
    return quotation


def _quotation(rng, deal, *, seller, on: dt.date, today: dt.date, header: dict) -> Quotation:
    c = deal.customer
    lines = []
    for product, quantity in deal.items:
        lines.append({"product": product.pk, "quantity": quantity,
                      "unit_price": unit_price(product, deal.currency, quantity, on)})  # fmt: skip
    data = {
        "contact": c.contact_id or "", "opportunity": deal.opportunity.pk, "seller": seller.pk,
        "currency": deal.currency, "document_date": on, "valid_until": _validity(on, today),
        "language": rng.choice(("en", "en", "en", "bilingual")), "lead_time_days": rng.choice((25, 30, 35, 45)),
        "shipping_marks": MARKS.format(buyer=c.company.name.upper()), "packing_notes": PACKING,
        "remarks": rng.choice(REMARKS), **header,
    }  # fmt: skip
    if deal.inquiry is not None:
        data["inquiry"] = deal.inquiry.pk
    return services.quotation_create(actor=c.owner, company=c.company, data=data, lines=lines)


def _decided(quotation: Quotation, on: dt.date) -> None:
    Quotation.objects.filter(pk=quotation.pk).update(decided_at=_at(on, 8))


def demo_documents(rng: random.Random, deals: list, *, seller: SellerProfile, accounts: dict, today: dt.date,
                   approver=None) -> dict:  # fmt: skip
    """The quotations and proforma invoices of the deals, as their `docs` say. Each deal's `dates`
    (quote, revision, pi) date the documents; the issue dates go to `stage_dates` for the stage
    history. Returns counts by kind."""
    counts = {"quotations": 0, "proformas": 0}
    for deal in deals:
        if not deal.docs:
            continue
        actor = deal.customer.owner
        header = {**_delivery(rng, deal), **_terms(rng, deal)}
        q_on = deal.dates["quote"]
        quotation = _quotation(rng, deal, seller=seller, on=q_on, today=today, header=header)
        deal.quotations.append(quotation)
        counts["quotations"] += 1
        if deal.docs in ("q_draft",):
            continue
        quotation = _issue_quotation(actor, quotation, approver, q_on)
        deal.stage_dates["quoted"] = q_on
        if deal.docs == "q_revised":
            # the buyer asked for 3 % off: revision 2 with the discount, which supersedes the first
            on = deal.dates["revision"]
            revision = services.quotation_revise(actor=actor, quotation=quotation)
            revision = services.quotation_update(
                actor=actor, quotation=revision, version=revision.version,
                data={"document_date": on, "valid_until": _validity(on, today)},
                lines=[{"id": line.pk, "discount_percent": "3"} for line in revision.lines.all()],
            )  # fmt: skip
            revision = _issue_quotation(actor, revision, approver, on)
            deal.quotations.append(revision)
            counts["quotations"] += 1
            continue
        if deal.docs == "q_rejected":
            services.quotation_reject(actor=actor, quotation=quotation,
                                      note="Price about 6% above an offer from Vietnam.")  # fmt: skip
            _decided(quotation, min(q_on + dt.timedelta(days=rng.randint(3, 9)), today))
            continue
        if deal.docs == "q_expired":
            services.quotation_expire(actor=actor, quotation=quotation)
            _decided(quotation, today)
            continue
        if deal.docs == "q_issued":
            continue
        pi_on = deal.dates.get("pi") or today
        services.quotation_accept(actor=actor, quotation=quotation, note="Confirmed by email.")
        _decided(quotation, min(q_on + dt.timedelta(days=rng.randint(1, 3)), pi_on))
        if deal.docs == "q_accepted":
            continue
        proforma = services.proforma_from_quotation(actor=actor, quotation=quotation)
        proforma = services.proforma_update(
            actor=actor, proforma=proforma, version=proforma.version,
            data={"document_date": pi_on, "bank_account": accounts[deal.currency].pk},
        )  # fmt: skip
        counts["proformas"] += 1
        if deal.docs != "pi_draft":
            proforma = services.proforma_issue(actor=actor, proforma=proforma, version=proforma.version)
            ProformaInvoice.objects.filter(pk=proforma.pk).update(issued_at=_at(pi_on, 4))
            deal.stage_dates["contract"] = pi_on
        deal.proforma = proforma
    return counts
