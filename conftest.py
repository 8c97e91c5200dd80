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


# --- one migration run per test run -------------------------------------------------------------
# Migrating the test database costs ~15 s (Django re-renders the related models after each
# operation), and every xdist worker used to pay it. Now the first worker to need a database
# migrates it as usual and leaves a copy; the others start from that copy, the way Django's own
# parallel runner clones its test database: SQLite through the backup API into the worker's
# in-memory database, PostgreSQL with CREATE DATABASE ... TEMPLATE. Without xdist nothing changes.


def _xdist_shared_dir(request):
    workerinput = getattr(request.config, "workerinput", None)
    if not workerinput or int(workerinput.get("workercount", 1)) < 2:
        return None
    # xdist gives each worker <run's basetemp>/<worker id>: the parent is this run's alone
    return request.getfixturevalue("tmp_path_factory").getbasetemp().parent


def _pg_template_name(connection) -> str:
    import re

    name = connection.settings_dict["TEST"].get("NAME") or "test_" + connection.settings_dict["NAME"]
    return re.sub(r"_gw\d+$", "", name) + "_template"


def _save_template(connection, shared_dir) -> None:
    if connection.vendor == "sqlite":
        import sqlite3

        target = sqlite3.connect(shared_dir / "testdb-template.sqlite3")
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
    else:
        # CREATE DATABASE ... TEMPLATE needs the source without connections (this worker's pool)
        connection.close()
        connection.close_pool()
        qn = connection.ops.quote_name
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {qn(_pg_template_name(connection))}")
            cursor.execute(
                f"CREATE DATABASE {qn(_pg_template_name(connection))} "
                f"WITH TEMPLATE {qn(connection.settings_dict['NAME'])}"
            )
    (shared_dir / "testdb-template.ready").write_text(connection.vendor)


def _create_from_template(connection, shared_dir, verbosity) -> str:
    """Django's create_test_db with the copy of the migrated database instead of `migrate`."""
    from django.conf import settings as django_settings
    from django.core.management import call_command

    creation = connection.creation
    test = connection.settings_dict["TEST"]
    if connection.vendor == "postgresql":
        old_template = test.get("TEMPLATE")
        test["TEMPLATE"] = _pg_template_name(connection)
        try:
            name = creation._create_test_db(verbosity, autoclobber=True, keepdb=False)
        finally:
            test["TEMPLATE"] = old_template
    else:
        name = creation._create_test_db(verbosity, autoclobber=True, keepdb=False)
    connection.close()
    django_settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name
    if connection.vendor == "sqlite":
        import sqlite3

        source = sqlite3.connect(shared_dir / "testdb-template.sqlite3")
        connection.ensure_connection()
        source.backup(connection.connection)
        source.close()
    call_command("createcachetable", database=connection.alias)
    connection.ensure_connection()
    return name


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    shared_dir = _xdist_shared_dir(request)
    verbosity = request.config.option.verbose
    plain = (
        shared_dir is None
        or not django_db_use_migrations
        or django_db_keepdb
        or set(connections) != {"default"}
        or connections["default"].vendor not in ("sqlite", "postgresql")
    )
    if plain:  # pytest-django's own fixture (a session fixture: it tears down at the end)
        request.getfixturevalue("_tradecrm_plain_db_setup")
        yield
        return
    import fcntl

    connection = connections["default"]
    with django_db_blocker.unblock(), open(shared_dir / "testdb-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (shared_dir / "testdb-template.ready").exists():
                old_name = connection.settings_dict["NAME"]
                _create_from_template(connection, shared_dir, verbosity)
                db_cfg = [(connection, old_name, True)]
            else:
                db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases={"default"})
                _save_template(connection, shared_dir)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield
    with django_db_blocker.unblock():
        try:
            teardown_databases(db_cfg, verbosity=verbosity)
        except Exception as exc:  # noqa: BLE001 - as pytest-django: a warning, not a failure
            request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


@pytest.fixture(scope="session")
def _tradecrm_plain_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    from pytest_django.fixtures import django_db_setup as plugin_setup

    yield from plugin_setup.__wrapped__(
        request,
        django_test_environment,
        django_db_blocker,
        django_db_use_migrations,
        django_db_keepdb,
        django_db_createdb,
        django_db_modify_db_settings,
    )


def pytest_sessionfinish(session):
    """The xdist controller drops the PostgreSQL template once every worker is done."""
    if getattr(session.config, "workerinput", None) is not None or not getattr(session.config.option, "numprocesses", None):
        return
    from django.conf import settings as django_settings

    if django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    with session.config.stash[blocking_manager_key].unblock():
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(_pg_template_name(connection))}")
