import pytest
from django.core.exceptions import ValidationError

from tradecrm.audit.models import AuditEvent
from tradecrm.customers.services import company_delete, company_update, contact_create


def test_changes_are_audited_with_before_and_after(alice, make_company):
    c = make_company(city="Boston")
    company_update(actor=alice, company=c, version=c.version, data={"city": "Denver"})
    events = list(AuditEvent.objects.filter(object_id=c.pk, object_type="customers.company").order_by("id"))
    assert [e.action for e in events] == ["company.create", "company.update"]
    assert events[1].changes == {"city": ["Boston", "Denver"]} and events[1].actor == alice
    pk = c.pk
    company_delete(actor=alice, company=c)
    assert AuditEvent.objects.filter(action="company.delete", object_id=pk).exists()


def test_failed_change_leaves_no_audit_and_no_row(alice, make_company):
    c = make_company()
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        contact_create(actor=alice, company=c, data={"first_name": "", "emails": ["bad@"]})
    assert AuditEvent.objects.count() == before
    assert c.contacts.count() == 0
