from django.utils import translation


class UserLanguageMiddleware:
    """The signed-in user's saved language wins over the browser's Accept-Language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class AuditContextMiddleware:
    """Audit events written while serving a request are attributed to the web UI, or to the API
    for paths under /api/, with the client's address (tradecrm.audit.context)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from tradecrm.audit.context import Source, audit_context, client_ip

        source = Source.API if request.path_info.startswith("/api/") else Source.UI
        with audit_context(source=source, ip=client_ip(request)):
            return self.get_response(request)


class ReadOnlyRoleMiddleware:
    """A read-only user changes nothing: besides the services' own refusals (customers, follow-ups,
    pool, merges), every POST/PUT/PATCH/DELETE they send is answered 403 here — a 403 page, or the
    API's JSON error — except their own account matters (sign-out, language, settings, security,
    notifications read). The API's bearer tokens are looked up only for such writes."""

    OPEN_NAMESPACES = frozenset({"accounts", "security", "notifications"})
    OPEN_API_PREFIXES = ("/api/v1/notifications", "/api/v1/api-tokens", "/api/v1/me")
    SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.SAFE and request.path_info.startswith("/api/"):
            if not request.path_info.startswith(self.OPEN_API_PREFIXES) and self._api_caller_read_only(request):
                from tradecrm.core.api import json_response

                from .access import read_only_message

                return json_response({"detail": read_only_message()}, status=403)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in self.SAFE or request.path_info.startswith("/api/"):
            return None
        user = getattr(request, "user", None)
        if user is None or not getattr(user, "is_read_only", False):
            return None
        match = request.resolver_match
        if match is not None and match.namespace in self.OPEN_NAMESPACES:
            return None
        from django.core.exceptions import PermissionDenied

        from .access import read_only_message

        raise PermissionDenied(read_only_message())

    @staticmethod
    def _api_caller_read_only(request) -> bool:
        from .models import ApiToken, Role

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:  # the web UI's session
            return bool(getattr(user, "is_read_only", False))
        header = request.headers.get("Authorization", "")
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip() or len(raw) > 200:
            return False
        role, superuser = (
            ApiToken.objects.filter(key_hash=ApiToken.hash(raw.strip()), revoked_at__isnull=True)
            .values_list("user__role", "user__is_superuser")
            .first()
        ) or (None, False)
        return role == Role.READ_ONLY and not superuser
