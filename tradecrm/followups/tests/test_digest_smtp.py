"""The daily digest through a real SMTP server (aiosmtpd on 127.0.0.1, a free port), parsed back
with the email package: To, Subject, the follow-ups' titles, and a zh-Hans variant."""

import email
import email.policy
import socket
from datetime import UTC, datetime

import pytest
import time_machine
from aiosmtpd.controller import Controller

from tradecrm.followups import digest
from tradecrm.followups.models import FollowUp

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 1, 0, 5, tzinfo=UTC)  # 08:05 in Shanghai on China's National Day


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.TRADECRM_BASE_URL = "https://crm.example.com"
    yield inbox
    controller.stop()


def parts(msg):
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_digest_over_smtp_in_english_and_chinese(smtp, alice, bob, make_company):
    cn = make_company(name="Shenzhen Buyer Co", country="CN", timezone="Asia/Shanghai")
    us = make_company(name="Acme Imports LLC", country="US", timezone="America/Chicago")
    for user, lang in ((alice, "en"), (bob, "zh-hans")):
        user.email, user.language, user.daily_digest = f"{user.username}@example.com", lang, True
        user.save()
        FollowUp.objects.create(
            assignee=user,
            company=us,
            title=f"Send price list to {user.username}",
            due_at=datetime(2026, 9, 29, 2, 0, tzinfo=UTC),
        )
        FollowUp.objects.create(
            assignee=user,
            company=cn,
            title=f"Call {user.username}'s buyer",
            due_at=datetime(2026, 10, 1, 6, 0, tzinfo=UTC),
        )
    with time_machine.travel(NOW, tick=False):
        assert digest.send_due_digests() == {"sent": 2}

    received = {rcpt[0]: msg for rcpt, msg in smtp.messages}
    assert set(received) == {"alice@example.com", "bob@example.com"}

    en = received["alice@example.com"]
    assert en["To"] == "alice@example.com" and en["From"] == "TradeCRM <crm@localhost>"
    assert en["Subject"] == "TradeCRM daily digest, 1 Oct: 1 overdue, 1 due today"
    assert en["Content-Language"] == "en"
    text, html = parts(en)
    assert "Send price list to alice" in text and "Call alice's buyer" in text
    assert "Call alice&#x27;s buyer" in html and "Send price list to alice" in html
    assert "due Thu 1 Oct 14:00" in text and "public holiday: National Day" in text
    assert (
        f"https://crm.example.com/customers/{cn.id}/" in text
        and f'href="https://crm.example.com/customers/{us.id}/"' in html
    )
    assert "bob" not in text

    zh = received["bob@example.com"]
    assert zh["To"] == "bob@example.com" and zh["Content-Language"] == "zh-hans"
    text, html = parts(zh)
    assert "Send price list to bob" in text and "Call bob's buyer" in text
    assert "10月1日 星期四 14:00" in text  # the date in Chinese
    assert "国庆节" in text and "国庆节" in html  # the holiday's Chinese name
    assert '<html lang="zh-hans">' in html
    assert zh["Subject"]
