import datetime as dt

from tradecrm.customers.models import Company
from tradecrm.interactions.demo import demo_timelines
from tradecrm.interactions.models import CONTACT_TYPES, Interaction
from tradecrm.interactions.selectors import timeline_search

NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def test_demo_timelines_fill_entries_and_last_contact_once(alice, admin, make_company):
    companies = [
        make_company(actor=alice, name=f"Demo Buyer {i}", city="Hamburg", country="DE") for i in range(8)
    ]
    added = demo_timelines(seed=7, now=NOW)
    assert added == Interaction.objects.count() > 0
    for company in Company.objects.filter(pk__in=[c.pk for c in companies]):
        entries = list(Interaction.objects.filter(company=company))
        assert len(entries) <= 6
        assert all(NOW - dt.timedelta(days=121) <= e.occurred_at <= NOW for e in entries)
        contacts = [e.occurred_at for e in entries if e.type in CONTACT_TYPES]
        assert company.last_contact_at == (max(contacts) if contacts else None)
    assert all(e.owner_id == alice.pk and e.search_text for e in Interaction.objects.all())
    # a rerun adds only to customers that still have no timeline
    before = {c.pk: c.interactions.count() for c in companies}
    demo_timelines(seed=8, now=NOW)
    for c in companies:
        if before[c.pk]:
            assert c.interactions.count() == before[c.pk]
    # the generated text is searchable like typed text
    some = Interaction.objects.order_by("id").first()
    word = some.subject.split()[0]
    rows = timeline_search(admin, word)[0]
    assert some.pk in [r["id"] for r in rows]
