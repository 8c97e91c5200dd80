"""In a real browser (`make test-browser`): a rep writes to a contact from a template, in the English
and the Chinese UI, scheduled for the customer's next morning (Chicago); when that morning comes the
scheduled send delivers both (to a local SMTP sink) and they are on the customer's timeline. Then a
damage claim is opened with a photo and moved through its workflow to closed."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(alice, make_company):
    from tradecrm.customers.services import contact_create
    from tradecrm.mailbox.models import MailTemplate
    from tradecrm.mailbox.testing import TEST_PASSWORD, TEST_USER, SmtpSink

    sink = SmtpSink(user=TEST_USER, password=TEST_PASSWORD)
    sink.start()
    company = make_company(name="Acme Imports LLC", country="US", timezone="America/Chicago")
    contact = contact_create(actor=alice, company=company,
                             data={"first_name": "John", "last_name": "Doe", "emails": ["john@acme-imports.com"]})  # fmt: skip
    from tradecrm.mailbox.models import Mailbox

    box = Mailbox.objects.create(user=alice, email="alice@ourco.test", imap_host="127.0.0.1", imap_port=1, imap_ssl=False,
                           smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none", username=TEST_USER,
                           password=TEST_PASSWORD, sync_enabled=False)  # fmt: skip
    en = MailTemplate.objects.create(owner=alice, name="Quote follow-up", language="en",
                                     subject="Your quotation, {{ contact.first_name }}",
                                     body="Dear {{ contact.first_name }},\n\nhere is our offer for {{ company.name }}.")  # fmt: skip
    zh = MailTemplate.objects.create(owner=alice, name="报价跟进", language="zh",
                                     subject="报价单 {{ contact.first_name }}",
                                     body="{{ contact.first_name }} 您好，\n\n附上给 {{ company.name }} 的报价。")  # fmt: skip
    yield {"company": company, "contact": contact, "en": en, "zh": zh, "sink": sink, "box": box}
    sink.stop()


def _compose(page, box, contact, template) -> None:
    page.locator("#mail-panel-body details > summary").click()
    form = page.locator('[data-testid="mail-compose"]')
    form.locator('select[name="mailbox"]').select_option(str(box.pk))
    form.locator('select[name="contact"]').select_option(str(contact.pk))
    form.locator('select[name="template"]').select_option(str(template.pk))
    form.locator('select[name="when"]').select_option("morning")
    form.locator("button.btn-primary").click()
    page.locator('[data-testid="mail-queued"]').wait_for()


def _status(page, status: str) -> None:
    """Click a status button and wait for the card to come back with the new version."""
    version = page.locator('#ticket-status input[name="version"]').get_attribute("value")
    page.click(f'#ticket-status [data-testid="status-{status}"]')
    page.wait_for_function(
        "v => { const i = document.querySelector('#ticket-status input[name=version]'); return i && i.value !== v; }",
        arg=version,
    )


def test_compose_from_template_in_both_languages_then_a_ticket(page, live_server, alice, world):
    from tradecrm.mailbox.models import MailMessage
    from tradecrm.mailbox.sending import local_morning, send_due
    from tradecrm.service.models import Ticket

    base, company, contact = live_server.url, world["company"], world["contact"]
    page.goto(f"{base}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "pw-alice-12345")
    page.click("button[type=submit]")

    # English UI, English template, the customer's next morning
    page.goto(f"{base}/customers/{company.pk}/")
    _compose(page, world["box"], contact, world["en"])
    assert "Scheduled for" in page.locator('[data-testid="mail-queued"]').inner_text()
    first = MailMessage.objects.get()
    morning = local_morning(company)
    assert first.status == "scheduled" and first.scheduled_for == morning
    assert morning.astimezone(dt.UTC).hour in (14, 15)  # 09:00 in Chicago (CST / CDT)
    assert first.subject == "Your quotation, John" and "Acme Imports LLC" in first.body_text

    # the same in the Chinese UI, with the Chinese template
    page.click('button[name="language"][value="zh-hans"]')
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    page.goto(f"{base}/customers/{company.pk}/")
    _compose(page, world["box"], contact, world["zh"])
    second = MailMessage.objects.exclude(pk=first.pk).get()
    assert (
        second.status == "scheduled" and second.scheduled_for == morning and second.subject == "报价单 John"
    )
    assert page.locator('#mail-panel-body a[href*="/mail/messages/"]').count() == 2  # both listed, scheduled

    # the customer's morning comes: the scheduled task sends both; they are on the timeline
    assert send_due(now=morning + dt.timedelta(minutes=1)) == 2
    assert len(world["sink"].received) == 2
    page.goto(f"{base}/customers/{company.pk}/")
    timeline = page.locator('[data-testid="timeline-card"]')
    timeline.get_by_text("Your quotation, John").first.wait_for()
    timeline.get_by_text("报价单 John").first.wait_for()

    # a damage claim with a photo, through its workflow (still in the Chinese UI)
    page.click('[data-testid="new-ticket"]')
    page.fill("#f-title", "Broken glass on arrival")
    page.select_option("#f-kind", "damage")
    page.select_option("#f-category", "claim")
    page.set_input_files("#f-files", files=[{"name": "damage.png", "mimeType": "image/png", "buffer": PNG}])
    page.click('[data-testid="ticket-save"]')
    page.locator('[data-testid="ticket-file"]').wait_for()
    ticket = Ticket.objects.get()
    assert ticket.attachments.get().name == "damage.png"
    _status(page, "investigating")
    page.fill("#s-solution", "Replacement of 20 panels with the next shipment")
    _status(page, "proposed")
    page.select_option("#s-cause", "logistics")
    _status(page, "resolved")
    page.click('#ticket-status [data-testid="status-closed"]')
    page.locator('#ticket-status [data-testid="ticket-status-form"]').wait_for(state="detached")  # final
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.root_cause == "logistics" and ticket.solution
    assert page.js_errors == []
