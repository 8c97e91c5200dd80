"""Sign in / sign out (Django's auth views with our templates) and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .forms import PreferencesForm, SignInForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # A language picked on the sign-in page is this person's choice: keep it on their account.
        # (It lives in the anonymous session, which sign-out flushes, so it never passes to the
        # next person who signs in on the same browser.)
        chosen = self.request.session.pop(LOGIN_LANGUAGE_KEY, None)
        response = super().form_valid(form)
        user = form.get_user()
        if chosen in dict(settings.LANGUAGES) and chosen != user.language:
            user.language = chosen
            user.save(update_fields=["language"])
        return response


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
