"""The signed links of survey emails.

A link carries `signing.dumps([survey id, survey token])` with its own salt: changing any character
breaks the signature (→ the "invalid link" page, 400), and a valid signature must still name a
survey whose random token matches (a survey deleted and re-created never answers to an old link).
The language segment of the URL is not trusted for anything but the language of the error page
shown when the signature is broken (the survey's own language is used otherwise).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Survey

SALT = "tradecrm.service.survey-link"


def make_token(survey: Survey) -> str:
    return signing.dumps([survey.pk, survey.token], salt=SALT)


def read_token(value: str) -> Survey | None:
    """The survey a token names, or None for a token that was tampered with or names no survey."""
    try:
        data = signing.loads(value, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not (
        isinstance(data, list) and len(data) == 2 and isinstance(data[0], int) and isinstance(data[1], str)
    ):
        return None
    survey = Survey.objects.select_related("company", "order").filter(pk=data[0]).first()
    if survey is None or not hmac.compare_digest(survey.token, data[1]):
        return None
    return survey


def _absolute(path: str) -> str:
    return settings.TRADECRM_BASE_URL.rstrip("/") + path


def answer_url(survey: Survey, score: int) -> str:
    return _absolute(reverse("service:survey_score", args=[survey.language, make_token(survey), score]))


def page_url(survey: Survey) -> str:
    return _absolute(reverse("service:survey_page", args=[survey.language, make_token(survey)]))
