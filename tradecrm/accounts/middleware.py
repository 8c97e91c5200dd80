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
