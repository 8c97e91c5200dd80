"""TradeCRM settings: one file, driven by the environment.

TRADECRM_DATA_DIR  where the SQLite database, huey queue, uploads and secrets live (default ./var)
DATABASE_URL       postgres://user@host:port/name switches to PostgreSQL; unset means SQLite
TRADECRM_DEBUG     1 for Django debug pages
TRADECRM_SECRET_KEY  overrides the generated key kept in the data dir
"""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("TRADECRM_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
TESTING = os.environ.get("TRADECRM_TESTING") == "1"


def _secret_key() -> str:
    if os.environ.get("TRADECRM_SECRET_KEY"):
        return os.environ["TRADECRM_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
# Encryption at rest (tradecrm/core/crypto.py, decision 0011): "kid:base64key,…" (first = current),
# else the key file below — kept outside the database; `tradecrm keys init` creates it.
TRADECRM_ENCRYPTION_KEYS = os.environ.get("TRADECRM_ENCRYPTION_KEYS", "")
TRADECRM_KEY_FILE = os.environ.get("TRADECRM_KEY_FILE") or str(BASE_DIR / "var" / "keys" / "tradecrm.keys")
DEBUG = os.environ.get("TRADECRM_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("TRADECRM_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TRADECRM_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from our static files, not from a CDN
    "huey.contrib.djhuey",
    "axes",  # sign-in lockout (security section below)
    "tradecrm.core",
    "tradecrm.accounts",
    "tradecrm.customers",
    "tradecrm.audit",
    "tradecrm.interactions",
    "tradecrm.followups",
    "tradecrm.catalog",
    "tradecrm.sales",
    "tradecrm.documents",
    "tradecrm.orders",
    "tradecrm.dedup",
    "tradecrm.imports",
    "tradecrm.customs",
    "tradecrm.reports",
    "tradecrm.grading",
    "tradecrm.analysis",
    "tradecrm.pool",
    "tradecrm.backups",
    "tradecrm.security",
    "tradecrm.automation",
    "tradecrm.mailbox",
    "tradecrm.service",
    "tradecrm.campaigns",  # email campaigns (EDM)
    "tradecrm.integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tradecrm.accounts.middleware.AuditContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tradecrm.accounts.middleware.UserLanguageMiddleware",
    "tradecrm.accounts.middleware.ReadOnlyRoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "tradecrm.security.middleware.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # last: turns a lockout flagged during sign-in into the sign-in page with its message
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

# --- database -------------------------------------------------------------------------------
_db_url = os.environ.get("DATABASE_URL", "").strip()
if _db_url:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # psycopg 3 connection pool inside each worker process; CONN_MAX_AGE must stay 0 with it.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 8, "timeout": 10}
        DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TRADECRM_TEST_DB", "test_tradecrm")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("TRADECRM_SQLITE_PATH") or str(DATA_DIR / "tradecrm.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=1073741824;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            # Each gunicorn sync worker keeps its connection: opening one (connect, PRAGMAs, a cold
            # page cache) cost 2.8x the list API's throughput (docs/decisions/0001-app-server.md).
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "customers:company_list"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- sign-in security (tradecrm.security; docs/user-guide/en/security.md) -----------------------
# Absolute session length (hours since sign-in) and idle timeout (minutes without a request);
# both are enforced by tradecrm.security.middleware.SessionExpiryMiddleware. 0 disables the idle one.
SESSION_COOKIE_AGE = int(float(os.environ.get("TRADECRM_SESSION_HOURS") or 12) * 3600)
TRADECRM_SESSION_IDLE_MINUTES = int(os.environ.get("TRADECRM_SESSION_IDLE_MINUTES") or 120)
# Lockout (django-axes): N failed sign-ins for one user name from one address lock that pair out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = os.environ.get("TRADECRM_LOCKOUT", "1") != "0"
AXES_FAILURE_LIMIT = int(os.environ.get("TRADECRM_LOCKOUT_FAILURES") or 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("TRADECRM_LOCKOUT_MINUTES") or 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the audit trail already
AXES_CLIENT_IP_CALLABLE = "tradecrm.security.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "tradecrm.security.lockout.lockout_response"
AXES_VERBOSE = False
# TLS: set TRADECRM_TLS=1 when users reach TradeCRM over https (directly or through a proxy that
# sends X-Forwarded-Proto). Cookies then travel only over https, and browsers are told (HSTS) to
# use nothing else.
TRADECRM_TLS = os.environ.get("TRADECRM_TLS") == "1"
if TRADECRM_TLS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("TRADECRM_SSL_REDIRECT", "1") == "1"
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("TRADECRM_HSTS_SECONDS") or 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("TRADECRM_HSTS_SUBDOMAINS") == "1"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp 4): scripts only from our own files or with the page's
# nonce, no eval (htmx runs with allowEval off), nothing from other sites. Inline style
# attributes stay allowed: ECharts and Tom Select write them, and they cannot run code.
_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", NONCE],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if os.environ.get("TRADECRM_CSP", "enforce") == "report-only":
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP}
elif os.environ.get("TRADECRM_CSP", "enforce") != "off":
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "tradecrm_language"

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": DATA_DIR / "media"}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# request bodies: the API refuses oversized JSON with 413 before parsing
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- imports, duplicate check, exports ---------------------------------------------------------
# Largest file an import accepts (a 2 GB upload is refused while it streams in, not after).
TRADECRM_IMPORT_MAX_BYTES = int(os.environ.get("TRADECRM_IMPORT_MAX_BYTES") or 512 * 1024 * 1024)
# Rows written per committed chunk: the unit a crashed import resumes from.
TRADECRM_IMPORT_CHUNK_ROWS = int(os.environ.get("TRADECRM_IMPORT_CHUNK_ROWS") or 5000)
# Score (0–1) from which two companies or contacts count as likely duplicates.
TRADECRM_DEDUP_THRESHOLD = float(os.environ.get("TRADECRM_DEDUP_THRESHOLD") or 0.85)
# What each entry point does with a likely duplicate: block, warn or allow.
TRADECRM_DEDUP_POLICY = {"form": "warn", "api": "warn", "import": "merge"}

# --- background worker (huey) ---------------------------------------------------------------
_redis_url = os.environ.get("TRADECRM_REDIS_URL", "")
if _redis_url:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "tradecrm", "url": _redis_url, "immediate": TESTING}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tradecrm",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        # permissions/encryption: wait like the main database (huey's default is 5 s) so an
        # enqueue from a busy import process never fails with "database is locked"
        "timeout": 20,
        "immediate": TESTING,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TRADECRM_LOG_LEVEL", "WARNING")},
}

# --- product settings -----------------------------------------------------------------------
TRADECRM_PAGE_SIZE = 50
TRADECRM_DEFAULT_OFFICE_HOURS = (9, 18)

# attachments on the timeline: stored under DATA_DIR/media/attachments, type sniffed from the bytes
TRADECRM_ATTACHMENT_MAX_BYTES = int(float(os.environ.get("TRADECRM_ATTACHMENT_MAX_MB", "25")) * 1024 * 1024)
TRADECRM_ATTACHMENT_FORBIDDEN_EXTENSIONS = frozenset(
    "exe dll com bat cmd msi scr ps1 vbs js jar sh apk app deb rpm".split()
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads spool to a temporary file

# --- outgoing mail (daily digest; later campaigns) ------------------------------------------
EMAIL_BACKEND = os.environ.get("TRADECRM_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("TRADECRM_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("TRADECRM_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("TRADECRM_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TRADECRM_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("TRADECRM_SMTP_TLS", "") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("TRADECRM_MAIL_FROM", "TradeCRM <crm@localhost>")
TRADECRM_BASE_URL = os.environ.get("TRADECRM_BASE_URL", "http://127.0.0.1:8000")

# --- money ----------------------------------------------------------------------------------
# Reports and forecasts convert every document into this currency with the rate of its date.
TRADECRM_BASE_CURRENCY = os.environ.get("TRADECRM_BASE_CURRENCY", "USD").upper()
# The newest rate on or before a document's date is used if it is at most this many days old
# (central banks publish no rates on weekends and holidays); older means "no rate".
TRADECRM_FX_MAX_AGE_DAYS = int(os.environ.get("TRADECRM_FX_MAX_AGE_DAYS", "7"))
# Quotations need a manager's approval before they can be issued.
TRADECRM_QUOTATION_APPROVAL = os.environ.get("TRADECRM_QUOTATION_APPROVAL", "") == "1"
# automation: a quotation whose costed lines earn less than this margin (%, after the export tax
# rebate) needs a manager's approval before it is issued; empty = no floor.
TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT = os.environ.get("TRADECRM_APPROVAL_MARGIN_FLOOR_PERCENT", "") or None
# Render an issued quotation's / PI's PDF in the background right after issue (first download cached).
TRADECRM_PDF_PREWARM = os.environ.get("TRADECRM_PDF_PREWARM", "1") == "1"
