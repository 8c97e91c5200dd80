"""Surveys: the daily send, the signed one-click links, tampered / reused / expired links, reports
and the grading dimension."""

import datetime as dt
import re

import pytest
from django.core import mail

from tradecrm.service import links, services
from tradecrm.service.models import Survey, SurveyConfig

from .conftest import NOW


@pytest.fixture
def default_config(db):
    return SurveyConfig.objects.create(tier="", days_after_delivery=7, scale="five")


@pytest.fixture
def sent(company, contact, order, default_config, django_capture_on_commit_callbacks):
    """sent(**company fields) → a survey created and mailed for an order delivered 7 days ago."""

    def make(language="", **fields):
        c = company(**fields)
        contact(c, email=f"buyer{c.pk}@example.com", language=language)
        o = order(c, delivered_days_ago=7)
        with django_capture_on_commit_callbacks(execute=True):
            services.surveys_send_due()
        return Survey.objects.get(order=o)

    return make


def _links(message) -> list[str]:
    return re.findall(r"http://\S+/survey/\S+/", message.body)


def test_daily_job_mails_one_survey_per_delivered_order(company, contact, order, default_config,
                                                         django_capture_on_commit_callbacks):  # fmt: skip
    c = company()
    contact(c, email="other@example.com", primary=False)
    contact(c, email="boss@example.com")
    due = order(c, delivered_days_ago=7)
    order(c, delivered_days_ago=3)  # too early
    order(c, delivered_days_ago=40)  # too old: not surveyed when surveys start
    order(c)  # not delivered
    with django_capture_on_commit_callbacks(execute=True):
        result = services.surveys_send_due()
    assert result["created"] == 1
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["boss@example.com"]
    assert due.number in msg.subject
    urls = _links(msg)
    assert len(urls) == 6  # scores 1–5 and the comment page
    s = Survey.objects.get()
    assert (s.order_id, s.scale, s.delivered_on, s.sent_at) == (due.pk, "five", dt.date(2026, 2, 25), NOW)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.surveys_send_due()["created"] == 0  # once per order
    assert len(mail.outbox) == 1


def test_tier_settings_days_scale_and_disabled(company, contact, order, default_config,
                                               django_capture_on_commit_callbacks):  # fmt: skip
    from tradecrm.grading.models import CompanyGrade, Tier

    Tier.objects.get_or_create(code="A", defaults={"name": "Key", "rank": 1, "min_score": 80})
    Tier.objects.get_or_create(code="B", defaults={"name": "Important", "rank": 2, "min_score": 60})
    SurveyConfig.objects.create(tier="A", days_after_delivery=3, scale="nps")
    SurveyConfig.objects.create(tier="B", enabled=False)
    a, b = company(), company()
    CompanyGrade.objects.create(company=a, tier="A")
    CompanyGrade.objects.create(company=b, tier="B")
    contact(a, email="a@example.com")
    contact(b, email="b@example.com")
    oa = order(a, delivered_days_ago=3)
    order(b, delivered_days_ago=7)
    with django_capture_on_commit_callbacks(execute=True):
        services.surveys_send_due()
    s = Survey.objects.get()
    assert (s.order_id, s.scale, s.tier) == (oa.pk, "nps", "A")
    assert len(_links(mail.outbox[0])) == 12  # 0–10 and the comment page


def test_no_email_is_counted_not_sent(company, order, default_config):
    order(company(), delivered_days_ago=7)
    assert services.surveys_send_due()["no_email"] == 1
    assert Survey.objects.count() == 0


def test_mail_failure_is_recorded_and_retried(sent, settings, frozen):
    settings.EMAIL_BACKEND = "tradecrm.service.tests.test_surveys.FailingBackend"
    survey = sent()
    assert survey.sent_at is None and "refused" in survey.send_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.shift(dt.timedelta(days=1))
    assert services.surveys_send_due()["retried"] == 1
    survey.refresh_from_db()
    assert survey.sent_at is not None and survey.send_error == ""


class FailingBackend:
    def __init__(self, *a, **kw):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused")


def test_one_click_records_the_score_then_the_comment(sent, client, emitted):
    survey = sent()
    urls = _links(mail.outbox[0])
    response = client.get(urls[3].removeprefix("http://127.0.0.1:8000"))  # score 4
    assert response.status_code == 200
    assert b'data-testid="survey-recorded"' in response.content
    survey.refresh_from_db()
    assert (survey.score, survey.score_5, survey.answered_at) == (4, 4.0, NOW)
    assert emitted[0][0] == "survey.score_received"
    # a second click (or a mail scanner) changes nothing
    response = client.get(urls[0].removeprefix("http://127.0.0.1:8000"))
    assert b'data-testid="survey-already"' in response.content
    survey.refresh_from_db()
    assert survey.score == 4
    page = urls[-1].removeprefix("http://127.0.0.1:8000")
    response = client.post(page, {"score": "2", "comment": "Cartons were wet"})
    assert b'data-testid="survey-message-thanks"' in response.content
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.changed_at) == (2, "Cartons were wet", NOW)


def test_reused_after_the_change_window_says_already_answered(sent, client, frozen):
    survey = sent()
    services.survey_answer(survey=survey, score=5)
    frozen.shift(dt.timedelta(days=services.ANSWER_CHANGE_DAYS + 1))
    page = links.page_url(survey).removeprefix("http://127.0.0.1:8000")
    for response in (client.get(page), client.post(page, {"score": "1"}),
                     client.get(links.answer_url(survey, 1).removeprefix("http://127.0.0.1:8000"))):  # fmt: skip
        assert response.status_code == 200
        assert b'data-testid="survey-message-answered"' in response.content
    survey.refresh_from_db()
    assert survey.score == 5


def test_tampered_link_is_400_in_the_recipients_language(sent, client):
    survey = sent(language="zh")
    assert survey.language == "zh-hans"
    url = links.answer_url(survey, 3).removeprefix("http://127.0.0.1:8000")
    assert "/survey/zh-hans/" in url
    token = url.split("/")[3]
    forged = url.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    response = client.get(forged)
    assert response.status_code == 400
    assert response["Content-Language"] == "zh-hans"
    assert b'data-testid="survey-message-invalid"' in response.content
    # a validly signed token naming another survey's id with the wrong secret is refused too
    from django.core import signing

    fake = signing.dumps([survey.pk, "guess"], salt=links.SALT)
    assert client.get(f"/survey/en/{fake}/3/").status_code == 400
    assert client.post(f"/survey/en/{fake}/", {"score": "3"}).status_code == 400
    assert client.get("/survey/xx/garbage/").status_code == 400
    survey.refresh_from_db()
    assert survey.score is None


def test_score_off_the_scale_and_bad_post(sent, client):
    survey = sent()
    assert client.get(links.answer_url(survey, 9).removeprefix("http://127.0.0.1:8000")).status_code == 400
    page = links.page_url(survey).removeprefix("http://127.0.0.1:8000")
    response = client.post(page, {"score": "seven"})
    assert response.status_code == 422
    assert b"Choose a score from 1 to 5" in response.content
    survey.refresh_from_db()
    assert survey.score is None


def test_expired_link(sent, client, frozen):
    survey = sent()
    frozen.shift(dt.timedelta(days=services.LINK_DAYS + 1))
    response = client.get(links.answer_url(survey, 5).removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 410
    assert b'data-testid="survey-message-expired"' in response.content


def test_public_page_needs_no_login_and_shows_nothing_else(sent, client, alice):
    survey = sent(email="secret-company@example.com", notes="credit risk")
    response = client.get(links.page_url(survey).removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    body = response.content.decode()
    assert survey.company.name not in body and "secret-company" not in body and "credit risk" not in body
    assert survey.email not in body
    assert "nav-customers" not in body
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "no-referrer"


def test_nps_and_averages_on_company_and_report(company, order, alice, dave):
    from tradecrm.service.selectors import company_satisfaction, survey_report

    c = company()
    for i, score in enumerate([10, 9, 8, 3]):
        s = Survey.objects.create(company=c, order=order(c), email="x@example.com", scale="nps", token=f"t{i}",
                                  created_at=NOW, sent_at=NOW, expires_at=NOW + dt.timedelta(days=30))  # fmt: skip
        services.survey_answer(survey=s, score=score)
    Survey.objects.create(
        company=c,
        email="x@example.com",
        scale="five",
        token="u",
        created_at=NOW,
        sent_at=NOW,
        expires_at=NOW + dt.timedelta(days=30),
    )  # not answered
    sat = company_satisfaction(c.pk)
    assert (sat["sent"], sat["answered"], sat["nps"], sat["rate"]) == (5, 4, 25, 80)  # (2 − 1) / 4
    assert sat["average"] == pytest.approx((5 + 4.6 + 4.2 + 2.2) / 4)
    report = survey_report(alice)
    assert (
        report["total"]["nps"] == 25 and len(report["months"]) == 1 and report["months"][0]["answered"] == 4
    )
    assert survey_report(dave)["total"]["sent"] == 0


def test_grading_uses_survey_scores_when_there_are_any(company, order):
    from tradecrm.grading.engine import run
    from tradecrm.grading.models import CompanyGrade
    from tradecrm.sales.models import Sample

    with_survey, without = company(), company()
    for c in (with_survey, without):
        Sample.objects.create(company=c, requested_on=dt.date(2026, 2, 1), feedback_rating=2)
    s = Survey.objects.create(company=with_survey, email="x@example.com", scale="nps", token="t", created_at=NOW,
                              sent_at=NOW, expires_at=NOW + dt.timedelta(days=30))  # fmt: skip
    services.survey_answer(survey=s, score=10)
    assert run(trigger="test").status == "done"
    assert CompanyGrade.objects.get(company=with_survey).satisfaction == 5.0
    assert CompanyGrade.objects.get(company=without).satisfaction == 2.0


def test_config_admin_only_and_validated(alice, admin):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        services.survey_config_save(actor=alice, tier="", data={"enabled": True})
    with pytest.raises(ValidationError) as exc:
        services.survey_config_save(actor=admin, tier="Z", data={"days_after_delivery": "-1", "scale": "ten"})
    assert set(exc.value.message_dict) == {"tier", "days_after_delivery", "scale"}
    c = services.survey_config_save(actor=admin, tier="", data={"days_after_delivery": "10", "scale": "nps"})
    assert (c.days_after_delivery, c.scale, c.enabled) == (10, "nps", True)


def test_task_and_command_run_the_daily_job(company, contact, order, default_config):
    import json
    from io import StringIO

    from django.core.management import call_command

    from tradecrm.service.tasks import surveys_send_daily

    c = company()
    contact(c)
    order(c, delivered_days_ago=7)
    assert surveys_send_daily.call_local()["created"] == 1
    order(c, delivered_days_ago=8)
    out = StringIO()
    call_command("surveys", "send", "--json", stdout=out)
    assert json.loads(out.getvalue())["created"] == 1
    out = StringIO()
    call_command("tickets", "scan", stdout=out)
    assert "0 new breach" in out.getvalue()
