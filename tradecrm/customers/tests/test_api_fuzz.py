"""Whatever a client sends to the API, the answer is a deliberate 2xx or 4xx with a JSON body —
never a 500. Hypothesis generates the bodies: any JSON value, or objects with the real field
names (and a few unknown ones) holding any JSON value."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrm.accounts.models import ApiToken
from tradecrm.customers.schemas import CompanyPatch, ContactCreate

JSON = "application/json"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
COMPANY_FIELDS = list(CompanyPatch.model_fields)
CONTACT_FIELDS = list(ContactCreate.model_fields)
EXPECTED = {200, 201, 400, 404, 409, 413, 422, 428}


def bodies(fields):
    keys = st.sampled_from([*fields, "version", "company", "shared", "id", "x"])
    return st.dictionaries(keys, json_values, max_size=6) | json_values


def _assert_deliberate(resp):
    assert resp.status_code in EXPECTED, (resp.status_code, resp.content[:300])
    assert resp["Content-Type"] == JSON
    body = resp.json()
    if resp.status_code >= 400:
        assert body["detail"]
        if resp.status_code == 422:
            assert all(set(e) == {"field", "message"} and e["message"] for e in body["detail"])


@pytest.fixture
def api(alice):
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(alice)[1]}")


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=bodies(COMPANY_FIELDS))
def test_company_create_and_patch_never_crash(api, make_company, body):
    raw = json.dumps(body)
    _assert_deliberate(api.post("/api/v1/companies", raw, content_type=JSON))
    company = make_company(name="Fuzz target")
    _assert_deliberate(api.patch(f"/api/v1/companies/{company.pk}", raw, content_type=JSON))


@FUZZ
@given(body=bodies(CONTACT_FIELDS))
def test_contact_create_and_patch_never_crash(api, make_company, body):
    raw = json.dumps(body)
    company = make_company(name="Fuzz target")
    _assert_deliberate(api.post("/api/v1/contacts", raw, content_type=JSON))
    _assert_deliberate(api.post(f"/api/v1/companies/{company.pk}/contacts", raw, content_type=JSON))


@FUZZ
@given(body=bodies(["name", "color"]))
def test_tag_create_never_crashes(api, body):
    _assert_deliberate(api.post("/api/v1/tags", json.dumps(body), content_type=JSON))


@FUZZ
@given(raw=st.binary(max_size=60))
def test_arbitrary_bytes_never_crash(api, raw):
    _assert_deliberate(api.post("/api/v1/companies", raw, content_type=JSON))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "country",
                "owner",
                "tag",
                "source",
                "status",
                "business_type",
                "sort",
                "cursor",
                "limit",
                "company",
            ]
        ),
        st.text(max_size=20),
        max_size=4,
    )
)
def test_list_parameters_never_crash(api, params):
    _assert_deliberate(api.get("/api/v1/companies", params))
    _assert_deliberate(api.get("/api/v1/contacts", params))
