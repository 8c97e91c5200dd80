"""The "Teams" page: departments with their teams as a tree; administrators create a department
or a team inside one, rename a team and move it (every change through accounts.teams)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import teams


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request):
    user = request.user
    if not (user.is_admin or user.is_manager):
        raise PermissionDenied(_("Only administrators and managers may see the teams."))
    errors: dict[str, list[str]] = {}
    posted = {}
    if request.method == "POST":
        posted = {"name": request.POST.get("name", ""), "parent": request.POST.get("parent", "")}
        try:
            team = teams.team_create(actor=user, data=posted)
        except ValidationError as exc:
            errors = _errors_of(exc)
        else:
            if team.parent_id:
                messages.success(request, _("Team “%(name)s” created.") % {"name": team.name})
            else:
                messages.success(request, _("Department “%(name)s” created.") % {"name": team.name})
            return redirect("accounts:teams")
    ctx = {"nav": "users", "rows": teams.team_tree(user), "errors": errors, "posted": posted,
           "can_edit": user.is_admin, "edit_errors": {}}  # fmt: skip
    return render(request, "accounts/team_list.html", ctx, status=422 if errors else 200)


@login_required
@require_POST
def team_edit(request, pk: int):
    team = teams.team_get_for_user(request.user, pk)
    data = {"name": request.POST.get("name", ""), "parent": request.POST.get("parent", "")}
    try:
        teams.team_update(actor=request.user, team=team, data=data)
    except ValidationError as exc:
        ctx = {"nav": "users", "rows": teams.team_tree(request.user), "errors": {}, "posted": {},
               "can_edit": request.user.is_admin,
               "edit_errors": {team.pk: [m for ms in _errors_of(exc).values() for m in ms]}}  # fmt: skip
        return render(request, "accounts/team_list.html", ctx, status=422)
    messages.success(request, _("“%(name)s” saved.") % {"name": team.name})
    return redirect("accounts:teams")
