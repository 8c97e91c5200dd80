"""A real Dovecot (IMAP) for the whole session and an aiosmtpd server per test that needs one.
Without Dovecot installed locally the IMAP tests are skipped with the reason; in CI `.ci/run`
installs it first (make mail-deps), so there they run."""

from __future__ import annotations

import os

import pytest

from tradecrm.mailbox.testing import TEST_PASSWORD, TEST_USER, Dovecot, SmtpSink, dovecot_available


@pytest.fixture(scope="session")
def dovecot_server():
    if not dovecot_available():
        if os.environ.get("CI"):
            pytest.fail("dovecot is not installed: CI must run `make mail-deps` first")
        pytest.skip("Dovecot is not installed here (run `make mail-deps`, or apt-get install dovecot-imapd)")
    server = Dovecot.create()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def imap(dovecot_server):
    """The test user's mailbox, emptied for this test."""
    dovecot_server.reset()
    return dovecot_server


@pytest.fixture
def smtp():
    sink = SmtpSink(user=TEST_USER, password=TEST_PASSWORD)
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox_for(db):
    from tradecrm.mailbox.models import Mailbox

    def make(user, *, imap_port=1, smtp_port=1, **extra):
        data = {"email": "rep@example.test", "imap_host": "127.0.0.1", "imap_port": imap_port, "imap_ssl": False,
                "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_security": "none", "username": TEST_USER,
                "password": TEST_PASSWORD, **extra}
        return Mailbox.objects.create(user=user, **data)

    return make


@pytest.fixture
def customer(alice, make_company):
    """Acme (acme-imports.com) with contact John <john@acme-imports.com>, owned by alice."""
    from tradecrm.customers.services import contact_create

    company = make_company(name="Acme Imports LLC", country="US", email="info@acme-imports.com",
                           timezone="America/Chicago")
    contact = contact_create(actor=alice, company=company,
                             data={"first_name": "John", "last_name": "Doe", "emails": ["john@acme-imports.com"]})
    return company, contact


def raw_mail(*, frm="John Doe <john@acme-imports.com>", to="rep@example.test", subject="Inquiry: LED panels",
             body="Please quote 500 pcs.", msgid="<m1@acme-imports.com>", extra_headers="", date="Tue, 24 Nov 2026 10:00:00 +0000"):
    head = ""
    if frm is not None:
        head += f"From: {frm}\r\n"
    head += f"To: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
    if msgid:
        head += f"Message-ID: {msgid}\r\n"
    head += extra_headers
    return (head + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
