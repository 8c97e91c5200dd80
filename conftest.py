"""Test personas shared by every app's tests.

Sales department (root) ── East team: alice (sales), bob (sales)
                          carol manages the Sales department (sees East as a sub-team)
West team: dave (sales) — the other team, who must get 404 on everything above
admin: sees all
"""

import os

os.environ.setdefault("TRADECRM_TESTING", "1")

import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory):
    """Each test process gets its own data dir (uploads, import files, backups): import job 1 of
    one xdist worker must not read the upload of job 1 of another, nor of a concurrent run."""
    from django.conf import settings as django_settings

    data_dir = tmp_path_factory.mktemp("data")
    django_settings.DATA_DIR = data_dir
    # a fixed test key for encrypted fields and files (tradecrm/core/crypto.py); never a real one
    django_settings.TRADECRM_ENCRYPTION_KEYS = "test1:" + "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktMzJieXQ="
    default = django_settings.STORAGES["default"]
    django_settings.STORAGES = {
        **django_settings.STORAGES,
        "default": {**default, "OPTIONS": {**default.get("OPTIONS", {}), "location": data_dir / "media"}},
    }


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests travel in time with a signed-in client: session expiry (tradecrm.security) is off
    # here, as long as Django's default; tradecrm/security/tests turn it on where it is tested.
    settings.TRADECRM_SESSION_IDLE_MINUTES = 0
    settings.SESSION_COOKIE_AGE = 14 * 24 * 3600
    # Issuing a document queues its PDF render after commit; tests that want it turn it back on.
    settings.TRADECRM_PDF_PREWARM = False
    # pytest-django loads the settings before this file runs, so TRADECRM_TESTING above may come too
    # late: serve static files without a manifest, so that rendering a page needs no collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english_by_default():
    """Every test starts in English: a request for a zh-Hans user (or with a language cookie)
    leaves its language active in the thread, which would leak into the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture
def teams(db):
    from tradecrm.accounts.models import Team

    sales = Team.objects.create(name="Sales")
    east = Team.objects.create(name="East", parent=sales)
    west = Team.objects.create(name="West")
    return {"sales": sales, "east": east, "west": west}


def _user(username, role, team, **extra):
    from tradecrm.accounts.models import User

    u = User(username=username, role=role, team=team, first_name=username.capitalize(), **extra)
    u.set_password("pw-" + username + "-12345")
    u.save()
    return u


@pytest.fixture
def alice(teams):
    return _user("alice", "sales", teams["east"])


@pytest.fixture
def bob(teams):
    return _user("bob", "sales", teams["east"])


@pytest.fixture
def carol(teams):
    return _user("carol", "manager", teams["sales"])


@pytest.fixture
def dave(teams):
    return _user("dave", "sales", teams["west"])


@pytest.fixture
def admin(teams):
    return _user("admin", "admin", None, is_staff=True, is_superuser=True)


@pytest.fixture
def make_company(alice):
    from tradecrm.customers.services import company_create

    def make(actor=None, **data):
        data.setdefault("name", "Acme Imports LLC")
        data.setdefault("country", "US")
        return company_create(actor=actor or alice, data=data)

    return make


@pytest.fixture
def client_for(client):
    from django.test import Client

    def login(user):
        c = Client()
        c.force_login(user)
        return c

    return login
