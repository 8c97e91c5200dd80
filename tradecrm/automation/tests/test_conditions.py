"""The condition language: validation (unknown field, bad operator/value, impossible groups),
evaluation in Python and as a Q over customers."""

import pytest

from tradecrm.automation.conditions import clean_conditions, compile_predicate, explain, fields_for, to_q
from tradecrm.core.errors import Errors, ValidationError

F = fields_for("company", "survey.score_received")


def clean(tree):
    errors = Errors()
    out = clean_conditions(tree, F, errors)
    errors.raise_if_any()
    return out


def messages(tree) -> str:
    with pytest.raises(ValidationError) as e:
        clean(tree)
    return " ".join(m for ms in e.value.message_dict.values() for m in ms)


def test_unknown_field_is_refused_with_the_known_ones():
    msg = messages({"all": [{"field": "colour", "op": "eq", "value": "red"}]})
    assert "Unknown field “colour”" in msg and "country" in msg


def test_operator_and_value_must_fit_the_field():
    assert "has no operator" in messages({"field": "main_products", "op": "gt", "value": 3})
    assert "compares with a number" in messages({"field": "event.score", "op": "gt", "value": "high"})
    assert "is not a value of" in messages({"field": "source", "op": "eq", "value": "carrier pigeon"})
    assert "non-empty list" in messages({"field": "country", "op": "in", "value": []})


@pytest.mark.parametrize("tree", [
    {"all": [{"field": "event.score", "op": "gt", "value": 10}, {"field": "event.score", "op": "lt", "value": 5}]},
    {"all": [{"field": "event.score", "op": "gte", "value": 5}, {"field": "event.score", "op": "lt", "value": 5}]},
    {"all": [{"field": "country", "op": "eq", "value": "DE"}, {"field": "country", "op": "eq", "value": "FR"}]},
    {"all": [{"field": "country", "op": "in", "value": ["DE"]}, {"field": "country", "op": "in", "value": ["FR"]}]},
    {"all": [{"field": "country", "op": "eq", "value": "DE"}, {"field": "country", "op": "not_in", "value": ["DE"]}]},
    {"all": [{"field": "city", "op": "empty"}, {"field": "city", "op": "not_empty"}]},
])  # fmt: skip
def test_impossible_conditions_are_refused(tree):
    assert "Impossible condition" in messages(tree)


def test_possible_ranges_and_any_groups_pass():
    clean(
        {
            "all": [
                {"field": "event.score", "op": "gte", "value": 5},
                {"field": "event.score", "op": "lte", "value": 5},
            ]
        }
    )
    clean(
        {
            "any": [
                {"field": "country", "op": "eq", "value": "DE"},
                {"field": "country", "op": "eq", "value": "FR"},
            ]
        }
    )


def test_predicate_and_explanation():
    tree = clean({"all": [{"field": "country", "op": "in", "value": ["de", "fr"]},
                          {"any": [{"field": "hs_codes", "op": "startswith", "value": "8471"},
                                   {"field": "main_products", "op": "contains", "value": "LED"}]}]})  # fmt: skip
    pred = compile_predicate(tree)
    assert pred({"country": "DE", "hs_codes": ["847130"], "main_products": ""})
    assert pred({"country": "FR", "hs_codes": [], "main_products": "led panels"})
    assert not pred({"country": "US", "hs_codes": ["847130"]})
    ok, lines = explain(tree, {"country": "US", "hs_codes": []}, F)
    assert not ok and lines[0]["ok"] is False and lines[0]["actual"] == "US"
    assert compile_predicate({})({}) is True


def test_q_matches_the_predicate(make_company):
    tree = clean({"all": [{"field": "country", "op": "eq", "value": "DE"},
                          {"field": "hs_codes", "op": "startswith", "value": "8471"}]})  # fmt: skip
    from tradecrm.automation.conditions import annotate_for
    from tradecrm.customers.models import Company

    a = make_company(name="A GmbH", country="DE", hs_codes=["847130"])
    make_company(name="B GmbH", country="DE", hs_codes=["940540"])
    make_company(name="C Inc", country="US", hs_codes=["847130"])
    fields = fields_for("company")
    qs = annotate_for(Company.objects.all(), tree).filter(to_q(tree, fields))
    assert list(qs.values_list("id", flat=True)) == [a.pk]
