"""Exchange rates: the lookup (date, max age, inverse, cross), conversion, the services
(permissions, versions, audit) and the CSV importer (layouts, encodings, row errors)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tradecrm.audit.models import AuditEvent
from tradecrm.core import fx
from tradecrm.core.errors import ConcurrentEditError
from tradecrm.core.fx import MissingRate, RateQuote, convert, rate_on, rates_import_csv, to_base
from tradecrm.core.models import ExchangeRate
from tradecrm.core.paging import Sort, decode_cursor, encode_cursor

pytestmark = pytest.mark.django_db
D = Decimal
FRI = dt.date(2026, 11, 20)


def put(base, quote, day, rate, source="ECB"):
    return ExchangeRate.objects.create(base=base, quote=quote, date=day, rate=D(rate), source=source)


# --- lookup -------------------------------------------------------------------------------------


def test_same_currency_is_one_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rate_on("usd", "USD", FRI) == RateQuote(rate=D(1), date=FRI, source="identity")


def test_newest_on_or_before_the_date_in_one_query(django_assert_num_queries):
    put("EUR", "USD", FRI - dt.timedelta(days=1), "1.0800")
    put("EUR", "USD", FRI, "1.0856")
    put("EUR", "USD", FRI + dt.timedelta(days=1), "1.2000")  # after the document: never used
    with django_assert_num_queries(1):
        assert rate_on("EUR", "USD", FRI) == RateQuote(rate=D("1.0856"), date=FRI, source="ECB")
    assert rate_on("EUR", "USD", FRI - dt.timedelta(days=1)).rate == D("1.08")


def test_weekend_gap_within_the_maximum_age_uses_fridays_rate():
    put("EUR", "USD", FRI, "1.0856")
    monday = FRI + dt.timedelta(days=3)
    assert rate_on("EUR", "USD", monday) == RateQuote(rate=D("1.0856"), date=FRI, source="ECB")
    assert rate_on("EUR", "USD", FRI + dt.timedelta(days=7)).date == FRI  # exactly 7 days: still


def test_too_old_raises_missing_rate_naming_pair_date_and_newest(settings):
    put("EUR", "USD", dt.date(2026, 10, 1), "1.0856")
    with pytest.raises(MissingRate) as caught:
        rate_on("EUR", "USD", FRI)
    message = caught.value.messages[0]
    assert message == (
        "No exchange rate EUR→USD on or before 2026-11-20 (the newest is from 2026-10-01; rates older "
        "than 7 days are not used); add one under Exchange rates."
    )
    assert isinstance(caught.value, ValidationError) and caught.value.code == "missing_rate"
    assert caught.value.newest == dt.date(2026, 10, 1)
    settings.TRADECRM_FX_MAX_AGE_DAYS = 60
    assert rate_on("EUR", "USD", FRI).date == dt.date(2026, 10, 1)


def test_missing_rate_copies_and_lands_on_a_form_field():
    import copy
    import pickle

    from django import forms

    exc = MissingRate("EUR", "USD", FRI, dt.date(2026, 10, 1))
    for clone in (copy.deepcopy(exc), pickle.loads(pickle.dumps(exc))):
        assert clone.messages == exc.messages and clone.newest == exc.newest
    form = forms.Form()
    form.cleaned_data = {}
    form.add_error(None, exc)
    assert form.non_field_errors() == exc.messages


def test_missing_without_any_rate_and_in_chinese():
    from django.utils import translation

    with pytest.raises(MissingRate, match=r"^\['No exchange rate GBP→JPY on or before 2026-11-20; add"):
        rate_on("GBP", "JPY", FRI)
    put("EUR", "USD", FRI + dt.timedelta(days=1), "1.1")  # only after the date: not "newest"
    with pytest.raises(MissingRate) as caught:
        rate_on("USD", "EUR", FRI)
    assert caught.value.newest is None
    with translation.override("zh-hans"):
        with pytest.raises(MissingRate) as caught:
            rate_on("GBP", "JPY", FRI)
    assert "GBP→JPY" in caught.value.messages[0] and "2026-11-20" in caught.value.messages[0]


def test_inverse_of_the_reverse_pair():
    put("USD", "CNY", FRI, "7.1234")
    quote = rate_on("CNY", "USD", FRI)
    assert quote.rate == D("0.1403824017")  # 1 / 7.1234, 10 places, half up
    assert quote.date == FRI and quote.source == "ECB, inverse"


def test_the_newer_of_pair_and_reverse_wins_the_pairs_own_on_a_tie():
    put("EUR", "USD", FRI - dt.timedelta(days=2), "1.08")
    put("USD", "EUR", FRI, "0.9")
    assert rate_on("EUR", "USD", FRI).rate == D("1.1111111111")
    put("EUR", "USD", FRI, "1.0856")
    assert rate_on("EUR", "USD", FRI).rate == D("1.0856")


def test_cross_rate_through_the_base_currency_names_both_legs(settings, django_assert_num_queries):
    settings.TRADECRM_BASE_CURRENCY = "USD"
    put("EUR", "USD", FRI, "1.08")
    put("USD", "CNY", FRI - dt.timedelta(days=2), "7.2")
    with django_assert_num_queries(1):
        quote = rate_on("EUR", "CNY", FRI)
    assert quote.rate == D("7.776")
    assert quote.date == FRI - dt.timedelta(days=2)  # the older leg
    assert quote.source == "cross via USD: EUR→USD ECB (2026-11-20); USD→CNY ECB (2026-11-18)"
    back = rate_on("CNY", "EUR", FRI)  # both legs inverted
    assert back.rate == D("0.1286008230") and "inverse" in back.source


def test_cross_rate_through_eur_like_the_ecb_file_and_freshest_pivot_wins(settings):
    settings.TRADECRM_BASE_CURRENCY = "USD"
    put("EUR", "GBP", FRI, "0.85")
    put("EUR", "JPY", FRI, "160")
    put("CNY", "GBP", FRI - dt.timedelta(days=5), "0.11")  # via CNY, older
    put("CNY", "JPY", FRI - dt.timedelta(days=5), "21")
    quote = rate_on("GBP", "JPY", FRI)
    assert quote.rate == D("188.2352941176") and quote.source.startswith("cross via EUR")
    assert quote.date == FRI


def test_cross_needs_both_legs_within_the_maximum_age():
    put("EUR", "USD", FRI, "1.08")
    put("EUR", "CNY", FRI - dt.timedelta(days=30), "7.7")
    with pytest.raises(MissingRate):
        rate_on("USD", "CNY", FRI)


def test_convert_quantizes_to_the_target_currency(settings):
    put("USD", "JPY", FRI, "151.2345")
    put("USD", "KWD", FRI, "0.30751")
    assert convert(D("100.55"), "USD", "JPY", FRI) == D("15207")  # 15206.62… → 15207
    assert convert(D("100"), "USD", "KWD", FRI) == D("30.751")
    assert convert(D("1000"), "JPY", "USD", FRI) == D("6.61")
    assert convert(D("10.005"), "EUR", "EUR", FRI) == D("10.01")
    settings.TRADECRM_BASE_CURRENCY = "USD"
    assert to_base(D("15207"), "JPY", FRI) == D("100.55")
    with pytest.raises(TypeError):
        rate_on("USD", "JPY", dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))


def test_rate_book_asks_once_per_pair_and_day():
    put("EUR", "USD", FRI, "1.08")
    book = fx.RateBook()
    with CaptureQueriesContext(connection) as ctx:
        assert [book.convert(D(n), "EUR", "USD", FRI) for n in (1, 2, 3)] == [D("1.08"), D("2.16"), D("3.24")]
        for _ in range(2):
            with pytest.raises(MissingRate):
                book.rate_on("EUR", "JPY", FRI)
    assert len(ctx.captured_queries) == 3  # one hit, one miss + its "newest known"


def test_date_cursor_round_trip():
    sort = Sort(field="date", descending=True, kind="date")
    assert decode_cursor(encode_cursor(FRI, 7), sort) == ("after", FRI, 7)


# --- services -----------------------------------------------------------------------------------


def test_rate_set_creates_then_replaces_and_audits(carol):
    r = fx.rate_set(actor=carol, base="eur", quote="usd", date=FRI, rate="1.0856")
    assert r.was_created and (r.base, r.quote, r.rate, r.source, r.version) == (
        "EUR",
        "USD",
        D("1.0856"),
        "manual",
        1,
    )
    again = fx.rate_set(actor=carol, base="EUR", quote="USD", date=FRI, rate=D("1.0856"))
    assert not again.was_created and again.version == 1  # nothing changed
    again = fx.rate_set(actor=carol, base="EUR", quote="USD", date=FRI, rate="1.09", source="PBOC")
    assert again.pk == r.pk and again.version == 2 and again.updated_by == carol
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "exchange_rate.create",
        "exchange_rate.update",
    ]
    assert AuditEvent.objects.last().changes == {
        "rate": ["1.0856000000", "1.0900000000"],
        "source": ["manual", "PBOC"],
    }


def test_rate_set_names_every_bad_field_and_saves_nothing(admin):
    with pytest.raises(ValidationError) as caught:
        fx.rate_set(actor=admin, base="EURO", quote="USD", date="20/11/2026", rate="-1", source="x" * 101)
    assert set(caught.value.message_dict) == {"base", "date", "rate", "source"}
    assert caught.value.message_dict["rate"] == ["The rate must be greater than zero."]
    with pytest.raises(ValidationError) as caught:
        fx.rate_set(actor=admin, base="USD", quote="usd", date=FRI, rate="abc")
    assert caught.value.message_dict == {
        "rate": ["Enter the rate as a number, e.g. 7.1234 (this is “abc”)."],
        "quote": ["The quote currency must differ from the base currency."],
    }
    with pytest.raises(ValidationError) as caught:
        fx.rate_set(actor=admin, base="USD", quote="VND", date=FRI, rate="12345678901")
    assert "too large" in caught.value.message_dict["rate"][0]
    assert not ExchangeRate.objects.exists() and not AuditEvent.objects.exists()


def test_rate_is_rounded_to_ten_places(admin):
    r = fx.rate_set(actor=admin, base="VND", quote="USD", date=FRI, rate="0.000039370078740157")
    r.refresh_from_db()
    assert r.rate == D("0.0000393701")


@pytest.mark.parametrize("persona", ["alice", "dave"])
def test_sales_cannot_change_rates(request, persona):
    user = request.getfixturevalue(persona)
    r = put("EUR", "USD", FRI, "1.08")
    with pytest.raises(PermissionDenied):
        fx.rate_set(actor=user, base="EUR", quote="USD", date=FRI, rate="2")
    with pytest.raises(PermissionDenied):
        fx.rate_update(actor=user, rate_obj=r, version=1, data={"rate": "2"})
    with pytest.raises(PermissionDenied):
        fx.rate_delete(actor=user, rate_obj=r)
    with pytest.raises(PermissionDenied):
        rates_import_csv(actor=user, file=b"date,base,quote,rate\n2026-11-20,EUR,USD,2\n", filename="x.csv")
    r.refresh_from_db()
    assert (r.rate, r.version) == (D("1.08"), 1) and not AuditEvent.objects.exists()


def test_update_is_versioned_and_refuses_a_taken_day(carol, admin):
    r = fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI, rate="1.08")
    fx.rate_set(actor=admin, base="EUR", quote="USD", date=FRI - dt.timedelta(days=1), rate="1.07")
    stale = ExchangeRate.objects.get(pk=r.pk)
    fx.rate_update(actor=carol, rate_obj=r, version=1, data={"rate": "1.09"})
    with pytest.raises(ConcurrentEditError) as caught:
        fx.rate_update(actor=admin, rate_obj=stale, version=1, data={"rate": "1.10"})
    assert caught.value.by == "Carol" and caught.value.current_version == 2
    with pytest.raises(ValidationError) as caught:
        fx.rate_update(actor=carol, rate_obj=r, version=2, data={"date": FRI - dt.timedelta(days=1)})
    assert caught.value.message_dict == {
        "date": ["There is a rate EUR→USD on 2026-11-19 already; edit that one."]
    }
    r.refresh_from_db()
    assert (r.rate, r.version, r.date) == (D("1.09"), 2, FRI)


def test_delete_is_audited(carol):
    r = fx.rate_set(actor=carol, base="EUR", quote="USD", date=FRI, rate="1.08")
    fx.rate_delete(actor=carol, rate_obj=r)
    assert not ExchangeRate.objects.exists()
    assert AuditEvent.objects.last().changes["rate"] == "1.0800000000"


def test_latest_rates_per_pair_flags_stale(admin):
    put("EUR", "USD", FRI - dt.timedelta(days=20), "1.05")
    put("EUR", "USD", FRI, "1.08")
    put("USD", "CNY", FRI - dt.timedelta(days=10), "7.1")
    rows = fx.latest_rates(today=FRI)
    assert [(r["base"], r["quote"], r["rate"], r["stale"]) for r in rows] == [
        ("EUR", "USD", D("1.08"), False),
        ("USD", "CNY", D("7.1"), True),
    ]


def test_rate_list_is_keyset_paged_by_date(admin):
    for i in range(5):
        put("EUR", "USD", FRI - dt.timedelta(days=i), f"1.0{i}")
    put("USD", "CNY", FRI, "7.1")
    f = fx.RateFilters(base="EUR", quote="USD", date_from=FRI - dt.timedelta(days=3))
    rows, nxt, prev = fx.rate_list(admin, f, limit=2)
    assert [r["date"].day for r in rows] == [20, 19] and prev is None
    rows, nxt, prev = fx.rate_list(admin, f, cursor=nxt, limit=2)
    assert [r["date"].day for r in rows] == [18, 17] and prev


# --- CSV import ---------------------------------------------------------------------------------

LONG = "date,base,quote,rate,source\n2026-11-20,EUR,USD,1.0856,ECB\n2026-11-20,USD,CNY,7.1234,\n"


def rates_in_db():
    return sorted(ExchangeRate.objects.values_list("date", "base", "quote", "rate", "source"))


def test_long_layout_imports_in_one_transaction_with_one_audit_event(carol):
    result = rates_import_csv(actor=carol, file=LONG.encode(), filename="rates.csv")
    assert result.ok and (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert rates_in_db() == [
        (FRI, "EUR", "USD", D("1.0856"), "ECB"),
        (FRI, "USD", "CNY", D("7.1234"), "CSV rates.csv"),
    ]
    event = AuditEvent.objects.get()
    assert event.action == "exchange_rate.import" and event.actor == carol
    assert event.changes["created"] == 2 and event.changes["file"] == "rates.csv"
    again = rates_import_csv(actor=carol, file=LONG.replace("7.1234", "7.2").encode(), filename="rates.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    row = ExchangeRate.objects.get(quote="CNY")
    assert (row.rate, row.version, row.updated_by_id) == (D("7.2"), 2, carol.pk)


def test_dry_run_counts_and_previews_without_writing(carol):
    put("EUR", "USD", FRI, "1.0856")
    result = rates_import_csv(actor=carol, file=LONG.encode(), filename="rates.csv", dry_run=True)
    assert (result.created, result.updated, result.unchanged, result.dry_run) == (1, 0, 1, True)
    assert [p["status"] for p in result.preview] == ["same", "new"]
    assert ExchangeRate.objects.count() == 1 and not AuditEvent.objects.exists()


def test_chinese_headers_bom_and_gb18030(admin):
    text = "日期,基准货币,报价货币,汇率,来源\n2026年11月20日,usd,cny,7.1234,中国人民银行\n"
    for data in (b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("gb18030")):
        ExchangeRate.objects.all().delete()
        result = rates_import_csv(actor=admin, file=data, filename="汇率.csv")
        assert result.ok, result.errors
        assert rates_in_db() == [(FRI, "USD", "CNY", D("7.1234"), "中国人民银行")]


def test_semicolon_with_decimal_comma_and_base_given(admin):
    data = b"Date;Quote;Rate\n20.11.2026;USD;1,0856\n2026-11-20;JPY;163,12\n"
    result = rates_import_csv(actor=admin, file=data, filename="r.csv", base="EUR")
    assert [e["field"] for e in result.errors] == ["date"]  # 20.11.2026: day first is refused
    data = b"Date;Quote;Rate\n2026-11-20;USD;1,0856\n2026-11-20;JPY;163,12\n"
    result = rates_import_csv(actor=admin, file=data, filename="r.csv", base="EUR")
    assert result.ok and result.layout == "long"
    assert [(b, q, r) for _d, b, q, r, _s in rates_in_db()] == [
        ("EUR", "JPY", D("163.12")),
        ("EUR", "USD", D("1.0856")),
    ]


ECB = "Date,USD,JPY,CYP,GBP,\n2026-11-20,1.0856,163.12,N/A,0.8512,\n2026-11-19,1.0801,,N/A,0.8512,\n"


def test_wide_ecb_layout_against_the_given_base(admin):
    result = rates_import_csv(actor=admin, file=ECB.encode(), filename="eurofxref-hist.csv", base="EUR")
    assert result.ok and result.layout == "wide" and result.created == 5
    assert result.warnings == ["Column CYP skipped: not a current ISO 4217 currency."]
    assert result.pairs == ["EUR→GBP", "EUR→JPY", "EUR→USD"]
    assert (result.first_date, result.last_date) == (FRI - dt.timedelta(days=1), FRI)
    assert ExchangeRate.objects.get(quote="JPY").source == "CSV eurofxref-hist.csv"
    assert rate_on("USD", "JPY", FRI).rate == D("150.2579218865")  # crossed through EUR


def test_wide_layout_needs_the_base(admin):
    result = rates_import_csv(actor=admin, file=ECB.encode(), filename="e.csv")
    assert result.errors == [
        {
            "row": None,
            "field": "base",
            "message": "The file has one column per currency: choose the currency they are quoted "
            "against (EUR for the ECB reference rates).",
        }
    ]


def test_a_bad_row_names_row_and_field_and_nothing_is_written(admin):
    data = (
        b"date,base,quote,rate\n"
        b"2026-11-20,EUR,USD,1.0856\n"
        b"\n"
        b"2026-13-01,EUR,USD,1.08\n"  # row 4
        b"2026-11-19,EUR,ABC,0\n"  # row 5: two bad fields
        b"2026-11-18,EUR,EUR,1\n"  # row 6
        b"2026-11-20,EUR,USD,1.09\n"  # row 7: same pair and day as row 2
    )
    result = rates_import_csv(actor=admin, file=data, filename="bad.csv")
    assert [(e["row"], e["field"]) for e in result.errors] == [
        (4, "date"), (5, "quote"), (5, "rate"), (6, "quote"), (7, "date"),
    ]  # fmt: skip
    assert (
        result.errors[0]["message"] == "Enter the date as YYYY-MM-DD, e.g. 2026-11-20 (this is “2026-13-01”)."
    )
    assert result.errors[2]["message"] == "The rate must be greater than zero."
    assert result.errors[4]["message"] == "EUR→USD on 2026-11-20 is on row 2 already."
    assert result.created == 0 and not ExchangeRate.objects.exists() and not AuditEvent.objects.exists()


def test_wide_bad_cells_and_unknown_columns(admin):
    data = b"Date,USD,JPY\n2026-11-20,abc,163\n"
    result = rates_import_csv(actor=admin, file=data, filename="e.csv", base="EUR")
    assert result.errors == [
        {"row": 2, "field": "USD", "message": "Enter the rate as a number, e.g. 7.1234 (this is “abc”)."}
    ]
    result = rates_import_csv(
        actor=admin, file=b"Date,USD,Notes\n2026-11-20,1.08,x\n", filename="e.csv", base="EUR"
    )
    assert [(e["row"], e["field"]) for e in result.errors] == [(1, "Notes")]
    assert not ExchangeRate.objects.exists()


def test_unreadable_files(admin):
    for data in (b"", b"\x00\x01\x02", b"date,base,quote,rate\n", b"\xff\xfe\x00\xd8" * 3):
        result = rates_import_csv(actor=admin, file=data, filename="x.csv", base="EUR")
        assert result.errors and result.errors[0]["field"] in ("file", "base"), (data, result.errors)
    result = rates_import_csv(actor=admin, file=b"date,quote,rate\n", filename="x.csv", base="EURO")
    assert result.errors[0]["field"] == "base"
    assert not ExchangeRate.objects.exists()


def test_many_errors_are_capped(admin):
    data = "date,base,quote,rate\n" + "2026-11-20,EUR,USD,x\n" * 250
    result = rates_import_csv(actor=admin, file=data.encode(), filename="x.csv")
    assert len(result.errors) == 201 and result.errors[-1]["message"] == "… and 50 more errors."


# --- command line -------------------------------------------------------------------------------


def run_fx(*args):
    import io

    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    call_command("fx", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_cli_import_dry_run_then_import(tmp_path, carol):
    path = tmp_path / "eurofxref.csv"
    path.write_bytes(b"Date,USD,JPY,CYP\n2026-11-20,1.0856,163.12,N/A\n")
    out, err = run_fx("import", str(path), "--base", "EUR", "--dry-run")
    assert (
        out
        == "eurofxref.csv: would import 2 rates (2026-11-20 to 2026-11-20): 2 new, 0 changed, 0 unchanged.\n"
    )
    assert err == "warning: Column CYP skipped: not a current ISO 4217 currency.\n"
    assert not ExchangeRate.objects.exists()
    out, _err = run_fx("import", str(path), "--base", "EUR", "--user", "carol")
    assert "imported 2 rates" in out and ExchangeRate.objects.filter(updated_by=carol).count() == 2
    assert AuditEvent.objects.get(action="exchange_rate.import").actor == carol


def test_cli_prints_row_errors_and_exits_1(tmp_path, alice):
    from django.core.management.base import CommandError

    path = tmp_path / "r.csv"
    path.write_text(
        "date;base;quote;rate\n2026-11-20;EUR;USD;1,08\n2026-11-21;EUR;USD;abc\n", encoding="gb18030"
    )
    with pytest.raises(CommandError) as caught:
        run_fx("import", str(path))
    assert caught.value.returncode == 1
    assert "nothing was imported" in str(caught.value)
    with pytest.raises(CommandError, match="alice may not change exchange rates"):
        run_fx("import", str(path), "--user", "alice")
    assert not ExchangeRate.objects.exists()


def test_cli_error_lines(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "r.csv"
    path.write_text("date,base,quote,rate\n2026-11-20,EUR,USD,0\n")
    with pytest.raises(CommandError):
        call_command("fx", "import", str(path))
    assert capsys.readouterr().err == "row 2, rate: The rate must be greater than zero.\n"


def test_cli_convert(admin):
    put("EUR", "USD", FRI, "1.0856")
    out, _err = run_fx("convert", "100", "eur", "USD", "--date", "2026-11-22")
    assert out == "€100.00 = $108.56 on 2026-11-22 (1 EUR = 1.0856 USD, rate of 2026-11-20, ECB)\n"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No exchange rate EUR→JPY on or before 2026-11-22"):
        run_fx("convert", "100", "EUR", "JPY", "--date", "2026-11-22")
    with pytest.raises(CommandError, match="Unknown currency code"):
        run_fx("convert", "100", "EURO", "JPY")
