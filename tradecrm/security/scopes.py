"""What an API token may do: scopes "area:read" (GET, HEAD) and "area:write" (every method) over
areas of /api/v1/<prefix>. A token without scopes has its user's full rights (tokens issued
before scopes existed). The user's own visibility rules apply on top in every case: a scope
narrows what a token can do, it never widens it."""

from __future__ import annotations

import functools

from django.utils.translation import gettext_lazy as _

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_ROOT = "/api/v1/"

AREAS: dict[str, object] = {
    "customers": _("Customers: companies, contacts, tags, timeline, follow-ups, pool, duplicates"),
    "catalog": _("Products and price lists"),
    "sales": _("Inquiries, opportunities, pipelines, samples"),
    "documents": _("Quotations, proforma invoices, their PDFs, exchange rates"),
    "orders": _("Orders, shipments, payments, receivables"),
    "imports": _("Imports and column mappings"),
    "reports": _("Reports, exports, grading, analysis, customs records"),
    "mail": _("Mailbox"),
    "service": _("Service: feedback, complaints, tickets"),
    "automation": _("Automation"),
    "integrations": _("Integrations"),
    "admin": _("Administration: audit trail, API tokens"),
}

# first path segment under /api/v1/ -> area
PREFIX_AREAS: dict[str, str] = {
    "companies": "customers", "contacts": "customers", "tags": "customers", "segments": "customers",
    "markets": "customers", "interactions": "customers", "whatsapp-imports": "customers",
    "followups": "customers", "reminder-rules": "customers", "notifications": "customers",
    "pools": "customers", "duplicates": "customers", "merges": "customers",
    "products": "catalog", "price-lists": "catalog",
    "inquiries": "sales", "opportunities": "sales", "pipelines": "sales", "samples": "sales",
    "quotations": "documents", "proforma-invoices": "documents", "documents": "documents",
    "seller-profiles": "documents", "document-templates": "documents", "exchange-rates": "documents",
    "orders": "orders", "shipments": "orders", "receivables": "orders", "payments": "orders",
    "imports": "imports", "import-mappings": "imports",
    "exports": "reports", "reports": "reports", "grading": "reports", "analysis": "reports",
    "customs-records": "reports",
    "audit-events": "admin", "api-tokens": "admin",
}  # fmt: skip

# apps that mount their routers through ROUTERS: every prefix they mount belongs to one area
APP_AREAS = {
    "tradecrm.mailbox.api": "mail",
    "tradecrm.service.api": "service",
    "tradecrm.automation.api": "automation",
    "tradecrm.integrations.api": "integrations",
    "tradecrm.security.api": "admin",
}

ALL_SCOPES = tuple(f"{area}:{level}" for area in AREAS for level in ("read", "write"))


@functools.cache
def _prefix_areas() -> dict[str, str]:
    import importlib

    table = dict(PREFIX_AREAS)
    for module, area in APP_AREAS.items():
        try:
            routers = importlib.import_module(module).ROUTERS
        except (ImportError, AttributeError):
            continue
        for prefix, _router in routers:
            table.setdefault(prefix.strip("/").split("/")[0], area)
    return table


def area_of(path: str) -> str | None:
    """The area of an API path ("/api/v1/companies/3" -> "customers"); None if unknown."""
    if not path.startswith(API_ROOT):
        return None
    first = path[len(API_ROOT) :].split("/", 1)[0]
    return _prefix_areas().get(first)


def validate_scopes(scopes) -> list[str]:
    """The scopes, deduplicated and sorted; ValueError naming the first unknown one."""
    result = set()
    for scope in scopes or []:
        scope = str(scope).strip()
        if scope not in ALL_SCOPES:
            raise ValueError(scope)
        result.add(scope)
    return sorted(result)


def allows(scopes: list[str] | None, method: str, path: str) -> bool:
    """May a token with `scopes` call `method path`? No scopes: yes (the user's full rights)."""
    if not scopes:
        return True
    area = area_of(path)
    if area is None:
        return False  # an area no scope names: a scoped token fails closed
    if f"{area}:write" in scopes:
        return True
    return method.upper() in READ_METHODS and f"{area}:read" in scopes
