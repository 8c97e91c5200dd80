"""Any JSON-shaped value in any field ends in clean data or a ValidationError naming fields —
never another exception (which would be a 500 in the API)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrm.customers.validation import clean_company, clean_contact, clean_tag

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
COMPANY_FIELDS = [
    "name", "name_local", "country", "city", "address", "website", "email", "email_domains", "phones", "industry",
    "business_type", "company_size", "annual_purchase", "main_products", "hs_codes", "source", "source_detail",
    "timezone", "office_start", "office_end", "preferred_language", "currency", "credit_rating", "cooperation_since",
    "status", "owner", "followers", "tags", "notes",
]
CONTACT_FIELDS = [
    "first_name", "last_name", "name_local", "title", "seniority", "emails", "phones", "whatsapp", "wechat",
    "linkedin", "skype", "birthday", "is_primary", "preferred_language", "notes",
]


def _check(fn, data, fields):
    try:
        fn(data)
    except ValidationError as exc:
        assert exc.message_dict, "a ValidationError must name its fields"
        assert set(exc.message_dict) <= set(fields)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(COMPANY_FIELDS), json_values, max_size=6))
def test_company_validation_never_crashes(alice, data):
    _check(lambda d: clean_company(d, actor=alice, partial=True), data, COMPANY_FIELDS)


@settings(max_examples=60, deadline=None)
@given(data=st.dictionaries(st.sampled_from(CONTACT_FIELDS), json_values, max_size=6))
def test_contact_validation_never_crashes(data):
    _check(lambda d: clean_contact(d, region="DE", partial=True), data, CONTACT_FIELDS)


@settings(max_examples=30, deadline=None)
@given(data=st.dictionaries(st.sampled_from(["name", "color"]), json_values, max_size=2))
def test_tag_validation_never_crashes(data):
    _check(lambda d: clean_tag(d, partial=True), data, ["name", "color"])
