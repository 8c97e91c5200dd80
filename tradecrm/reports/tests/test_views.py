"""The export download behind the lists' "Export ▾" buttons, the buttons themselves, and the page
where an administrator sets who may export."""

import csv
import io

import pytest

from tradecrm.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode())))


def test_download_streams_the_filtered_list(client_for, exporter, make_company, acme):
    make_company(name="Berlin Buyers GmbH", country="DE")
    response = client_for(exporter).get(
        "/exports/companies/", {"format": "csv", "country": "DE", "cursor": "x"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="companies-')
    assert response["Cache-Control"] == "no-store"
    rows = _csv(response)
    assert [r[1] for r in rows[1:]] == ["Berlin Buyers GmbH"]
    assert AuditEvent.objects.get(action="export").changes["filters"] == {"country": "DE"}


def test_xlsx_download(client_for, carol, acme):
    response = client_for(carol).get("/exports/companies/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_refused_without_the_permission(client_for, alice, acme):
    response = client_for(alice).get("/exports/companies/", {"format": "csv"})
    assert response.status_code == 403
    assert "export permission" in response.content.decode()


def test_bad_filter_and_unknown_list(client_for, carol):
    response = client_for(carol).get("/exports/orders/", {"format": "csv", "date_from": "yesterday"})
    assert response.status_code == 400
    assert "date_from: Enter a date as YYYY-MM-DD." in response.content.decode()
    assert client_for(carol).get("/exports/passwords/").status_code == 404


def test_dave_gets_404_for_a_customer_he_cannot_see(client_for, dave, acme):
    dave.can_export = True
    dave.save(update_fields=["can_export"])
    response = client_for(dave).get("/exports/contacts/", {"format": "csv", "company": acme.pk})
    assert response.status_code == 404
    response = client_for(dave).get("/exports/orders/", {"format": "csv", "company": acme.pk})
    assert len(_csv(response)) == 1  # the order list's own rule: an empty list, not a 404


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/exports/companies/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_pages_show_the_button_only_to_who_may_export(client_for, alice, carol, acme, make_order):
    make_order()
    page = client_for(carol).get("/customers/").content.decode()
    assert 'data-testid="export-menu"' in page
    assert 'form="company-filters" formaction="/exports/companies/"' in page
    assert 'data-testid="export-menu"' not in client_for(alice).get("/customers/").content.decode()
    page = client_for(carol).get("/orders/", {"status": "confirmed", "owner": "me"}).content.decode()
    assert 'href="/exports/orders/?status=confirmed&amp;owner=me&amp;format=xlsx"' in page
    page = client_for(carol).get("/products/").content.decode()
    assert 'formaction="/exports/products/"' in page
    page = client_for(carol).get("/opportunities/").content.decode()
    assert 'href="/exports/opportunities/?format=csv"' in page


def test_admin_allows_and_stops_a_reps_exports(client_for, admin, alice, carol):
    c = client_for(admin)
    assert c.get("/exports/permissions/").status_code == 200
    response = c.post("/exports/permissions/", {"user": alice.pk, "allowed": "1"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.can_export
    event = AuditEvent.objects.get(action="export_permission")
    assert event.object_id == alice.pk and event.changes == {"can_export": [False, True]}
    c.post("/exports/permissions/", {"user": alice.pk, "allowed": "0"})
    alice.refresh_from_db()
    assert not alice.can_export
    assert c.post("/exports/permissions/", {"user": carol.pk, "allowed": "1"}).status_code == 404  # a manager
    assert client_for(carol).get("/exports/permissions/").status_code == 403
    assert (
        client_for(alice).post("/exports/permissions/", {"user": alice.pk, "allowed": "1"}).status_code == 403
    )
