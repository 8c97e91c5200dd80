"""Every page and endpoint that loads a customer by id is 404 for dave (another team); starting
runs is for managers and administrators."""

import pytest

from tradecrm.analysis.models import ClusterRun, RuleRun
from tradecrm.followups.models import FollowUp

pytestmark = pytest.mark.django_db

BY_ID = [
    ("get", "/customers/{company}/recommendations/", None),
    ("post", "/analysis/win-back/{company}/followup/", {"suggestion": "call_offer"}),
    ("get", "/api/v1/analysis/companies/{company}/recommendations", None),
    ("post", "/api/v1/analysis/win-back/{company}/followups", {"suggestion": "call_offer"}),
]


@pytest.mark.parametrize("method,url,data", BY_ID, ids=[f"{m} {u}" for m, u, _d in BY_ID])
def test_dave_gets_404(dave, acme, grade, client_for, api_for, method, url, data):
    grade(acme, recency=200, lifecycle="at_risk")
    client = api_for(dave) if url.startswith("/api/") else client_for(dave)
    kwargs = {"content_type": "application/json"} if url.startswith("/api/") and data else {}
    resp = getattr(client, method)(url.format(company=acme.pk), data, **kwargs)
    assert resp.status_code == 404
    assert not FollowUp.objects.exists()


def test_sales_cannot_start_runs(alice, client_for, api_for):
    assert client_for(alice).post("/analysis/clusters/run/", {"k": 3}).status_code == 403
    assert client_for(alice).post("/analysis/recommendations/run/").status_code == 403
    assert client_for(alice).get("/analysis/recommendations/").status_code == 403
    api = api_for(alice)
    assert api.post("/api/v1/analysis/clusters", {"k": 3}, content_type="application/json").status_code == 403
    assert api.post("/api/v1/analysis/recommendations/run").status_code == 403
    assert not ClusterRun.objects.exists() and not RuleRun.objects.exists()
