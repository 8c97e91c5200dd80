"""HTML views (thin): the export download behind every list's "Export ▾" button, and the page where
an administrator sets who may export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from . import exports, selectors, services


def download_response(export: exports.Export) -> StreamingHttpResponse:
    """The export as a streamed download (nothing cached: the file holds customer data)."""
    response = StreamingHttpResponse(export.chunks(), content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def export(request, entity: str):
    """GET /exports/<list>/?format=csv|xlsx&<the list page's filters>."""
    if entity not in exports.ENTITY_KEYS:
        raise Http404
    params = {k: v for k, v in request.GET.items() if k not in ("format", "cursor")}
    try:
        prepared = exports.export_prepare(
            actor=request.user,
            entity=entity,
            fmt=request.GET.get("format") or "csv",
            params=params,
            via="web",
            language=get_language() or "",
        )
    except ValidationError as exc:
        problems = [f"{name}: {m}" for name, msgs in exc.message_dict.items() for m in msgs]
        return render(request, "reports/export_error.html", {"problems": problems}, status=400)
    return download_response(prepared)


@login_required
@require_http_methods(["GET", "POST"])
def export_permissions(request):
    """Administrators: which sales reps may export lists, and the latest exports."""
    if not request.user.is_admin:
        raise PermissionDenied(_("Only an administrator can change who may export."))
    if request.method == "POST":
        user = get_object_or_404(selectors.export_permission_users(), pk=request.POST.get("user") or 0)
        allowed = request.POST.get("allowed") == "1"
        services.export_permission_set(actor=request.user, user=user, allowed=allowed)
        if allowed:
            messages.success(request, _("%(user)s may now export lists.") % {"user": user})
        else:
            messages.success(request, _("%(user)s may no longer export lists.") % {"user": user})
        return redirect("reports:export_permissions")
    ctx = {
        "nav": "settings",
        "users": list(selectors.export_permission_users()),
        "always": selectors.always_exporting_users(),
        "events": selectors.recent_exports(),
        "labels": {k: exports.entities()[k].label for k in exports.ENTITY_KEYS},
    }
    return render(request, "reports/export_permissions.html", ctx)
