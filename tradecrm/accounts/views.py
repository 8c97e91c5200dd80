"""Sign in / sign out (Django's auth views with our templates), the language switch, and the
administration of users, roles & permissions and offboarding."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors
from .forms import OffboardForm, PreferencesForm, SignInForm, UserAdminForm
from .models import WRITE_ACTIONS


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # A language picked on the sign-in page is this person's choice: keep it on their account.
        # (It lives in the anonymous session, which sign-out flushes, so it never passes to the
        # next person who signs in on the same browser.)
        from tradecrm.security.views import begin_pending, next_step

        chosen = self.request.session.pop(LOGIN_LANGUAGE_KEY, None)
        user = form.get_user()
        if chosen in dict(settings.LANGUAGES) and chosen != user.language:
            user.language = chosen
            user.save(update_fields=["language"])
        # The password was right. With two-factor sign-in the session is not signed in yet: it
        # only remembers whose password it was until the code (or the set-up) is done.
        step = next_step(user)
        if step:
            return HttpResponseRedirect(begin_pending(self.request, user, step, self.get_success_url()))
        return super().form_valid(form)


class SignOutView(auth_views.LogoutView):
    pass


LOGIN_LANGUAGE_KEY = "tradecrm_login_language"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("customers:company_list") if request.user.is_authenticated else reverse("accounts:login")


@require_POST
def set_language(request):
    """Switch the interface language. Saved on the user, so it follows them to any browser;
    the cookie covers the sign-in page and anonymous visitors."""
    lang = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request))
    if lang not in dict(settings.LANGUAGES):
        return response
    user = request.user
    if not user.is_authenticated:
        request.session[LOGIN_LANGUAGE_KEY] = lang
    elif user.language != lang:
        user.language = lang
        user.save(update_fields=["language"])
    translation.activate(lang)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "timezone": user.timezone,
        "work_start": user.work_start,
        "work_end": user.work_end,
        "daily_digest": user.daily_digest,
    }
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        for field, value in form.cleaned_data.items():
            setattr(user, field, value)
        user.save(update_fields=list(form.cleaned_data))
        translation.activate(user.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("accounts:preferences")
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            httponly=True,
        )
        return response
    return render(
        request,
        "accounts/preferences.html",
        {"form": form, "nav": "preferences"},
        status=422 if form.errors else 200,
    )


# --- users, roles & permissions, offboarding ------------------------------------------------------


def _admin_only(user) -> None:
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators may change roles and permissions."))


@login_required
def user_list(request):
    """Administrators: every account; managers: the people of the teams they manage (to hand
    over the work of someone who leaves)."""
    from .services import can_offboard

    user = request.user
    if not (user.is_admin or user.is_manager):
        raise PermissionDenied(_("Only administrators and managers may see the user list."))
    rows = list(selectors.users_for_user(user).select_related("team").order_by("-is_active", "username"))
    for u in rows:
        u.may_offboard = can_offboard(user, u)
    return render(request, "accounts/user_list.html", {"nav": "users", "users": rows})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    from .services import user_update

    target = selectors.user_get_for_user(request.user, pk)
    _admin_only(request.user)
    form = UserAdminForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        try:
            user_update(actor=request.user, user=target, data=form.service_data())
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, m)
        else:
            messages.success(request, _("“%(user)s” saved.") % {"user": target.username})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"nav": "users", "form": form, "target": target},
                  status=422 if form.errors else 200)  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def user_offboard(request, pk: int):
    from tradecrm.pool.models import Pool

    from .models import User
    from .services import can_offboard
    from .services import user_offboard as offboard

    leaving = selectors.user_get_for_user(request.user, pk)
    if not can_offboard(request.user, leaving):
        raise PermissionDenied(_("Only an administrator or the user's manager may hand over their work."))
    targets = selectors.handover_targets(request.user, leaving)
    pools = Pool.objects.filter(active=True).order_by("name")
    form = OffboardForm(request.POST or None, targets=targets, pools=pools)
    summary = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        to_user = targets.filter(pk=d["to"]).first() if d["to"] else None
        pool = pools.filter(pk=d["pool"]).first() if d["pool"] else None
        try:
            summary = offboard(actor=request.user, user=leaving, to_user=to_user, pool=pool,
                               deactivate=d["deactivate"])  # fmt: skip
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for m in msgs:
                    form.add_error(field if field in form.fields else None, m)
        else:
            messages.success(request, _(
                "Handed over: %(customers)s customers, %(followups)s open follow-ups, %(opportunities)s open "
                "opportunities.") % summary)  # fmt: skip
            leaving = User.objects.get(pk=leaving.pk)
    from tradecrm.customers.models import Company
    from tradecrm.followups.models import FollowUp, FollowUpStatus
    from tradecrm.sales.models import Opportunity, OpportunityStatus

    holds = {
        "customers": Company.objects.filter(owner_id=leaving.pk).count(),
        "followups": FollowUp.objects.filter(assignee_id=leaving.pk, status=FollowUpStatus.OPEN).count(),
        "opportunities": Opportunity.objects.filter(owner_id=leaving.pk, status=OpportunityStatus.OPEN).count(),
    }
    ctx = {"nav": "users", "form": form, "target": leaving, "holds": holds, "summary": summary}
    return render(request, "accounts/user_offboard.html", ctx, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def role_list(request):
    """Roles & permissions: each role's visibility and allowed actions (administrators)."""
    from tradecrm.core.errors import ConcurrentEditError

    from .models import Action, Role, Scope
    from .services import role_policy_update

    _admin_only(request.user)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        role = request.POST.get("role", "")
        try:
            version = int(request.POST.get("version") or 0) or None
        except ValueError:
            version = None
        data = {"scope": request.POST.get("scope", ""), "actions": request.POST.getlist("actions")}
        try:
            role_policy_update(actor=request.user, role=role, data=data, version=version)
        except ValidationError as exc:
            errors = {role: [m for msgs in exc.message_dict.values() for m in msgs]}
        except ConcurrentEditError:
            errors = {role: [_("Someone changed this role meanwhile: reload the page and make your change again.")]}
        else:
            messages.success(request, _("Permissions of “%(role)s” saved.") % {"role": dict(Role.choices).get(role, role)})
            return redirect("accounts:roles")
    rows = selectors.policy_rows()
    for r in rows:
        r["errors"] = errors.get(r["role"], [])
    ctx = {"nav": "roles", "rows": rows, "scopes": Scope.choices, "actions": Action.choices,
           "write_actions": sorted(WRITE_ACTIONS)}  # fmt: skip
    return render(request, "accounts/role_list.html", ctx, status=422 if errors else 200)
