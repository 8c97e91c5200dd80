"""Fixtures of the timeline tests: uploads land in a temporary media directory, and a customer
of alice's with two contacts."""

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


@pytest.fixture
def acme(make_company):
    return make_company(name="Acme Imports LLC", country="US", city="Chicago")


@pytest.fixture
def jane(alice, acme):
    from tradecrm.customers.services import contact_create

    return contact_create(actor=alice, company=acme, data={"first_name": "Jane", "last_name": "Doe"})


@pytest.fixture
def wang(alice, acme):
    from tradecrm.customers.services import contact_create

    return contact_create(actor=alice, company=acme, data={"name_local": "王小明"})


@pytest.fixture
def log(alice, acme):
    """interaction_create with defaults; keyword arguments override data fields."""
    from tradecrm.interactions.services import interaction_create

    def make(actor=None, company=None, files=(), **data):
        data.setdefault("type", "call")
        data.setdefault("direction", "out")
        data.setdefault("occurred_at", "2026-11-20T10:00:00+00:00")
        data.setdefault("subject", "Price follow-up")
        return interaction_create(actor=actor or alice, company=company or acme, data=data, files=files)

    return make
