"""HTML views (thin) of grading: the administrators' settings page (dimensions, tiers with their
service strategy, veto rules), the runs with their phase times and "Recalculate now", and the
lazily loaded panel on the customer page with the manual-tier form for managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .config import DIMENSION_CODES, DIMENSION_LABELS, NULLABLE
from .models import VetoKind


def _admin(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied(_("Only an administrator may see and change the grading configuration."))


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}


def _thresholds_text(ts: list[dict]) -> str:
    def n(v):
        return str(int(v)) if float(v).is_integer() else str(v)

    return "\n".join(f"{n(t['value'])} = {n(t['points'])}" for t in ts)


def _parse_thresholds(text: str) -> list | str:
    """'value = points' per line (or separated by commas); garbage is passed through for the
    validator to name."""
    out = []
    for part in text.replace(",", "\n").replace(";", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        value, sep, points = part.partition("=")
        if not sep:
            value, sep, points = part.partition(":")
        out.append({"value": value.strip(), "points": points.strip() if sep else None})
    return out


def _context(request, **extra) -> dict:
    config, version = selectors.config_current()
    dims = []
    for code in DIMENSION_CODES:
        d = config["dimensions"].get(code, {})
        dims.append({"code": code, "label": DIMENSION_LABELS[code], "weight": d.get("weight", 0),
                     "neutral": d.get("neutral", 0), "nullable": code in NULLABLE,
                     "thresholds": _thresholds_text(d.get("thresholds", []))})  # fmt: skip
    tiers = selectors.tiers()
    return {"nav": "grading", "dims": dims, "config": config, "version": version, "tiers": tiers,
            "tier_rows": [*({"t": t, "checklist": "\n".join(t.checklist or [])} for t in tiers), {"t": None}],
            "vetoes": selectors.veto_rules(), "veto_kinds": VetoKind.choices, "errors": {},
            "runs": selectors.runs(5), **extra}  # fmt: skip


@login_required
def settings_page(request):
    _admin(request)
    return render(request, "grading/settings.html", _context(request))


@login_required
@require_POST
def config_save(request):
    _admin(request)
    p = request.POST
    data = {"window_days": p.get("window_days", ""), "dimensions": {},
            "lifecycle": {k: p.get(f"life_{k}", "") for k in ("new_days", "default_interval_days", "at_risk",
                                                                 "dormant", "lost")}}  # fmt: skip
    for code in DIMENSION_CODES:
        d = {
            "weight": p.get(f"weight_{code}", ""),
            "thresholds": _parse_thresholds(p.get(f"thresholds_{code}", "")),
        }
        if code in NULLABLE:
            d["neutral"] = p.get(f"neutral_{code}", "")
        data["dimensions"][code] = d
    try:
        services.config_update(actor=request.user, data=data, version=int(p.get("version") or 0) or None)
    except ValidationError as exc:
        ctx = _context(request, errors=_errors(exc), posted=p)
        return render(request, "grading/settings.html", ctx, status=422)
    messages.success(request, _("Grading configuration saved. It applies from the next run."))
    return redirect("grading:settings")


@login_required
@require_POST
def tiers_save(request):
    _admin(request)
    p = request.POST
    tiers = []
    for i in range(int(p.get("tier_count") or 0) + 1):
        code = p.get(f"code_{i}", "").strip()
        if not code and not p.get(f"name_{i}", "").strip():
            continue  # the empty row for a new tier
        if p.get(f"delete_{i}"):
            continue
        tiers.append({"code": code, "name": p.get(f"name_{i}", ""), "min_score": p.get(f"min_score_{i}", ""),
                      "color": p.get(f"color_{i}", ""), "followup_days": p.get(f"followup_days_{i}", ""),
                      "requires_account_manager": bool(p.get(f"manager_{i}")),
                      "checklist": p.get(f"checklist_{i}", "")})  # fmt: skip
    try:
        services.tiers_update(actor=request.user, tiers=tiers)
    except ValidationError as exc:
        return render(request, "grading/settings.html", _context(request, errors=_errors(exc)), status=422)
    messages.success(request, _("Tiers saved."))
    return redirect("grading:settings")


@login_required
@require_POST
def veto_create(request):
    _admin(request)
    p = request.POST
    data = {"name": p.get("name", ""), "kind": p.get("kind", ""), "cap_tier": p.get("cap_tier", ""),
            "countries": p.get("countries", ""), "ratings": p.get("ratings", ""),
            "threshold": p.get("threshold", "")}  # fmt: skip
    try:
        services.veto_create(actor=request.user, data=data)
    except ValidationError as exc:
        return render(request, "grading/settings.html", _context(request, errors=_errors(exc), veto_posted=p),
                      status=422)  # fmt: skip
    messages.success(request, _("Veto rule added."))
    return redirect("grading:settings")


@login_required
@require_POST
def veto_delete(request, pk: int):
    _admin(request)
    services.veto_delete(actor=request.user, rule=selectors.veto_get(pk))
    messages.success(request, _("Veto rule deleted."))
    return redirect("grading:settings")


@login_required
def run_list(request):
    _admin(request)
    return render(request, "grading/runs.html", {"nav": "grading", "runs": selectors.runs(50)})


@login_required
@require_POST
def run_start(request):
    services.request_run(actor=request.user)
    messages.success(request, _("Recalculation started in the background; refresh this page to see it."))
    return redirect("grading:runs")


def _panel(request, company, status: int = 200, errors: dict | None = None):
    company, grade = selectors.grade_for_user(request.user, company.pk)
    tiers = selectors.tiers()
    tier = next((t for t in tiers if grade and t.code == grade.tier), None)
    ctx = {"company": company, "g": grade, "tier": tier, "tiers": tiers, "breakdown": selectors.breakdown(grade),
           "history": selectors.history(company, 10), "can_override": services.can_override(request.user),
           "errors": errors or {}, "today": timezone.localdate(), "posted": request.POST if errors else {}}  # fmt: skip
    return render(request, "grading/_panel_body.html", ctx, status=status)


@login_required
def company_panel(request, company_pk: int):
    company, _grade = selectors.grade_for_user(request.user, company_pk)
    return _panel(request, company)


@login_required
@require_POST
def override_set(request, company_pk: int):
    company, _grade = selectors.grade_for_user(request.user, company_pk)
    try:
        services.override_set(actor=request.user, company=company, tier=request.POST.get("tier", ""),
                              reason=request.POST.get("reason", ""), until=request.POST.get("until", ""))  # fmt: skip
    except ValidationError as exc:
        return _panel(request, company, status=422, errors=_errors(exc))
    return _panel(request, company)


@login_required
@require_POST
def override_clear(request, company_pk: int):
    company, _grade = selectors.grade_for_user(request.user, company_pk)
    try:
        services.override_clear(actor=request.user, company=company)
    except ValidationError as exc:
        return _panel(request, company, status=422, errors=_errors(exc))
    return _panel(request, company)
