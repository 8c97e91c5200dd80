"""Campaign fixtures: alice's customers in a few time zones and languages (built in bulk), her
segment, her mailbox on a real SMTP server (aiosmtpd on 127.0.0.1) and a draft campaign."""

from __future__ import annotations

import pytest

from tradecrm.mailbox.testing import TEST_PASSWORD, TEST_USER, SmtpSink

# the real Dovecot of the mailbox tests (skipped locally without it, a failure in CI)
from tradecrm.mailbox.tests.conftest import dovecot_server, imap  # noqa: F401


@pytest.fixture
def smtp():
    sink = SmtpSink(user=TEST_USER, password=TEST_PASSWORD)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def make_mailbox(db):
    from tradecrm.mailbox.models import Mailbox

    def make(user, *, smtp_port=1, email="rep@example.test", **extra):
        data = {"email": email, "imap_host": "127.0.0.1", "imap_port": 1, "imap_ssl": False, "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port, "smtp_security": "none", "username": TEST_USER, "password": TEST_PASSWORD,
                "sync_enabled": False, **extra}  # fmt: skip
        return Mailbox.objects.create(user=user, **data)

    return make


def bulk_customers(owner, rows):
    """rows: (company name, country, tz, language, [(first name, email, contact language)]) ->
    companies, contacts (bulk inserts: fast)."""
    from tradecrm.customers.models import Company, Contact

    companies = Company.objects.bulk_create([
        Company(name=name, country=country, timezone=tz, preferred_language=lang, owner=owner, team_id=owner.team_id)
        for name, country, tz, lang, _people in rows
    ])  # fmt: skip
    contacts = []
    for company, (_n, _c, _t, _l, people) in zip(companies, rows, strict=True):
        for first, email, lang in people:
            contacts.append(Contact(company=company, first_name=first, email=email, emails=[email] if email else [],
                                    preferred_language=lang))  # fmt: skip
    return companies, Contact.objects.bulk_create(contacts)


@pytest.fixture
def customers(alice):
    """Chicago (en), Shanghai (zh contact), Berlin (de: falls back to en), and a company without
    an address; one address twice."""
    return bulk_customers(alice, [
        ("Acme Imports", "US", "America/Chicago", "en", [("John", "john@acme.test", ""), ("Mary", "mary@acme.test", "")]),
        ("Hua Trading", "CN", "Asia/Shanghai", "zh-hans", [("Li", "li@hua.test", "zh")]),
        ("Berlin GmbH", "DE", "Europe/Berlin", "de", [("Hans", "hans@berlin.test", "de"),
                                                      ("Dup", "JOHN@acme.test", "")]),
        ("No Mail Ltd", "GB", "Europe/London", "", [("Nomail", "", "")]),
    ])  # fmt: skip


@pytest.fixture
def segment(alice):
    from tradecrm.customers.models import SavedSegment

    return SavedSegment.objects.create(name="All mine", owner=alice, filters={})


CONTENTS = [
    {"language": "en", "subject": "New LED panels for {{ company.name }}", "subject_b": "{{ contact.first_name }}, 20% off",
     "body": "Dear {{ contact.first_name }},\nsee https://example.com/catalog?x=1\n{{ user.first_name }}"},
    {"language": "zh", "subject": "{{ company.name }} 新品", "subject_b": "{{ contact.first_name }}，八折",
     "body": "{{ contact.first_name }} 您好，\n请看 https://example.com/zh\n{{ user.first_name }}"},
]  # fmt: skip


@pytest.fixture
def campaign_data(segment):
    def data(mailboxes, **extra):
        return {"name": "Spring LED", "segment": segment.pk, "mailboxes": [m.pk for m in mailboxes],
                "contents": [dict(c) for c in CONTENTS], "fallback_language": "en", "split_b": 50,
                "window_start": 9, "window_end": 17, "per_hour": 100, "per_day": 500, "skip_weekends": False,
                **extra}  # fmt: skip

    return data
