"""Sign in / sign out (Django's auth views with our templates) and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


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
    if user.is_authenticated and user.language != lang:
        user.language = lang
        user.save(update_fields=["language"])
    translation.activate(lang)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )
    return response
